import type { IncomingMessage } from 'node:http';
import { expect } from 'chai';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Server as EngineServer, Socket as EngineSocket, transports } from 'engine.io';
import { pino } from 'pino';
import { Server, Socket } from 'socket.io';
import {
  adapterProblems,
  childNamespaceProblems,
  connectionGuardProblems,
  connectionProblems,
  engineProblems,
  footprintProblems,
  namespaceNameProblems,
  socketProblems,
  socketPrototypeProblems,
  transportProblems,
  webSocketProblems,
} from '../../lib/engine/checks.js';
import { connectV4, FAST_PATH, startServer } from '../support/server.js';
import { createSocketServer } from '../../lib/engine/index.js';
import { listenWith, serverSocket, testBounds } from './support.js';

// Each check run on real objects of the libraries: nothing missing as installed, and the member named once
// it is gone. A member is removed from that one object for the duration of one synchronous check (an own
// property deleted, an inherited one shadowed by undefined) and put back before anything else runs.

/** Runs `check` with `owner[key]` gone, then puts it back. */
function without<T>(owner: object, key: string, check: () => T): T {
  const own = Object.getOwnPropertyDescriptor(owner, key);
  if (own) Reflect.deleteProperty(owner, key);
  else Object.defineProperty(owner, key, { value: undefined, configurable: true });
  try {
    return check();
  } finally {
    if (own) Object.defineProperty(owner, key, own);
    else Reflect.deleteProperty(owner, key);
  }
}

const WRITABLE = "transport.writable (reaching the transport's accessor, not an own field)";

/** A plain Socket.IO server (the libraries' own paths) with one WebSocket client, and its handshake request. */
async function plainConnection() {
  const plain = await listenWith((httpServer) => new Server(httpServer));
  let upgrade: IncomingMessage | undefined;
  plain.httpServer.prependListener('upgrade', (req: IncomingMessage) => (upgrade = req));
  const client = await connectV4(`${plain.url}/`, { transports: ['websocket'] });
  const socket = serverSocket(plain.io, '/', client.id);
  if (!upgrade) throw new Error('no upgrade request seen');
  return { io: plain.io, socket, request: upgrade };
}

