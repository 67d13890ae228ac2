import { expect } from 'chai';
import { request } from '../support/http.js';
import { startServer } from '../support/server.js';

describe('the service’s own pages: / and /playground', () => {
  it('answers / with a page linking to the playground and the protocol document', async () => {
    const server = await startServer();
    const res = await request(`${server.url}/`);
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.match(/^text\/html/);
    expect(String(res.body)).to.include('href="/playground"').and.include('href="/asyncapi.json"');
  });

  it('serves the playground page, its script and style, under a policy that allows this origin only', async () => {
    const server = await startServer();
    const page = await request(`${server.url}/playground`);
    expect(page.status).to.equal(200);
    expect(String(page.body)).to.include('<script type="module" src="/playground/playground.js">');
    expect(page.headers.get('content-security-policy')).to.include("default-src 'self'").and.include('connect-src');
    expect(page.headers.get('x-content-type-options')).to.equal('nosniff');
    expect((await request(`${server.url}/playground/`)).body).to.equal(page.body);
    const script = await request(`${server.url}/playground/playground.js`);
    expect(script.headers.get('content-type')).to.match(/^text\/javascript/);
    expect(String(script.body)).to.include("import('/client.js')");
    expect((await request(`${server.url}/playground/playground.css`)).headers.get('content-type')).to.match(/^text\/css/);
  });

  it('answers 304 to a revalidation with the same ETag, and 404 for any other file', async () => {
    const server = await startServer();
    const page = await request(`${server.url}/playground`);
    const etag = page.headers.get('etag') ?? '';
    expect(etag).to.match(/^".+"$/);
    expect((await request(`${server.url}/playground`, { headers: { 'if-none-match': etag } })).status).to.equal(304);
    for (const path of ['/playground/other.js', '/playground/%2e%2e/package.json', '/web/index.html']) {
      expect((await request(`${server.url}${path}`)).status, path).to.equal(404);
    }
  });
});
