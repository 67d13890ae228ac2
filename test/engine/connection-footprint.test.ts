import type { IncomingMessage } from 'node:http';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { expect } from 'chai';
import { enginePatches } from '../../lib/engine/index.js';
import { FAST_PATH, startServer, type TestServer } from '../support/server.js';
import { ack, next } from '../support/wait.js';

// A full garbage collection on demand, without starting mocha with --expose-gc.
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

/** Keeps weak references to every HTTP request (plain and upgrade) the server receives from now on. */
function trackRequests(srv: TestServer): WeakRef<IncomingMessage>[] {
  const refs: WeakRef<IncomingMessage>[] = [];
  const track = (req: IncomingMessage): void => void refs.push(new WeakRef(req));
  srv.app.http.server.prependListener('request', track);
  srv.app.http.server.prependListener('upgrade', track);
  return refs;
}

/** How many of the tracked requests are still reachable after a full collection. */
async function survivors(refs: readonly WeakRef<IncomingMessage>[]): Promise<number> {
  // A WeakRef read in this turn keeps its target alive until the turn ends: collect in a fresh one.
  await nextTurn();
  collectGarbage();
  return refs.filter((ref) => ref.deref() !== undefined).length;
}

/** What a run on the libraries' own path (FAST_PATH=off) keeps instead: at least the handshake request. */
async function expectReleased(refs: readonly WeakRef<IncomingMessage>[]): Promise<void> {
  if (FAST_PATH) expect(await survivors(refs)).to.equal(0);
  else expect(await survivors(refs)).to.be.greaterThan(0);
}

describe('connection footprint', () => {
  it(`is ${FAST_PATH ? '' : 'not '}reported active for the service's server`, async () => {
    const srv = await startServer();
    const { connectionFootprint } = enginePatches(srv.app.io);
    expect(connectionFootprint.active, connectionFootprint.reason).to.equal(FAST_PATH);
  });

  it(`${FAST_PATH ? 'releases' : 'keeps (fast path off)'} the handshake request of a WebSocket connection once it is connected`, async () => {
    const srv = await startServer();
    const refs = trackRequests(srv);
    const client = await srv.connect('/layout', { transports: ['websocket'] });
    expect(await ack(client, 'JOIN', { room: 'r', name: 'A' })).to.deep.equal({ ok: true });
    expect(refs).to.have.length(1);
    await expectReleased(refs);
    // The connection still works, and the handshake still carries what Socket.IO took from the request.
    expect(await ack(client, 'CLIENTS', { room: 'r' })).to.deep.include({ clients: ['A'] });
    const [socket] = await srv.app.io.of('/layout').fetchSockets();
    expect(socket?.handshake.url).to.match(/^\/socket\.io\/\?EIO=4&transport=websocket/);
    expect(socket?.handshake.query.transport).to.equal('websocket');
    expect(socket?.handshake.secure).to.equal(false);
    expect(socket?.handshake.headers.host).to.match(/^127\.0\.0\.1:\d+$/);
  });

  it(`${FAST_PATH ? 'releases' : 'keeps (fast path off)'} the long-polling requests and the upgrade request once upgraded to WebSocket`, async () => {
    const srv = await startServer();
    const refs = trackRequests(srv);
    const client = await srv.connect('/layout');
    await new Promise<void>((resolve) => {
      if (client.io.engine.transport.name === 'websocket') resolve();
      else client.io.engine.once('upgrade', () => resolve());
    });
    expect(await ack(client, 'JOIN', { room: 'r', name: 'A' })).to.deep.equal({ ok: true });
    expect(refs.length).to.be.greaterThan(1);
    await expectReleased(refs);
    expect(await ack(client, 'CLIENTS', { room: 'r' })).to.deep.include({ clients: ['A'] });
  });

  it('keeps a long-polling-only connection working, listeners included', async () => {
    const srv = await startServer();
    const [a, b] = await Promise.all([
      srv.connect('/layout', { transports: ['polling'] }),
      srv.connect('/layout', { transports: ['polling'] }),
    ]);
    await ack(a, 'JOIN', { room: 'r', name: 'A' });
    await ack(b, 'JOIN', { room: 'r', name: 'B' });
    const event = next(b, 'EVENT');
    expect(await ack(a, 'NOTIFY', { room: 'r', message: 'hi' })).to.deep.equal({ ok: true });
    expect(await event).to.deep.equal({ sender: 'A', room: 'r', message: 'hi' });
    expect(await ack(a, 'NO_SUCH_EVENT', {})).to.deep.include({ ok: false });
  });
});
