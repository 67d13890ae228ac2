import { Socket as NetSocket } from 'node:net';
import { Server as EngineServer, Socket as EngineSocket, transports } from 'engine.io';
import { Server as SocketIoServer, Socket as SocketIoSocket } from 'socket.io';
import { Adapter } from 'socket.io-adapter';

/**
 * The shape checks behind lib/engine/index.ts: each takes a real object of the libraries and returns what
 * is missing of what a patch reads or replaces, by name (empty when all is there). They only read.
 *
 * What can be checked without a connection (prototypes, the namespaces' adapters) is checked when the
 * server is built; what only exists per connection (the Engine.IO socket, the `ws` socket, a namespace
 * socket's client) is checked on the server's first one, before a patch touches it.
 */

/** Property `key` of `value`, or undefined when `value` is not an object or function. */
function field(value: unknown, key: string): unknown {
  return (typeof value === 'object' && value !== null) || typeof value === 'function' ? (value as Record<string, unknown>)[key] : undefined;
}

/** The names in `keys` that are not functions on `value` (own or inherited), each prefixed with `owner.`. */
function missingMethods(owner: string, value: unknown, keys: readonly string[]): string[] {
  return keys.filter((key) => typeof field(value, key) !== 'function').map((key) => `${owner}.${key}`);
}

/** Whether `value` is a non-null object. */
function isObject(value: unknown): value is object {
  return typeof value === 'object' && value !== null;
}

/** An accessor (getter and setter) named `key` on `value`'s prototype chain, if there is one. */
function accessorOf(value: object, key: string): PropertyDescriptor | undefined {
  for (let proto: object | null = value; proto !== null; proto = Object.getPrototypeOf(proto) as object | null) {
    const descriptor = Object.getOwnPropertyDescriptor(proto, key);
    if (descriptor) return descriptor.get && descriptor.set ? descriptor : undefined;
  }
  return undefined;
}

/**
 * What the coalescing transport needs of Engine.IO and Socket.IO before any connection: the engine's
 * `createTransport` seam, the WebSocket transport to extend, and (when Socket.IO serves its client bundle)
 * Socket.IO's `attachServe`, which its own `attach` calls and a `bind` does not.
 */
export function engineProblems(serveClient: boolean): string[] {
  const problems = missingMethods('engine.io Server.prototype', EngineServer.prototype, ['createTransport', 'attach', 'close']);
  const WebSocket: unknown = transports.websocket;
  if (typeof WebSocket !== 'function') problems.push('engine.io transports.websocket');
  else problems.push(...missingMethods('engine.io transports.websocket.prototype', field(WebSocket, 'prototype'), ['send', 'doClose']));
  problems.push(
    ...missingMethods('socket.io Server.prototype', SocketIoServer.prototype, serveClient ? ['bind', 'attachServe'] : ['bind']),
  );
  return problems;
}

/**
 * What the coalescing transport reads of a `ws` socket (`req.websocket`, set by Engine.IO before it creates
 * the transport): `send` for what is not pre-encoded, `readyState` (no direct write after the close
 * handshake starts) and `_socket`, the TCP socket it corks and writes into.
 */
export function webSocketProblems(request: unknown): string[] {
  const ws = field(request, 'websocket');
  if (!isObject(ws)) return ['req.websocket'];
  const problems = missingMethods('req.websocket', ws, ['send']);
  if (typeof field(ws, 'readyState') !== 'number') problems.push('req.websocket.readyState');
  if (!(field(ws, '_socket') instanceof NetSocket)) problems.push('req.websocket._socket (a net.Socket)');
  return problems;
}

/**
 * What the coalescing transport reads of itself once Engine.IO's constructor has run: the parser and
 * `supportsBinary` (to encode what is not pre-encoded), `perMessageDeflate` (set by Engine.IO; deflated
 * connections keep its path) and `writable`, which must reach the accessor the transport defines (a base
 * class that defined it as an own field would hide it, and back-pressure with it).
 */
export function transportProblems(transport: unknown): string[] {
  if (!isObject(transport)) return ['transport'];
  const problems = missingMethods('transport.parser', field(transport, 'parser'), ['encodePacket']);
  if (typeof field(transport, 'supportsBinary') !== 'boolean') problems.push('transport.supportsBinary');
  if (!('perMessageDeflate' in transport)) problems.push('transport.perMessageDeflate');
  if (Object.getOwnPropertyDescriptor(transport, 'writable') !== undefined || accessorOf(transport, 'writable') === undefined) {
    problems.push("transport.writable (reaching the transport's accessor, not an own field)");
  }
  return problems;
}

