import { expect } from 'chai';
import { createServer, type AddressInfo } from 'node:net';
import { io as ioV4, type ManagerOptions, type Socket, type SocketOptions } from 'socket.io-client';
import legacyIo from 'socket.io-client-v2';
import { parseSitesFile } from '../../lib/config/sites-file.js';
import { reply, startBackend, type Backend } from '../support/backend.js';
import { startServer, type TestServer } from '../support/server.js';
import { onTeardown } from '../support/teardown.js';
import { ack, next, withDeadline } from '../support/wait.js';

interface ConnectError extends Error {
  readonly data?: { readonly code?: string; readonly message?: string };
}

/** A service with site `shop` authenticating against `authUrl` with scheme `Token`. */
function shopServer(authUrl: string, timeoutMs = 300): Promise<TestServer> {
  const access = parseSitesFile({ sites: { shop: { auth: { mode: 'token-url', url: authUrl, scheme: 'Token', timeoutMs } } } }, 'test', {});
  return startServer({ access });
}

/** A backend that grants the rooms listed for each token, and answers 401 to any other token. */
function roomsBackend(grants: Record<string, string[]>): Promise<Backend> {
  return startBackend((request, res) => {
    const token = /^Token (.+)$/.exec(request.headers.authorization ?? '')?.[1];
    const rooms = token === undefined ? undefined : grants[token];
    reply(res, rooms ? 200 : 401, rooms ?? { error: 'unknown token' });
  });
}

/** Connects expecting the handshake to be refused; resolves with the connect_error. */
function refused(url: string, options: Partial<ManagerOptions & SocketOptions> = {}): Promise<ConnectError> {
  const socket: Socket = ioV4(url, { forceNew: true, reconnection: false, ...options });
  onTeardown(() => socket.disconnect());
  return next<ConnectError>(socket, 'connect_error');
}

/** A URL on which nothing listens: a port that was just bound, then released. */
async function closedPortUrl(): Promise<string> {
  const server = createServer();
  await withDeadline(new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve)), 'a port to bind');
  const { port } = server.address() as AddressInfo;
  await withDeadline(new Promise<void>((resolve) => server.close(() => resolve())), 'the port to be released');
  return `http://127.0.0.1:${port}/rooms`;
}

function serverRooms(srv: TestServer, ns: string, id: string | undefined): string[] {
  const socket = id === undefined ? undefined : srv.app.io.of(ns).sockets.get(id);
  if (!socket) throw new Error(`no socket ${String(id)} on ${ns}`);
  return [...socket.rooms].filter((room) => room !== socket.id);
}

describe('auth mode token-url', () => {
  it('asks the auth URL with "<scheme> <token>" from ?token= and joins the rooms it answers', async () => {
    const backend = await roomsBackend({ abc: ['user_1', 'staff'] });
    const srv = await shopServer(`${backend.url}/rooms`);
    const socket = await srv.connect('/shop', { query: { token: 'abc' } });
    const asked = await backend.nth(1);
    expect(asked.method).to.equal('GET');
    expect(asked.url).to.equal('/rooms');
    expect(asked.headers.authorization).to.equal('Token abc');
    expect(serverRooms(srv, '/shop', socket.id)).to.have.members(['room:user_1', 'room:staff']);
  });

  it('takes the token from auth: { token } too, and from legacy v2 clients\' query', async () => {
    const backend = await roomsBackend({ v4: ['a'], v2: ['b'] });
    const srv = await shopServer(`${backend.url}/rooms`);
    const modern = await srv.connect('/shop', { auth: { token: 'v4' } });
    expect(serverRooms(srv, '/shop', modern.id)).to.deep.equal(['room:a']);
    await srv.connectLegacy('/shop', { query: { token: 'v2' } });
    expect((await backend.nth(2)).headers.authorization).to.equal('Token v2');
  });

  it('tells a refused legacy v2 client the code and message (its error event)', async () => {
    const backend = await roomsBackend({});
    const srv = await shopServer(`${backend.url}/rooms`);
    const legacy = legacyIo(`${srv.url}/shop`, { forceNew: true, reconnection: false, query: { token: 'bad' } });
    onTeardown(() => legacy.close());
    expect(await next(legacy, 'error')).to.deep.equal({ code: 'UNAUTHORIZED', message: 'the site rejected the token (HTTP 401)' });
  });

  it('refuses a handshake without a token as UNAUTHORIZED without asking the backend', async () => {
    const backend = await roomsBackend({});
    const srv = await shopServer(`${backend.url}/rooms`);
    const err = await refused(`${srv.url}/shop`);
    expect(err.message).to.match(/token is required/);
    expect(err.data?.code).to.equal('UNAUTHORIZED');
    expect(backend.requests).to.have.lengthOf(0);
  });

  it('turns a 401 from the backend into UNAUTHORIZED', async () => {
    const backend = await roomsBackend({ good: ['r'] });
    const srv = await shopServer(`${backend.url}/rooms`);
    const err = await refused(`${srv.url}/shop`, { query: { token: 'bad' } });
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
      const err = await refused(`${srv.url}/shop`, { query: { token: 't' } });
      expect(err.data?.code).to.equal('AUTH_UNAVAILABLE');
      expect(err.message).to.match(message);
    });
  }

  it('fails a backend that never answers after its timeout, with AUTH_UNAVAILABLE', async () => {
    // The backend holds every request open: only the service's own deadline can end the handshake.
    const backend = await startBackend(() => undefined);
    const srv = await shopServer(`${backend.url}/rooms`, 200);
    const err = await refused(`${srv.url}/shop`, { query: { token: 't' } });
    expect(err.data?.code).to.equal('AUTH_UNAVAILABLE');
    expect(err.message).to.equal('the auth backend did not answer within 200 ms');
  });

  it('fails an unreachable backend with AUTH_UNAVAILABLE', async () => {
    const srv = await shopServer(await closedPortUrl());
    const err = await refused(`${srv.url}/shop`, { query: { token: 't' } });
    expect(err.data?.code).to.equal('AUTH_UNAVAILABLE');
    expect(err.message).to.equal('cannot reach the auth backend');
  });

  it('guards a built-in namespace given the mode; the others stay open', async () => {
    const backend = await roomsBackend({ tv: ['living-room'] });
    const access = parseSitesFile({ namespaces: { layout: { auth: { mode: 'token-url', url: `${backend.url}/rooms`, scheme: 'Token' } } } }, 'test', {});
    const srv = await startServer({ access });
    expect((await refused(`${srv.url}/layout`)).data?.code).to.equal('UNAUTHORIZED');
    const layout = await srv.connect('/layout', { auth: { token: 'tv' } });
    expect(await ack(layout, 'JOIN', { room: 'r1', name: 'tv' })).to.deep.equal({ ok: true });
    expect(serverRooms(srv, '/layout', layout.id)).to.have.members(['room:living-room', 'room:r1']);
    await srv.connect('/bus');
  });
});
