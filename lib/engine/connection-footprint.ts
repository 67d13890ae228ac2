import type { Server, Socket } from 'socket.io';
import { stateOf, type EngineState } from './state.js';

/**
 * Keeps what every idle connection holds small: at 10,000 connections each kilobyte is 10 MB.
 *
 * Socket.IO, Engine.IO and `ws` keep more per connection than this service ever reads again once the
 * connection is set up. A heap snapshot of 3,000 idle JOINed connections (see BENCHMARKS.md) showed where:
 *
 * - the handshake's `IncomingMessage` (headers twice, raw headers, its stream state, the upgrade's
 *   response stand-in) stays reachable for the connection's life, through the Engine.IO socket's
 *   `request` and through a `close` listener Engine.IO leaves on the TCP socket for HTTP middlewares,
 *   which this service does not use;
 * - every `EventEmitter`'s listener table is a hash table (Node creates it with a null prototype), sized
 *   by every event ever listened to, including those whose listeners were removed during the upgrade;
 * - arrays that got one element pushed keep room for 17.
 *
 * This module replaces the request by the few fields Socket.IO's namespace handshake reads (headers, URL,
 * query, whether it was TLS), drops the two leftover listeners, and rebuilds the listener tables and
 * short arrays at their current size. Nothing the service or a client observes changes: the same
 * listeners stay registered in the same order. It reaches into library internals, so each step checks
 * the shape it expects and leaves the object alone otherwise; test/engine/connection-footprint.test.ts fails if
 * a library upgrade makes the request reachable again. It trims only the connections of servers that
 * lib/engine/index.ts built with the fast path on.
 */

/** What Socket.IO's handshake reads from the request (`socket.handshake` is built from it on every namespace connect). */
interface HandshakeRequest {
  headers: unknown;
  url: unknown;
  _query: unknown;
  connection: { encrypted?: unknown };
}

/** The Engine.IO socket, as far as this module touches it. */
interface EngineConnection {
  request: HandshakeRequest | undefined;
  transport: { name: string; socket?: unknown };
  cleanupFn?: unknown;
  once(event: 'upgrade', listener: (this: EngineConnection) => void): unknown;
}

/** An emitter's listener table as Node's `EventEmitter` keeps it. */
interface EmitterInternals {
  _events?: Record<string | symbol, unknown>;
}

// Shared stand-ins for `request.connection`: Socket.IO reads only `encrypted` from it.
const TLS_CONNECTION = Object.freeze({ encrypted: true });
const PLAIN_CONNECTION = Object.freeze({ encrypted: false });

/**
 * Source of the `close` listener Engine.IO's upgrade response stand-in (`WebSocketResponse`) puts on the
 * TCP socket; it holds the response and through it the request. Matched exactly, so that a changed
 * Engine.IO leaves it in place rather than removing something else.
 */
const UPGRADE_RESPONSE_CLOSE = '() => this.emit("close")';
/** Name of the error listener Engine.IO leaves on new WebSocket connections (it only logs at debug). */
const UPGRADE_ERROR_LISTENER = 'onUpgradeError';

/** Applies the trimming to every connection `io` accepts from now on, while `state` has it on. */
export function installConnectionFootprint(io: Server, state: EngineState): void {
  io.engine.on('connection', (conn: unknown) => {
    if (state.connectionFootprint) slimConnection(conn);
  });
}

/**
 * Trims a namespace socket once its listeners are registered. Call it last in the namespace's
 * `connection` handler; listeners added later keep working, they just land in a table that grows again.
 * Does nothing unless the socket's server has the trimming on (see lib/engine/index.ts).
 */
export function slimSocket(socket: Socket): void {
  if (stateOf(socket.nsp.server)?.connectionFootprint !== true) return;
  compactListeners(socket);
  const internals = socket as unknown as { _anyListeners?: unknown; client: { decoder?: unknown } };
  internals._anyListeners = trimmed(internals._anyListeners);
  const decoder = internals.client.decoder as { _callbacks?: Record<string, unknown> } | undefined;
  const callbacks = decoder?._callbacks;
  if (callbacks) for (const key of Object.keys(callbacks)) callbacks[key] = trimmed(callbacks[key]);
}

function slimConnection(raw: unknown): void {
  // The one unchecked step: Engine.IO's public type does not expose what is trimmed here.
  const conn = raw as EngineConnection;
  const request = conn.request;
  if (request && typeof request === 'object') {
    conn.request = {
      headers: request.headers,
      url: request.url,
      _query: request._query,
      connection: request.connection.encrypted ? TLS_CONNECTION : PLAIN_CONNECTION,
    };
  }
  if (conn.transport.name === 'websocket') slimWebSocket(conn);
  // Long-polling first (socket.io-client's default): the WebSocket arrives with the upgrade.
  else conn.once('upgrade', onUpgrade);
}

function onUpgrade(this: EngineConnection): void {
  slimWebSocket(this);
}

function slimWebSocket(conn: EngineConnection): void {
  const ws = conn.transport.socket as
    | (EmitterInternals & {
        _socket?: unknown;
        listeners(event: 'error'): unknown[];
        removeListener(event: 'error', fn: () => void): unknown;
      })
    | undefined;
  const tcp = ws?._socket as
    (EmitterInternals & { rawListeners(event: 'close'): unknown[]; removeListener(event: 'close', fn: () => void): unknown }) | undefined;
  if (tcp) {
    for (const wrapper of tcp.rawListeners('close')) {
      const listener = (wrapper as { listener?: unknown }).listener;
      if (typeof listener === 'function' && listener.toString() === UPGRADE_RESPONSE_CLOSE)
        tcp.removeListener('close', listener as () => void);
    }
    compactListeners(tcp);
  }
  if (ws) {
    for (const listener of ws.listeners('error')) {
      if (typeof listener === 'function' && listener.name === UPGRADE_ERROR_LISTENER) ws.removeListener('error', listener as () => void);
    }
    compactListeners(ws);
  }
  compactListeners(conn.transport);
  compactListeners(conn);
  conn.cleanupFn = trimmed(conn.cleanupFn);
}

/**
 * A listener table in V8's compact object form. Node creates tables with a null prototype, which V8 keeps
 * as hash tables; instances of a class whose prototype is empty (not even `constructor`, or a client's
 * event named "constructor" would find it) and has a null prototype itself read the same for
 * `EventEmitter` — a missing event is `undefined` — and stay compact until an event is removed. (Node's
 * own `EventEmitter` used this form before v12.)
 */
class ListenerTable {
  [event: string | symbol]: unknown;
}
Object.setPrototypeOf(ListenerTable.prototype, null);
Reflect.deleteProperty(ListenerTable.prototype, 'constructor');

/** Rebuilds an emitter's listener table with only its current events, in compact form. */
function compactListeners(emitter: unknown): void {
  const holder = emitter as EmitterInternals;
  const events = holder._events;
  if (!events || typeof events !== 'object') return;
  const compact = new ListenerTable();
  for (const key of Reflect.ownKeys(events)) compact[key] = trimmed(events[key]);
  holder._events = compact;
}

/** A copy of an array at its length (a pushed-to array keeps spare room); anything else unchanged. */
function trimmed<T>(value: T): T {
  return Array.isArray(value) ? (value.slice() as T) : value;
}