/**
 * What the fast broadcast reads of a namespace's adapter, and that the adapter is an instance of the
 * `Adapter` this module replaces `broadcast` on: with a second copy of socket.io-adapter (after an upgrade
 * that nests one), the replacement would never run. `_encode` is called once on a probe packet, to see that
 * it still builds the WebSocket frame once per broadcast (it does only while socket.io-adapter finds `ws`).
 */
export function adapterProblems(adapter: unknown): string[] {
  if (!(adapter instanceof Adapter))
    return ['namespace adapter (an instance of the socket.io-adapter Adapter lib/engine/ imports: a second copy?)'];
  const problems = missingMethods('adapter', adapter, ['_encode', 'apply', 'computeExceptSids']);
  if (!(field(adapter, 'rooms') instanceof Map)) problems.push('adapter.rooms (a Map)');
  const nsp = field(adapter, 'nsp');
  if (!(field(nsp, 'sockets') instanceof Map)) problems.push('adapter.nsp.sockets (a Map)');
  if (typeof field(nsp, 'name') !== 'string') problems.push('adapter.nsp.name');
  if (problems.length > 0) return problems;
  const packetOpts: Record<string, unknown> = {};
  (adapter as unknown as { _encode(packet: unknown, opts: Record<string, unknown>): unknown })._encode(
    { type: 2, data: ['probe'], nsp: field(nsp, 'name') },
    packetOpts,
  );
  const frame = packetOpts.wsPreEncodedFrame;
  if (!Array.isArray(frame) || !frame.every((part) => Buffer.isBuffer(part)))
    problems.push('adapter._encode setting wsPreEncodedFrame (socket.io-adapter finding ws)');
  return problems;
}

/** What the fast broadcast needs of Socket.IO's sockets that their prototype shows: the outgoing-listener hook. */
export function socketPrototypeProblems(): string[] {
  return missingMethods('socket.io Socket.prototype', SocketIoSocket.prototype, ['notifyOutgoingListeners']);
}

/** What the fast broadcast reads of a namespace socket: its Engine.IO connection and Socket.IO's `client.writeToEngine`. */
export function socketProblems(socket: unknown): string[] {
  const problems = missingMethods('socket.client', field(socket, 'client'), ['writeToEngine']);
  if (!isObject(field(socket, 'conn'))) problems.push('socket.conn');
  return problems;
}

/**
 * What the fast broadcast reads of an Engine.IO socket before writing to it directly: its `transport`,
 * `readyState` and `writeBuffer` (a direct write must not overtake what Engine.IO holds queued).
 */
export function connectionProblems(conn: unknown): string[] {
  const problems: string[] = [];
  if (!isObject(field(conn, 'transport'))) problems.push('conn.transport');
  if (typeof field(conn, 'readyState') !== 'string') problems.push('conn.readyState');
  if (!Array.isArray(field(conn, 'writeBuffer'))) problems.push('conn.writeBuffer (an array)');
  return problems;
}

/**
 * What the connection-footprint trimming reads and replaces of an Engine.IO socket: the handshake `request`
 * (the fields Socket.IO's handshake reads from it), the transport's `name`, and `_events`, Node's listener
 * table, on the socket and its transport.
 */
export function footprintProblems(conn: unknown): string[] {
  const problems: string[] = [];
  const request = field(conn, 'request');
  if (!isObject(request)) problems.push('conn.request');
  else {
    if (!isObject(field(request, 'headers'))) problems.push('conn.request.headers');
    if (typeof field(request, 'url') !== 'string') problems.push('conn.request.url');
    if (!isObject(field(request, '_query'))) problems.push('conn.request._query');
    if (!isObject(field(request, 'connection'))) problems.push('conn.request.connection');
  }
  const transport = field(conn, 'transport');
  if (typeof field(transport, 'name') !== 'string') problems.push('conn.transport.name');
  if (!isObject(field(conn, '_events'))) problems.push('conn._events');
  if (!isObject(field(transport, '_events'))) problems.push('conn.transport._events');
  problems.push(...missingMethods('conn', conn, ['once']));
  return problems;
}

/** Whether `fn` is a function whose source contains each of `snippets` (what it must still call or emit). */
function callsAll(fn: unknown, snippets: readonly string[]): boolean {
  if (typeof fn !== 'function') return false;
  const source = String(fn);
  return snippets.every((snippet) => source.includes(snippet));
}

/**
 * The prototype of Engine.IO's long-polling transport: `transports.polling` is a factory (it picks JSONP or
 * XHR polling per request), so one transport is built, for a request that is never served, to reach it.
 */
