import { get } from 'node:http';
import { expect } from 'chai';
import WebSocket from 'ws';
import type { LimitHit } from '../../lib/core/types.js';
import { pollingHandshake, websocketHandshake, type HandshakeAnswer } from '../support/handshake.js';
import { startServer, type TestServer } from '../support/server.js';
import { withDeadline } from '../support/wait.js';

/** What a refused handshake is answered, on either transport. */
function expectRefused(answer: WebSocket | HandshakeAnswer, message: RegExp): HandshakeAnswer {
  if (answer instanceof WebSocket) throw new Error('the WebSocket handshake was admitted');
  expect(answer.status).to.equal(429);
  expect(answer.headers['content-type']).to.equal('application/json');
  const body = JSON.parse(answer.body) as { ok: unknown; error: { code: unknown; message: string } };
  expect(body).to.have.keys('ok', 'error');
  expect(body.ok).to.equal(false);
  expect(body.error).to.have.keys('code', 'message');
  expect(body.error.code).to.equal('RATE_LIMITED');
  expect(body.error.message).to.match(message);
  return answer;
}

function expectAdmitted(answer: WebSocket | HandshakeAnswer): void {
  if (answer instanceof WebSocket) return;
  expect(answer.status, answer.body).to.equal(200);
  expect(answer.body).to.match(/^0\{"sid":/);
}

function recordHits(server: TestServer): LimitHit[] {
  const hits: LimitHit[] = [];
  server.app.hooks.on('limited', (hit) => hits.push(hit));
  return hits;
}

/**
 * A GET on a connection of its own; resolves with the status once the server has also closed the
 * connection (it frees a refused handshake's slot before it closes it).
 */
function closedRequest(url: string, headers: Record<string, string>): Promise<number> {
  const done = new Promise<number>((resolve, reject) => {
    const req = get(url, { agent: false, headers });
    req.once('response', (res) => {
      res.resume();
      res.socket.once('close', () => resolve(res.statusCode ?? 0));
    });
    req.once('error', reject);
  });
  return withDeadline(done, `GET ${url}`);
}

const TOO_MANY = /too many connections from 127\.0\.0\.1: at most 3 at once/;

describe('connections per address', () => {
  it('refuses a connection past the cap (HTTP 429, both transports) while another address connects; a close frees a slot', async () => {
    const server = await startServer({ maxConnectionsPerAddress: 3, connectRate: 0 });
    const hits = recordHits(server);
    const clients = [await server.connect('/layout'), await server.connect('/layout'), await server.connect('/layout')];

    expectRefused(await pollingHandshake(server.url), TOO_MANY);
    expectRefused(await websocketHandshake(server.url), TOO_MANY);
    const refused = await server.refused('/layout');
    expect(refused.message).to.match(/error/);
    expect(hits).to.deep.include({ limit: 'connections-per-address', action: 'refused', address: '127.0.0.1' });

    // Another source address has slots of its own, on either transport.
    expectAdmitted(await pollingHandshake(server.url, { localAddress: '127.0.0.2' }));
    expectAdmitted(await websocketHandshake(server.url, { localAddress: '127.0.0.2' }));

    // The slot is the Engine.IO connection's: freed when it closes, which follows the namespace's disconnect.
    const [first] = clients;
    const conn = server.serverSocket('/layout', first?.id).conn;
    const closed = withDeadline(new Promise((resolve) => conn.once('close', resolve)), 'the server to close the connection');
    first?.disconnect();
    await closed;
    await server.connect('/layout');
    expectRefused(await pollingHandshake(server.url), TOO_MANY);
  });

  it('gives a refused or failed handshake its slot back', async () => {
    const server = await startServer({ maxConnectionsPerAddress: 1, connectRate: 0 });
    // A handshake Engine.IO itself refuses (an unknown transport), and a WebSocket upgrade that `ws` aborts
    // (a malformed key); each answered and its connection closed before the next one is tried.
    expect(await closedRequest(`${server.url}/socket.io/?EIO=4&transport=carrier-pigeon`, {})).to.equal(400);
    const upgrade = { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'not a key' };
    expect(await closedRequest(`${server.url}/socket.io/?EIO=4&transport=websocket`, upgrade)).to.equal(400);
    await server.connect('/layout');
  });

  it('behind --trust-proxy, counts the forwarded address: another client of the proxy still connects', async () => {
    const server = await startServer({ maxConnectionsPerAddress: 2, connectRate: 0, trustProxy: ['loopback'] });
    const from = (address: string) => ({ extraHeaders: { 'x-forwarded-for': address } });
    await server.connect('/layout', from('203.0.113.1'));
    await server.connect('/layout', from('203.0.113.1'));
    const refused = expectRefused(
      await pollingHandshake(server.url, { headers: { 'x-forwarded-for': '203.0.113.1' } }),
      /too many connections from 203\.0\.113\.1/,
    );
    expect(refused.headers['retry-after']).to.equal(undefined);
    await server.refused('/layout', from('203.0.113.1'));
    await server.connect('/layout', from('203.0.113.2'));
    await server.connect('/layout', from('203.0.113.2'));
    // The proxy's own connections (no header) are its own address's.
    await server.connect('/layout');
  });

  it('without --trust-proxy, ignores X-Forwarded-For: a spoofed header does not bypass the cap', async () => {
    const server = await startServer({ maxConnectionsPerAddress: 2, connectRate: 0 });
    const from = (address: string) => ({ extraHeaders: { 'x-forwarded-for': address } });
    await server.connect('/layout', from('203.0.113.1'));
    await server.connect('/layout', from('203.0.113.2'));
    expectRefused(await pollingHandshake(server.url, { headers: { 'x-forwarded-for': '203.0.113.3' } }), /from 127\.0\.0\.1: at most 2/);
    expectRefused(await websocketHandshake(server.url, { headers: { 'x-forwarded-for': '203.0.113.4' } }), /from 127\.0\.0\.1/);
  });
});

describe('connect rate per address', () => {
  it('refuses a burst above --connect-rate (HTTP 429, Retry-After: 1) while another address connects', async () => {
    const rate = 5;
    const server = await startServer({ connectRate: rate });
    const hits = recordHits(server);
    const burst = await Promise.all(Array.from({ length: rate + 3 }, () => pollingHandshake(server.url)));
    const admitted = burst.filter((answer) => answer.status === 200);
    expect(admitted).to.have.length(rate);
    const refused = burst.filter((answer) => answer.status !== 200);
    expect(refused).to.have.length(3);
    for (const answer of refused) expectRefused(answer, /too many new connections from 127\.0\.0\.1: at most 5 per second/);
    expectRefused(await websocketHandshake(server.url), /at most 5 per second/);
    expect(hits.filter((hit) => hit.limit === 'connect-rate')).to.have.length(4);
    expect(hits[0]).to.deep.equal({ limit: 'connect-rate', action: 'refused', address: '127.0.0.1' });

    expectAdmitted(await pollingHandshake(server.url, { localAddress: '127.0.0.2' }));

    // The refill itself is the token bucket's, proven with its clock in test/limits/token-bucket.test.ts:
    // here only that the server names the wait, without a test waiting a second for it.
    expect(Number(refused[0]?.headers['retry-after'])).to.equal(1);
  });
});
