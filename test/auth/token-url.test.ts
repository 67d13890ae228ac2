import { expect } from 'chai';
import legacyIo from 'socket.io-client-v2';
import type { ServiceOptions } from '../../lib/config/options.js';
import { parseSitesFile } from '../../lib/config/sites-file.js';
import { reply, startBackend, tokenBackend } from '../support/backend.js';
import { DEADLINE_MS } from '../support/deadlines.js';
import { freePort } from '../support/net.js';
import { startServer, type TestServer } from '../support/server.js';
import { onTeardown } from '../support/teardown.js';
import { ack, next, withDeadline } from '../support/wait.js';
import { QUEUED_PER_CONNECTION } from '../../lib/auth/token-backend.js';
import { DEFAULT_AUTH_MAX_RESPONSE_BYTES } from '../../lib/config/access.js';

/**
 * A service with site `shop` authenticating against `authUrl` with scheme `Token`. The service's own deadline
 * on the backend is a test deadline too unless a test is about it: a backend that answers must not be
 * timed out because the machine is busy.
 */
function shopServer(
  authUrl: string,
  timeoutMs = DEADLINE_MS,
  settings: Record<string, number> = {},
  options: Partial<ServiceOptions> = {},
): Promise<TestServer> {
  const auth = { mode: 'token-url', url: authUrl, scheme: 'Token', timeoutMs, ...settings };
  const access = parseSitesFile({ sites: { shop: { auth } } }, 'test', {});
  return startServer({ access, ...options });
}

