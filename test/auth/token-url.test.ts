import { expect } from 'chai';
import legacyIo from 'socket.io-client-v2';
import { parseSitesFile } from '../../lib/config/sites-file.js';
import { reply, startBackend, tokenBackend } from '../support/backend.js';
import { DEADLINE_MS } from '../support/deadlines.js';
import { freePort } from '../support/net.js';
import { startServer, type TestServer } from '../support/server.js';
import { onTeardown } from '../support/teardown.js';
import { ack, next } from '../support/wait.js';

/**
 * A service with site `shop` authenticating against `authUrl` with scheme `Token`. The service's own deadline
 * on the backend is a test deadline too unless a test is about it: a backend that answers must not be
 * timed out because the machine is busy.
 */
function shopServer(authUrl: string, timeoutMs = DEADLINE_MS): Promise<TestServer> {
  const access = parseSitesFile({ sites: { shop: { auth: { mode: 'token-url', url: authUrl, scheme: 'Token', timeoutMs } } } }, 'test', {});
  return startServer({ access });
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
});