function pollingPrototype(): unknown {
  const factory: unknown = transports.polling;
  if (typeof factory !== 'function') return undefined;
  try {
    const probe: unknown = (factory as (req: unknown) => unknown)({ _query: { EIO: '4' } });
    return isObject(probe) ? Object.getPrototypeOf(probe) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * What the connection bounds (lib/engine/connection-guard.ts, lib/engine/liveness.ts) rely on in Engine.IO,
 * on whatever path: the engine's `createTransport` (wrapped per engine), each transport decoding into
 * `this.onPacket` (the heartbeat filter shadows it), the polling transport's `headers` event (the socket
 * of each response), and the Engine.IO socket emitting `packetCreate` for each packet it queues and
 * `flush`, the transport's `send`, `drain` in that order as it hands them over. Not behind the fast-path
 * switch: a missing member makes createSocketServer throw, never run unbounded.
 */
export function connectionGuardProblems(): string[] {
  const problems = missingMethods('engine.io Server.prototype', EngineServer.prototype, ['createTransport']);
  const pollingProto = pollingPrototype();
  for (const [name, proto] of Object.entries({ polling: pollingProto, websocket: field(transports.websocket, 'prototype') })) {
    if (!callsAll(field(proto, 'onData'), ['this.onPacket(']))
      problems.push(`engine.io transports.${name}.prototype.onData calling this.onPacket`);
    problems.push(...missingMethods(`engine.io transports.${name}.prototype`, proto, ['onPacket']));
  }
  if (!callsAll(field(pollingProto, 'headers'), ['this.emit("headers"']))
    problems.push('engine.io transports.polling.prototype.headers emitting "headers"');
  const socket = EngineSocket.prototype as unknown;
  if (!callsAll(field(socket, 'sendPacket'), ['this.emit("packetCreate"', 'this.writeBuffer.push(']))
    problems.push('engine.io Socket.prototype.sendPacket emitting "packetCreate"');
  if (!callsAll(field(socket, 'flush'), ['this.emit("flush"', 'this.transport.send(', 'this.emit("drain"']))
    problems.push('engine.io Socket.prototype.flush emitting "flush" and "drain" around transport.send');
  problems.push(...missingMethods('engine.io Socket.prototype', socket, ['close']));
  return problems;
}

/**
 * What the bound on namespace names (lib/engine/namespace-names.ts) needs of Socket.IO's `Client` class
 * (`client`: not exported by socket.io, loaded from its own dist/ folder) and of its own `connect` (as
 * loaded, before the bound replaced it): `connect` still looking the name up in `_nsps` and asking
 * `_checkNamespace` (where a dynamic namespace is created) for one it does not serve, `_packet`, which the
 * refusal is sent with, and `Server.prototype.onconnection` building that class. Not behind the fast-path
 * switch: a missing member makes createSocketServer throw.
 */
export function namespaceNameProblems(client: unknown, connect: unknown): string[] {
  const proto = field(client, 'prototype');
  if (!isObject(proto)) return ['socket.io Client (dist/client.js)'];
  const problems = missingMethods('socket.io Client.prototype', proto, ['_packet']);
  if (!callsAll(connect, ['this.server._nsps.has(', 'this.server._checkNamespace(']))
    problems.push('socket.io Client.prototype.connect asking this.server._checkNamespace');
  if (!callsAll(field(SocketIoServer.prototype, 'onconnection'), ['.Client(this, conn)']))
    problems.push('socket.io Server.prototype.onconnection building its Client');
  return problems;
}

/**
 * What the removal of unused child namespaces (lib/engine/child-namespaces.ts) relies on, on a real parent
 * namespace (`io.of(regexp)`): its `createChild` and `children`, the namespace methods every socket enters
 * and leaves by (`_add`, which puts it in `_preConnectSockets` while the middlewares run, and `_remove`),
 * and the server's `_nsps`, where a child is found by name. A missing member throws.
 */
export function childNamespaceProblems(parent: unknown): string[] {
  const problems = missingMethods('socket.io ParentNamespace', parent, ['createChild', '_remove']);
  if (!(field(parent, 'children') instanceof Set)) problems.push('socket.io ParentNamespace.children (a Set)');
  if (!(field(parent, '_preConnectSockets') instanceof Map)) problems.push('socket.io Namespace._preConnectSockets (a Map)');
  if (!callsAll(field(parent, '_add'), ['this._preConnectSockets.set(']))
    problems.push('socket.io Namespace.prototype._add putting the socket in _preConnectSockets');
  if (!(field(field(parent, 'server'), '_nsps') instanceof Map)) problems.push('socket.io Server._nsps (a Map)');
  return problems;
}