describe('auth mode token-url', () => {
  it('asks the auth URL with "<scheme> <token>" from ?token= and joins the rooms it answers', async () => {
    const backend = await tokenBackend({ abc: ['user_1', 'staff'] }, 'Token');
    const srv = await shopServer(`${backend.url}/rooms`);
    const socket = await srv.connect('/shop', { query: { token: 'abc' } });
    const asked = await backend.nth(1);
    expect(asked.method).to.equal('GET');
    expect(asked.url).to.equal('/rooms');
    expect(asked.headers.authorization).to.equal('Token abc');
    expect(srv.roomsOf('/shop', socket.id)).to.have.members(['room:user_1', 'room:staff']);
  });

  it("takes the token from auth: { token } too, and from legacy v2 clients' query", async () => {
    const backend = await tokenBackend({ v4: ['a'], v2: ['b'] }, 'Token');
    const srv = await shopServer(`${backend.url}/rooms`);
    const modern = await srv.connect('/shop', { auth: { token: 'v4' } });
    expect(srv.roomsOf('/shop', modern.id)).to.deep.equal(['room:a']);
    await srv.connectLegacy('/shop', { query: { token: 'v2' } });
    expect((await backend.nth(2)).headers.authorization).to.equal('Token v2');
  });

  it('tells a refused legacy v2 client the code and message (its error event)', async () => {
    const backend = await tokenBackend({}, 'Token');
    const srv = await shopServer(`${backend.url}/rooms`);
    const legacy = legacyIo(`${srv.url}/shop`, { forceNew: true, reconnection: false, query: { token: 'bad' } });
    onTeardown(() => legacy.close());
    expect(await next(legacy, 'error')).to.deep.equal({ code: 'UNAUTHORIZED', message: 'the site rejected the token (HTTP 401)' });
  });

  it('refuses a handshake without a token as UNAUTHORIZED without asking the backend', async () => {
    const backend = await tokenBackend({}, 'Token');
    const srv = await shopServer(`${backend.url}/rooms`);
    const err = await srv.refused('/shop');
    expect(err.message).to.match(/token is required/);
    expect(err.data?.code).to.equal('UNAUTHORIZED');
    expect(backend.requests).to.have.lengthOf(0);
  });

  it('turns a 401 from the backend into UNAUTHORIZED', async () => {
    const backend = await tokenBackend({ good: ['r'] }, 'Token');
    const srv = await shopServer(`${backend.url}/rooms`);
    const err = await srv.refused('/shop', { query: { token: 'bad' } });
    expect(err.data?.code).to.equal('UNAUTHORIZED');
    expect(err.message).to.equal('the site rejected the token (HTTP 401)');
  });

  const backendFailures: [string, (res: Parameters<Parameters<typeof startBackend>[0]>[1]) => void, RegExp][] = [
    ['another status', (res) => reply(res, 500, { error: 'boom' }), /answered HTTP 500/],
    ['a body that is not JSON', (res) => reply(res, 200, 'not json'), /did not answer JSON/],
    ['JSON that is not a list of room names', (res) => reply(res, 200, { rooms: ['a'] }), /JSON array of at most/],
    ['an empty room name', (res) => reply(res, 200, ['ok', '']), /JSON array of at most/],
  ];
  for (const [what, answer, message] of backendFailures) {
    it(`turns ${what} from the backend into AUTH_UNAVAILABLE`, async () => {
      const backend = await startBackend((_request, res) => answer(res));
      const srv = await shopServer(`${backend.url}/rooms`);
      const err = await srv.refused('/shop', { query: { token: 't' } });
      expect(err.data?.code).to.equal('AUTH_UNAVAILABLE');
      expect(err.message).to.match(message);
    });
  }

  it('fails a backend that never answers after its timeout, with AUTH_UNAVAILABLE', async () => {
    // The backend holds every request open: only the service's own deadline can end the handshake.
    const backend = await startBackend(() => undefined);
    const srv = await shopServer(`${backend.url}/rooms`, 200);
    const err = await srv.refused('/shop', { query: { token: 't' } });
    expect(err.data?.code).to.equal('AUTH_UNAVAILABLE');
    expect(err.message).to.equal('the auth backend did not answer within 200 ms');
  });

  it('fails an unreachable backend with AUTH_UNAVAILABLE', async () => {
    // A port that was just bound and released: nothing listens on it.
    const srv = await shopServer(`http://127.0.0.1:${await freePort()}/rooms`);
    const err = await srv.refused('/shop', { query: { token: 't' } });
    expect(err.data?.code).to.equal('AUTH_UNAVAILABLE');
    expect(err.message).to.equal('cannot reach the auth backend');
  });

  it('guards a built-in namespace given the mode; the others stay open', async () => {
    const backend = await tokenBackend({ tv: ['living-room'] }, 'Token');
    const access = parseSitesFile(
      { namespaces: { layout: { auth: { mode: 'token-url', url: `${backend.url}/rooms`, scheme: 'Token' } } } },
      'test',
      {},
    );
    const srv = await startServer({ access });
    expect((await srv.refused('/layout')).data?.code).to.equal('UNAUTHORIZED');
    const layout = await srv.connect('/layout', { auth: { token: 'tv' } });
    expect(await ack(layout, 'JOIN', { room: 'r1', name: 'tv' })).to.deep.equal({ ok: true });
    expect(srv.roomsOf('/layout', layout.id)).to.have.members(['room:living-room', 'room:r1']);
    await srv.connect('/bus');
  });

  it('refuses a backend that redirects, to another origin or its own, without following it', async () => {
    const elsewhere = await tokenBackend({ t: ['granted-elsewhere'] }, 'Token');
    const redirecting = await startBackend((request, res) => {
      const location = request.url === '/rooms' ? `${elsewhere.url}/rooms` : '/rooms';
      res.writeHead(request.url === '/rooms' ? 302 : 307, { location }).end();
    });
    for (const path of ['/rooms', '/same-origin']) {
      const srv = await shopServer(`${redirecting.url}${path}`);
      const err = await srv.refused('/shop', { query: { token: 't' } });
      expect(err.data?.code).to.equal('AUTH_UNAVAILABLE');
      expect(err.message).to.match(/answered HTTP 30[27]: redirects are not followed/);
    }
    expect(elsewhere.requests).to.have.lengthOf(0);
    expect(redirecting.requests.map((request) => request.url)).to.deep.equal(['/rooms', '/same-origin']);
  });

  it('refuses an answer past the size cap while the backend is still sending it, reading no more than the cap', async () => {
    const TOTAL = 10 * 1024 * 1024;
    const CHUNK = 64 * 1024;
    let written = 0;
    let closedEarly: Promise<number> | undefined;
    // Chunked (no content-length), with backpressure: only what the service reads can leave the backend.
    const backend = await startBackend((_request, res) => {
      closedEarly = new Promise((resolve) => res.once('close', () => resolve(written)));
      res.writeHead(200, { 'content-type': 'application/json' });
      const pump = (): void => {
        while (written < TOTAL) {
          written += CHUNK;
          if (!res.write(Buffer.alloc(CHUNK, 0x20))) {
            res.once('drain', pump);
            return;
          }
        }
        res.end();
      };
      pump();
    });
    const srv = await shopServer(`${backend.url}/rooms`);
    const err = await srv.refused('/shop', { query: { token: 't' } });
    expect(err.data?.code).to.equal('AUTH_UNAVAILABLE');
    expect(err.message).to.equal(`the auth backend answered more than ${DEFAULT_AUTH_MAX_RESPONSE_BYTES} bytes`);
    if (!closedEarly) throw new Error('the backend was not asked');
    // The service hung up mid-answer: the backend never got to write it all (what it did fits the sockets' buffers).
    expect(await withDeadline(closedEarly, 'the backend connection to close')).to.be.below(TOTAL);
  });

  it('refuses an answer whose declared length is past the size cap', async () => {
    const backend = await startBackend((_request, res) => reply(res, 200, JSON.stringify(['x'.repeat(200)])));
    const srv = await shopServer(`${backend.url}/rooms`, DEADLINE_MS, { maxResponseBytes: 100 });
    const err = await srv.refused('/shop', { query: { token: 't' } });
    expect(err.message).to.equal('the auth backend answered more than 100 bytes');
  });

  it('asks the backend over at most maxConnections keep-alive connections, whatever the number of handshakes', async () => {
    const HANDSHAKES = 200;
    const CAP = 4;
    const backend = await tokenBackend({ t: ['r'] }, 'Token');
    // All at once from one address: without the connect rate, which would refuse most before they reach auth.
    const srv = await shopServer(`${backend.url}/rooms`, DEADLINE_MS * 4, { maxConnections: CAP }, { connectRate: 0 });
    await Promise.all(Array.from({ length: HANDSHAKES }, () => srv.connect('/shop', { auth: { token: 't' }, transports: ['websocket'] })));
    expect(backend.requests).to.have.lengthOf(HANDSHAKES);
    expect(backend.connections).to.be.within(1, CAP);
  });

  it('fails handshakes past the queue bound at once with AUTH_UNAVAILABLE while the backend stalls', async () => {
    const EXTRA = 5;
    const backend = await startBackend(() => undefined);
    // Without the failed-auth budget, which counts attempts in flight too, and the connect rate: either would refuse these first.
    const srv = await shopServer(`${backend.url}/rooms`, 60_000, { maxConnections: 1 }, { maxAuthFailures: 0, connectRate: 0 });
    const waiting = 1 + QUEUED_PER_CONNECTION;
    const attempts = Array.from({ length: waiting + EXTRA }, () =>
      srv.refused('/shop', { auth: { token: 't' }, transports: ['websocket'] }),
    );
    // The stalled ones never settle before teardown: only the refusals past the bound arrive.
    const busy: string[] = [];
    await withDeadline(
      new Promise<void>((resolve) => {
        for (const attempt of attempts) {
          void attempt.then((err) => {
            busy.push(`${err.data?.code ?? ''}: ${err.message}`);
            if (busy.length === EXTRA) resolve();
          });
        }
      }),
      `${EXTRA} handshakes to be refused as busy`,
    );
    expect(busy).to.deep.equal(Array(EXTRA).fill('AUTH_UNAVAILABLE: the auth backend is busy: too many handshakes are waiting for it'));
    expect(backend.connections).to.equal(1);
  });
});
