import { expect } from 'chai';
import type { LimitHit } from '../../lib/core/types.js';
import { parseSitesFile } from '../../lib/config/sites-file.js';
import { expectErrorBody, postBusMessage, postSend, request, type HttpResult } from '../support/http.js';
import { startServer, type TestServer } from '../support/server.js';
import { ack, barrier, collect } from '../support/wait.js';

const KEY = 'shop-secret-key';

/** A server allowing one HTTP request per second per address (X-Forwarded-For believed from loopback), recording its limit hits. */
async function slowHttpServer(): Promise<{ srv: TestServer; hits: LimitHit[] }> {
  const access = parseSitesFile({ sites: { shop: { auth: { mode: 'none' }, apiKey: KEY } } }, 'test', {});
  const srv = await startServer({ httpRate: 1, trustProxy: ['loopback'], access });
  const hits: LimitHit[] = [];
  srv.app.hooks.on('limited', (hit) => hits.push(hit));
  return { srv, hits };
}

/** `count` POST /bus-message/<room> sent at once, as from `address`. */
function busFlood(srv: TestServer, room: string, count: number, address: string): Promise<HttpResult[]> {
  return Promise.all(
    Array.from({ length: count }, (_, n) =>
      request(`${srv.url}/bus-message/${room}`, {
        method: 'POST',
        body: JSON.stringify({ n }),
        headers: { 'content-type': 'application/json', 'x-forwarded-for': address },
      }),
    ),
  );
}

describe('--http-rate (HTTP requests per client address)', () => {
  it('answers a flooding address 429 RATE_LIMITED with Retry-After, publishes only what it admitted, and serves another address', async () => {
    const { srv, hits } = await slowHttpServer();
    const member = await srv.connect('/bus');
    await ack(member, 'JOIN', { room: 'r', name: 'member' });
    const events = collect(member, 'EVENT');

    const answers = await busFlood(srv, 'r', 20, '203.0.113.7');
    const admitted = answers.filter((answer) => answer.status === 200);
    const refused = answers.filter((answer) => answer.status === 429);
    // One token a second, twenty requests at once: most are refused, whatever the machine's speed.
    expect(admitted.length + refused.length).to.equal(20);
    expect(admitted.length).to.be.at.least(1);
    expect(refused.length).to.be.at.least(10);
    for (const answer of refused) {
      expectErrorBody(answer, 429, 'RATE_LIMITED', /too many requests from 203\.0\.113\.7: at most 1 per second/);
      expect(Number(answer.headers.get('retry-after'))).to.be.at.least(1);
    }
    expect(hits).to.have.lengthOf(refused.length);
    expect(hits[0]).to.deep.equal({ limit: 'http-rate', action: 'refused', address: '203.0.113.7' });

    // Only the admitted requests reached the room (published before their answer, so before this round trip).
    await barrier(member);
    expect(events).to.have.lengthOf(admitted.length);
    // Another address has its own budget, and the sockets are not affected.
    const other = await request(`${srv.url}/healthcheck`, { headers: { 'x-forwarded-for': '198.51.100.1' } });
    expect(other.status).to.equal(200);
    expect(await ack(member, 'CLIENTS', { room: 'r' })).to.deep.equal({ ok: true, room: 'r', clients: ['member'] });
  });

  it('counts unknown paths and the read-only routes too', async () => {
    const { srv } = await slowHttpServer();
    const headers = { 'x-forwarded-for': '203.0.113.8' };
    const answers = await Promise.all(
      ['/healthcheck', '/metrics', '/readyz', '/nope', '/healthcheck'].map((path) => request(`${srv.url}${path}`, { headers })),
    );
    expect(answers.filter((answer) => answer.status === 429)).to.have.length.at.least(3);
  });

  it('does not count POST /send: a site backend pushes as fast as its users need, with its API key', async () => {
    const { srv, hits } = await slowHttpServer();
    const answers = await Promise.all(
      Array.from({ length: 20 }, () =>
        postSend(
          srv,
          'site=shop',
          { rooms: ['staff'], event: 'update' },
          { authorization: `Bearer ${KEY}`, 'x-forwarded-for': '203.0.113.9' },
        ),
      ),
    );
    expect(answers.map((answer) => answer.status)).to.deep.equal(Array.from({ length: 20 }, () => 200));
    expect(hits).to.deep.equal([]);
    // The address's budget is untouched by the pushes.
    expect((await postBusMessage(srv, 'r', '{}')).status).to.equal(200);
  });
});
