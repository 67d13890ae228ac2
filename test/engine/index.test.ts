import { IncomingMessage } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, sep } from 'node:path';
import { expect } from 'chai';
import { transports } from 'engine.io';
import { Server } from 'socket.io';
import { Adapter } from 'socket.io-adapter';
import { createSocketServer, enginePatches } from '../../lib/engine/index.js';
import { isCoalescing } from '../../lib/engine/websocket-transport.js';
import { request } from '../support/http.js';
import { connectV4, FAST_PATH, startServer } from '../support/server.js';
import { ack, next } from '../support/wait.js';
import { recordLog } from '../support/log.js';
import { listenWith, packetsCreatedDuring, serverSocket, tcpOf, testBounds } from './support.js';

/**
 * A second copy of socket.io-adapter, as a nested install after an upgrade would give: the same files,
 * loaded again into modules of their own (the cache is put back afterwards, so nothing else sees it).
 */
function secondAdapterCopy(): typeof Adapter {
  const require = createRequire(import.meta.url);
  const entry = require.resolve('socket.io-adapter');
  const ownFiles = (): string[] => Object.keys(require.cache).filter((file) => file.startsWith(dirname(entry) + sep));
  const saved = ownFiles().map((file) => [file, require.cache[file]] as const);
  for (const [file] of saved) Reflect.deleteProperty(require.cache, file);
  try {
    return (require(entry) as { Adapter: typeof Adapter }).Adapter;
  } finally {
    for (const file of ownFiles()) Reflect.deleteProperty(require.cache, file);
    for (const [file, module] of saved) require.cache[file] = module;
  }
}

/** Node's listener table has a null prototype; the trimming rebuilds it as a compact class instance. */
function listenerTableIsNodes(emitter: unknown): boolean {
  return Object.getPrototypeOf((emitter as { _events: object })._events) === null;
}

