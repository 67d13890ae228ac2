import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { expect } from 'chai';
import { CLIENT_NOT_BUILT } from '../../lib/http/client-script.js';
import { expectErrorBody, request } from '../support/http.js';
import { startServer } from '../support/server.js';
import { tempDir } from '../support/temp.js';

describe('GET /client.js and GET /socket.io.js', () => {
  it('serves the SDK bundle (ESM, revalidated by ETag), which a module imports', async () => {
    const dir = await tempDir();
    const bundle = join(dir, 'client.browser.js');
    await promisify(execFile)(process.execPath, ['--import', 'tsx', 'scripts/build-client.ts', bundle], { timeout: 60_000 });
    const srv = await startServer({}, { clientBundle: bundle });
    const res = await request(`${srv.url}/client.js`);
    expect(res.status).to.equal(200);
    expect(res.type).to.equal('application/javascript; charset=utf-8');
    expect(res.headers.get('cache-control')).to.equal('public, max-age=0');
    const etag = res.headers.get('etag') ?? '';
    expect((await request(`${srv.url}/client.js`, { headers: { 'if-none-match': etag } })).status).to.equal(304);

    // A module imports the served file as a browser would (connecting needs a browser's WebSocket).
    const served = join(dir, 'served.mjs');
    await writeFile(served, String(res.body));
    const sdk = (await import(pathToFileURL(served).href)) as Record<string, unknown>;
    for (const name of ['connectLayout', 'connectBus', 'connectLobby', 'connectTrigger', 'connectSite', 'ProtocolError', 'TimeoutError'])
      expect(sdk[name], name).to.be.a('function');
  });

  it('answers 404 with the reason when the bundle is not built', async () => {
    const dir = await tempDir();
    const srv = await startServer({}, { clientBundle: join(dir, 'missing.js') });
    expectErrorBody(await request(`${srv.url}/client.js`), 404, 'NOT_FOUND', new RegExp(CLIENT_NOT_BUILT.slice(0, 30)));
  });

  it('serves the Socket.IO client at /socket.io.js, the bytes Socket.IO serves at /socket.io/socket.io.js', async () => {
    const srv = await startServer();
    const plain = await request(`${srv.url}/socket.io.js`);
    const own = await request(`${srv.url}/socket.io/socket.io.js`);
    expect(plain.status).to.equal(200);
    expect(plain.type).to.equal('application/javascript; charset=utf-8');
    expect(plain.body).to.equal(own.body);
  });
});