describe('lib/engine shape checks', () => {
  it('connectionGuardProblems: the transport factory, the heartbeat filter’s seam, and the events the byte count follows', () => {
    expect(connectionGuardProblems()).to.deep.equal([]);
    expect(without(EngineServer.prototype, 'createTransport', connectionGuardProblems)).to.deep.equal([
      'engine.io Server.prototype.createTransport',
    ]);
    const webSocket = transports.websocket.prototype;
    expect(without(webSocket, 'onPacket', connectionGuardProblems)).to.deep.equal(['engine.io transports.websocket.prototype.onPacket']);
    expect(without(webSocket, 'onData', connectionGuardProblems)).to.deep.equal([
      'engine.io transports.websocket.prototype.onData calling this.onPacket',
    ]);
    expect(without(EngineSocket.prototype, 'sendPacket', connectionGuardProblems)).to.deep.equal([
      'engine.io Socket.prototype.sendPacket emitting "packetCreate"',
    ]);
    expect(without(EngineSocket.prototype, 'flush', connectionGuardProblems)).to.deep.equal([
      'engine.io Socket.prototype.flush emitting "flush" and "drain" around transport.send',
    ]);
  });

  it(`createSocketServer throws rather than run unbounded when the bounds lack a member${FAST_PATH ? '' : ', fast path off too'}`, () => {
    const build = (): unknown =>
      createSocketServer(createServer(), {}, { fastPath: FAST_PATH, log: pino({ level: 'silent' }), bounds: testBounds().bounds });
    expect(() => without(EngineSocket.prototype, 'sendPacket', build)).to.throw(
      /the installed engine\.io lacks what the connection bounds rely on: engine\.io Socket\.prototype\.sendPacket/,
    );
  });

  it('engineProblems: the createTransport seam, the WebSocket transport, and attachServe when the bundle is served', () => {
    expect(engineProblems(true)).to.deep.equal([]);
    expect(without(EngineServer.prototype, 'createTransport', () => engineProblems(true))).to.deep.equal([
      'engine.io Server.prototype.createTransport',
    ]);
    expect(without(Server.prototype, 'attachServe', () => engineProblems(true))).to.deep.equal(['socket.io Server.prototype.attachServe']);
    expect(without(Server.prototype, 'attachServe', () => engineProblems(false))).to.deep.equal([]);
  });

  it('socketPrototypeProblems: Socket.IO’s outgoing-listener hook', () => {
    expect(socketPrototypeProblems()).to.deep.equal([]);
    expect(without(Socket.prototype, 'notifyOutgoingListeners', socketPrototypeProblems)).to.deep.equal([
      'socket.io Socket.prototype.notifyOutgoingListeners',
    ]);
  });

  it('adapterProblems: the adapter’s class, methods, rooms and namespace sockets', async () => {
    const { io } = await plainConnection();
    const adapter = io.of('/x').adapter;
    expect(adapterProblems(adapter)).to.deep.equal([]);
    expect(without(adapter, '_encode', () => adapterProblems(adapter))).to.deep.equal(['adapter._encode']);
    expect(without(adapter, 'computeExceptSids', () => adapterProblems(adapter))).to.deep.equal(['adapter.computeExceptSids']);
    expect(without(adapter, 'rooms', () => adapterProblems(adapter))).to.deep.equal(['adapter.rooms (a Map)']);
    expect(without(adapter.nsp as object, 'sockets', () => adapterProblems(adapter))).to.deep.equal(['adapter.nsp.sockets (a Map)']);
    expect(adapterProblems({})).to.deep.equal([
      'namespace adapter (an instance of the socket.io-adapter Adapter lib/engine/ imports: a second copy?)',
    ]);
  });

  it('webSocketProblems: send, readyState and the TCP socket of the ws socket Engine.IO puts on the request', async () => {
    const { request } = await plainConnection();
    const ws = (request as IncomingMessage & { websocket: object }).websocket;
    expect(webSocketProblems(request)).to.deep.equal([]);
    expect(without(ws, '_socket', () => webSocketProblems(request))).to.deep.equal(['req.websocket._socket (a net.Socket)']);
    expect(without(ws, 'send', () => webSocketProblems(request))).to.deep.equal(['req.websocket.send']);
    expect(without(ws, 'readyState', () => webSocketProblems(request))).to.deep.equal(['req.websocket.readyState']);
    expect(without(request, 'websocket', () => webSocketProblems(request))).to.deep.equal(['req.websocket']);
  });

  it('transportProblems: Engine.IO’s own transport hides a writable accessor behind its own field; the parser and flags', async () => {
    const { socket } = await plainConnection();
    const transport = socket.conn.transport;
    expect(transportProblems(transport)).to.deep.equal([WRITABLE]);
    expect(without(transport, 'supportsBinary', () => transportProblems(transport))).to.deep.equal(['transport.supportsBinary', WRITABLE]);
    expect(without(transport, 'parser', () => transportProblems(transport))).to.deep.equal(['transport.parser.encodePacket', WRITABLE]);
    expect(without(transport, 'perMessageDeflate', () => transportProblems(transport))).to.deep.equal([
      'transport.perMessageDeflate',
      WRITABLE,
    ]);
  });

  it(`transportProblems: ${FAST_PATH ? 'nothing missing on the coalescing transport' : 'the fast path off, the service’s transport is Engine.IO’s own'}`, async () => {
    const srv = await startServer();
    const client = await srv.connect('/layout', { transports: ['websocket'] });
    const transport = serverSocket(srv.app.io, '/layout', client.id).conn.transport;
    expect(transportProblems(transport)).to.deep.equal(FAST_PATH ? [] : [WRITABLE]);
    // An own `writable` (what a base class with a real field would define) hides the coalescing accessor.
    if (FAST_PATH) expect(without(transport, 'writable', () => transportProblems(transport))).to.deep.equal([WRITABLE]);
  });

  it('socketProblems: the namespace socket’s client.writeToEngine and its connection', async () => {
    const { socket } = await plainConnection();
    expect(socketProblems(socket)).to.deep.equal([]);
    expect(without(socket.client, 'writeToEngine', () => socketProblems(socket))).to.deep.equal(['socket.client.writeToEngine']);
    expect(without(socket, 'conn', () => socketProblems(socket))).to.deep.equal(['socket.conn']);
  });

  it('connectionProblems and footprintProblems: what the fast broadcast and the trimming read of an Engine.IO socket', async () => {
    const { socket } = await plainConnection();
    const conn = socket.conn;
    expect(connectionProblems(conn)).to.deep.equal([]);
    expect(footprintProblems(conn)).to.deep.equal([]);
    expect(without(conn, 'writeBuffer', () => connectionProblems(conn))).to.deep.equal(['conn.writeBuffer (an array)']);
    expect(without(conn, 'transport', () => connectionProblems(conn))).to.deep.equal(['conn.transport']);
    expect(without(conn, 'request', () => footprintProblems(conn))).to.deep.equal(['conn.request']);
    expect(without(conn.request, '_query', () => footprintProblems(conn))).to.deep.equal(['conn.request._query']);
    expect(without(conn, '_events', () => footprintProblems(conn))).to.deep.equal(['conn._events']);
    expect(without(conn.transport, '_events', () => footprintProblems(conn))).to.deep.equal(['conn.transport._events']);
  });

  it('namespaceNameProblems: Socket.IO’s Client (found in its dist/ folder), its connect asking _checkNamespace, and _packet', () => {
    const require = createRequire(import.meta.url);
    const { Client } = require(join(dirname(require.resolve('socket.io')), 'client.js')) as { Client: { prototype: object } };
    // The connect before the bound replaced it is not reachable from here: a stand-in with its two calls.
    const connect = function (this: { server: { _nsps: Map<string, unknown>; _checkNamespace(): void } }, name: string): void {
      if (!this.server._nsps.has(name)) this.server._checkNamespace();
    };
    expect(namespaceNameProblems(Client, connect)).to.deep.equal([]);
    expect(namespaceNameProblems(undefined, connect)).to.deep.equal(['socket.io Client (dist/client.js)']);
    expect(namespaceNameProblems(Client, () => undefined)).to.deep.equal([
      'socket.io Client.prototype.connect asking this.server._checkNamespace',
    ]);
    expect(without(Client.prototype, '_packet', () => namespaceNameProblems(Client, connect))).to.deep.equal([
      'socket.io Client.prototype._packet',
    ]);
    expect(without(Server.prototype, 'onconnection', () => namespaceNameProblems(Client, connect))).to.deep.equal([
      'socket.io Server.prototype.onconnection building its Client',
    ]);
  });

  it('childNamespaceProblems: a parent namespace’s createChild and children, the namespace entry points, the server’s _nsps', () => {
    const parent = new Server().of(/^\/x-\w+$/);
    expect(childNamespaceProblems(parent)).to.deep.equal([]);
    expect(without(parent, 'createChild', () => childNamespaceProblems(parent))).to.deep.equal(['socket.io ParentNamespace.createChild']);
    expect(without(parent, 'children', () => childNamespaceProblems(parent))).to.deep.equal(['socket.io ParentNamespace.children (a Set)']);
    expect(without(parent, '_preConnectSockets', () => childNamespaceProblems(parent))).to.deep.equal([
      'socket.io Namespace._preConnectSockets (a Map)',
    ]);
    expect(without(parent, '_add', () => childNamespaceProblems(parent))).to.deep.equal([
      'socket.io Namespace.prototype._add putting the socket in _preConnectSockets',
    ]);
    expect(without(parent.server, '_nsps', () => childNamespaceProblems(parent))).to.deep.equal(['socket.io Server._nsps (a Map)']);
  });
});