describe('lib/engine: one install, per server, one switch', () => {
  it(`reports every patch ${FAST_PATH ? 'on' : 'off, switched off,'} for the service's server, read-only`, async () => {
    const srv = await startServer();
    const status = enginePatches(srv.app.io);
    for (const patch of ['websocketTransport', 'fastBroadcast', 'connectionFootprint'] as const) {
      expect(status[patch].active, `${patch}: ${String(status[patch].reason)}`).to.equal(FAST_PATH);
      if (!FAST_PATH) expect(status[patch].reason).to.match(/switched off/);
    }
    expect(status.directWrites).to.equal(0);
    expect(Object.isFrozen(status) && Object.isFrozen(status.fastBroadcast)).to.equal(true);
  });

  it('leaves a plain Socket.IO server in the same process on the libraries’ own paths', async () => {
    const srv = await startServer();
    const plain = await listenWith((httpServer) => new Server(httpServer));
    const [ours, theirs] = await Promise.all([
      srv.connect('/layout', { transports: ['websocket'] }),
      connectV4(`${plain.url}/`, { transports: ['websocket'] }),
    ]);
    await ack(ours, 'JOIN', { room: 'r', name: 'a' });
    const oursSocket = serverSocket(srv.app.io, '/layout', ours.id);
    const theirsSocket = serverSocket(plain.io, '/', theirs.id);
    void theirsSocket.join('r');

    // Engine.IO's own WebSocket transport, which ws writes uncorked.
    expect(theirsSocket.conn.transport.constructor).to.equal(transports.websocket);
    expect(isCoalescing(theirsSocket.conn.transport)).to.equal(false);
    expect(isCoalescing(oursSocket.conn.transport)).to.equal(FAST_PATH);
    theirsSocket.emit('DIRECT', 1);
    expect(tcpOf(theirsSocket).writableCorked).to.equal(0);
    const events = [next(theirs, 'EVENT'), next(ours, 'EVENT')];
    // Socket.IO's broadcast: a packet on Engine.IO's per-packet path, whichever broadcast the prototype has.
    const [theirsPackets] = packetsCreatedDuring([theirsSocket], () => plain.io.to('r').emit('EVENT', 'plain'));
    const [oursPackets] = packetsCreatedDuring([oursSocket], () => srv.app.io.of('/layout').to('room:r').emit('EVENT', 'ours'));
    expect(theirsPackets).to.equal(1);
    expect(oursPackets).to.equal(FAST_PATH ? 0 : 1);
    // Nor is it trimmed: its connection keeps the handshake request and Node's listener tables.
    expect(theirsSocket.conn.request).to.be.an.instanceOf(IncomingMessage);
    expect(listenerTableIsNodes(theirsSocket)).to.equal(true);

    const status = enginePatches(plain.io);
    for (const patch of ['websocketTransport', 'fastBroadcast', 'connectionFootprint'] as const) {
      expect(status[patch]).to.deep.equal({
        active: false,
        reason: 'this Socket.IO server was not built by lib/engine/ (createSocketServer)',
      });
    }
    expect(await Promise.all(events)).to.deep.equal(['plain', 'ours']);
  });

  it('runs a service with fastPath: false on the libraries’ own code, next to one with the run’s default', async () => {
    const [off, other] = await Promise.all([startServer({ fastPath: false }), startServer()]);
    const [client, otherClient] = await Promise.all([
      off.connect('/layout', { transports: ['websocket'] }),
      other.connect('/layout', { transports: ['websocket'] }),
    ]);
    await Promise.all([ack(client, 'JOIN', { room: 'r', name: 'a' }), ack(otherClient, 'JOIN', { room: 'r', name: 'b' })]);
    const socket = serverSocket(off.app.io, '/layout', client.id);
    const otherSocket = serverSocket(other.app.io, '/layout', otherClient.id);

    const status = enginePatches(off.app.io);
    for (const patch of ['websocketTransport', 'fastBroadcast', 'connectionFootprint'] as const) {
      expect(status[patch].active).to.equal(false);
      expect(status[patch].reason).to.match(/switched off/);
    }
    expect(socket.conn.transport.constructor).to.equal(transports.websocket);
    expect(packetsCreatedDuring([socket], () => off.app.io.of('/layout').to('room:r').emit('EVENT', 1))).to.deep.equal([1]);
    expect(socket.conn.request).to.be.an.instanceOf(IncomingMessage);
    // slimSocket, called by every protocol namespace, leaves this server's sockets alone.
    expect(listenerTableIsNodes(socket)).to.equal(true);
    expect(enginePatches(off.app.io).directWrites).to.equal(0);
    expect(await next(client, 'EVENT')).to.equal(1);

    // The other server keeps the run's setting.
    expect(isCoalescing(otherSocket.conn.transport)).to.equal(FAST_PATH);
    expect(listenerTableIsNodes(otherSocket)).to.equal(!FAST_PATH);
    expect(otherSocket.conn.request instanceof IncomingMessage).to.equal(!FAST_PATH);
  });

  it('keeps what Socket.IO’s attach does: options, the path, the client bundle, and close() closing the HTTP server', async () => {
    const { log, lines } = recordLog('warn');
    const srv = await listenWith((httpServer) =>
      createSocketServer(
        httpServer,
        { path: '/rt', allowEIO3: true, maxHttpBufferSize: 100, cors: { origin: 'https://app.example.com' } },
        { fastPath: FAST_PATH, log, bounds: testBounds().bounds },
      ),
    );
    expect(enginePatches(srv.io).websocketTransport.active).to.equal(FAST_PATH);
    const bundle = await request(`${srv.url}/rt/socket.io.js`, { headers: { origin: 'https://app.example.com' } });
    expect(bundle.status).to.equal(200);
    expect(bundle.type).to.match(/javascript/);
    expect(bundle.headers.get('access-control-allow-origin')).to.equal('https://app.example.com');
    const client = await connectV4(`${srv.url}/`, { path: '/rt', transports: ['websocket'] });
    const socket = serverSocket(srv.io, '/', client.id);
    expect(isCoalescing(socket.conn.transport)).to.equal(FAST_PATH);
    // maxHttpBufferSize reached the engine: a bigger message closes the connection.
    const closed = next(client, 'disconnect');
    client.emit('BIG', 'x'.repeat(200));
    expect(await closed).to.equal('transport close');
    await srv.io.close();
    expect(srv.httpServer.listening).to.equal(false);
    expect(lines).to.deep.equal([]);
  });

  it(`${FAST_PATH ? 'warns once naming' : 'checks nothing with the fast path off, even for'} a second copy of socket.io-adapter, and keeps serving`, async () => {
    const { log, lines } = recordLog('warn');
    const SecondAdapter = secondAdapterCopy();
    const srv = await listenWith((httpServer) =>
      createSocketServer(httpServer, { adapter: SecondAdapter }, { fastPath: FAST_PATH, log, bounds: testBounds().bounds }),
    );
    const nsp = srv.io.of('/x');
    srv.io.of('/y');
    expect(nsp.adapter).to.be.an.instanceOf(SecondAdapter).and.not.an.instanceOf(Adapter);
    const status = enginePatches(srv.io);
    if (FAST_PATH) {
      expect(lines).to.have.length(1);
      expect(lines[0]).to.include({ level: 40 });
      expect(lines[0]?.patches).to.deep.equal(['fastBroadcast']);
      expect(String(lines[0]?.msg)).to.match(
        /namespace adapter \(an instance of the socket\.io-adapter Adapter lib\/engine\/ imports: a second copy\?\)/,
      );
      expect(status.fastBroadcast.active).to.equal(false);
      expect(status.fastBroadcast.reason).to.match(/^missing: namespace adapter/);
      // Only what relies on the adapter is off.
      expect(status.websocketTransport.active).to.equal(true);
      expect(status.connectionFootprint.active).to.equal(true);
    } else {
      expect(lines).to.deep.equal([]);
      expect(status.fastBroadcast.reason).to.match(/switched off/);
    }
    const client = await connectV4(`${srv.url}/x`, { transports: ['websocket'] });
    const socket = serverSocket(srv.io, '/x', client.id);
    void socket.join('r');
    expect(isCoalescing(socket.conn.transport)).to.equal(FAST_PATH);
    // The copy's own broadcast delivers it, through Engine.IO's per-packet path.
    const event = next(client, 'EVENT');
    expect(packetsCreatedDuring([socket], () => nsp.to('r').emit('EVENT', 'still served'))).to.deep.equal([1]);
    expect(await event).to.equal('still served');
    expect(lines).to.have.length(FAST_PATH ? 1 : 0);
  });
});
