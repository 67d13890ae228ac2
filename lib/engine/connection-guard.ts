import type { IncomingMessage } from 'node:http';
import { Socket as NetSocket } from 'node:net';
import type { Server as EngineServer, Transport } from 'engine.io';
import type { Packet } from 'engine.io-parser';
import type { LimitHit, LimitName } from '../core/types.js';
import { filterHeartbeats, Heartbeat, ownTransport } from './liveness.js';

/**
 * What one Engine.IO connection may cost the server: its outbound bytes, and its life without reading.
 *
 * A client that stops reading makes everything sent to it queue on the server: in Engine.IO's write buffer
 * (packets waiting for the transport: the long-polling buffer while no GET is pending, or a WebSocket
 * transport with a write in flight), in the TCP socket (the coalescing transport's frames, `ws`'s writes),
 * and in the socket of a long-polling response the client does not read. Each connection's bytes in those
 * places are bounded by `maxOutbound`: past it the connection is closed, its TCP socket destroyed so that
 * what was queued is released at once, and the hit reported (`outbound`). The coalescing transport checks
 * the same bound before each direct frame write ({@link outboundRoom}).
 *
 * Queued bytes are counted from the packets' data as Engine.IO creates them (`packetCreate`), never by
 * encoding again, and given back when Engine.IO hands its buffer to the transport (`flush`); the socket's
 * share is its `writableLength`. A string counts its length: what it holds for a client is at least that.
 *
 * This is correctness, not speed: it is on whether the fast path is or not.
 */

/** What lib/app.ts gives the engine to bound each connection (see {@link installConnectionGuard}). */
export interface ConnectionBounds {
  /** Outbound bytes one connection may have queued on the server (at least the largest message). */
  readonly maxOutbound: number;
  /** Called once for each connection cut off by a bound (the service's `limited` hook). */
  readonly limited: (hit: LimitHit) => void;
  /** The client address of a handshake request (honouring the service's `--trust-proxy`). */
  readonly addressOf: (req: IncomingMessage) => string;
  /**
   * Longest namespace name a CONNECT may name that the server does not serve yet (a dynamic namespace would
   * be created for it): a longer one is refused before anything is created (lib/engine/namespace-names.ts).
   */
  readonly maxNamespaceLength: number;
}

/** The members of an Engine.IO socket the guard uses (its documented API; `id` is private in its types only). */
interface GuardedConnection {
  readonly id: string;
  readonly protocol: number;
  readonly transport: Transport;
  readonly request: IncomingMessage;
  close(discard?: boolean): unknown;
  on(event: string, listener: (...args: never[]) => void): unknown;
  once(event: string, listener: (...args: never[]) => void): unknown;
}

/** Where a transport keeps the TCP socket its packets go into (a polling transport: its last response's). */
const CARRIER = Symbol('realtime-rooms.carrier');
type CarryingTransport = Transport & { [CARRIER]?: NetSocket };

/** Where a connection keeps its guard, for the coalescing transport's direct writes. */
const GUARD = Symbol('realtime-rooms.guard');
type Guarded = { [GUARD]?: ConnectionGuard };

/** The TCP socket that carries `transport`'s packets now, if known. */
function carrierOf(transport: unknown): NetSocket | undefined {
  return (transport as CarryingTransport | undefined)?.[CARRIER];
}

/** The bytes a packet's data holds (a string: its length; binary: its bytes). */
function sizeOf(data: unknown): number {
  if (typeof data === 'string') return data.length;
  if (Buffer.isBuffer(data) || data instanceof ArrayBuffer || ArrayBuffer.isView(data)) return data.byteLength;
  return 0;
}

/** A long-polling transport's `headers` event: the response about to be written, for `req`. */
function onPollingHeaders(this: CarryingTransport, _headers: unknown, req: IncomingMessage): void {
  // A GET carries the packets; a POST's answer is a short "ok".
  if (req.method === 'GET' && req.socket instanceof NetSocket) this[CARRIER] = req.socket;
}

/**
 * Destroys the TCP socket under `transport` so that what is queued in it is released at once: always for a
 * WebSocket (the socket is the connection's own), for long-polling only while it holds unsent bytes (an
 * idle keep-alive socket may carry the client's other requests next).
 */
function releaseSocket(transport: Transport): void {
  const socket = carrierOf(transport);
  if (socket && (transport.name === 'websocket' || socket.writableLength > 0)) socket.destroy();
}

/** The guard of the connection a listener runs for (Node calls listeners with the emitter as `this`). */
function guardOf(conn: unknown): ConnectionGuard | undefined {
  return (conn as Guarded)[GUARD];
}

// Shared listeners, one set for all connections: a guard costs its fields, not closures.
function onPacketCreate(this: GuardedConnection, packet: Packet): void {
  guardOf(this)?.created(packet);
}
function onFlush(this: GuardedConnection, packets: Packet[]): void {
  guardOf(this)?.flushed(packets);
}
function onHanded(this: GuardedConnection): void {
  guardOf(this)?.heartbeat.handed();
}
function onUpgrade(this: GuardedConnection, transport: Transport): void {
  const guard = guardOf(this);
  if (guard) ownTransport(transport, guard.heartbeat);
}
function onClose(this: GuardedConnection, reason: string): void {
  guardOf(this)?.closed(reason);
}

/** The bounds of one Engine.IO connection. */
class ConnectionGuard {
  /** Bytes of the packets in Engine.IO's write buffer. */
  private queued = 0;
  private cut = false;
  readonly heartbeat: Heartbeat;

  constructor(
    private readonly conn: GuardedConnection,
    private readonly bounds: ConnectionBounds,
    readonly address: string,
  ) {
    this.heartbeat = new Heartbeat(conn.protocol, conn, carrierOf);
    ownTransport(conn.transport, this.heartbeat);
    conn.on('packetCreate', onPacketCreate);
    conn.on('flush', onFlush);
    conn.on('upgrade', onUpgrade);
    conn.once('close', onClose);
  }

  /** Engine.IO queued `packet` (`packetCreate`, before it is in the write buffer). */
  created(packet: Packet): void {
    this.heartbeat.created(packet.type);
    this.queued += sizeOf(packet.data);
    if (this.queued + (carrierOf(this.conn.transport)?.writableLength ?? 0) > this.bounds.maxOutbound) this.disconnect('outbound');
  }

  /** Engine.IO hands its whole write buffer to the transport (`flush`): those bytes are the socket's now. */
  flushed(packets: readonly Packet[]): void {
    this.queued = 0;
    if (this.heartbeat.flushing(packets)) this.conn.once('drain', onHanded);
  }

  closed(reason: string): void {
    if (reason !== 'ping timeout') return;
    // Engine.IO's close leaves a WebSocket's TCP socket to the close handshake, which a client that reads
    // nothing never completes: what is queued in it would stay until ws's own timeout.
    releaseSocket(this.conn.transport);
    if (this.heartbeat.ignored && !this.cut) this.report('liveness');
  }

  /** Reports the hit, closes the connection and releases its socket (once). */
  disconnect(limit: LimitName): void {
    if (this.cut) return;
    this.cut = true;
    this.report(limit);
    const transport = this.conn.transport;
    // Discarding: Engine.IO closes at once instead of waiting for its buffer to drain.
    this.conn.close(true);
    releaseSocket(transport);
  }

  private report(limit: LimitName): void {
    this.bounds.limited({ limit, action: 'disconnected', address: this.address, socketId: this.conn.id });
  }
}

/**
 * Whether a frame of `bytes` may go into `tcp` directly for connection `conn` within its outbound bound;
 * if not, the connection is cut off (and false returned). The coalescing transport calls it before each
 * direct write, so that no speed-up bypasses the bound: one read of the socket's queue length.
 */
export function outboundRoom(conn: unknown, tcp: NetSocket, bytes: number, maxOutbound: number): boolean {
  if (tcp.writableLength + bytes <= maxOutbound) return true;
  (conn as Guarded)[GUARD]?.disconnect('outbound');
  return false;
}

/**
 * The client address of Engine.IO connection `conn`, as found when it opened (before its request was
 * trimmed), or `unknown` for a connection of an engine without the guard.
 */
export function connectionAddress(conn: unknown): string {
  return (conn as Guarded | undefined)?.[GUARD]?.address ?? 'unknown';
}

/** The Engine.IO members {@link installConnectionGuard} wraps: the protected factory of every transport. */
interface TransportFactory {
  createTransport(transportName: string, req: IncomingMessage): Transport;
}

/**
 * Bounds every connection of `engine` (see above): wraps its `createTransport` on the instance (so that
 * only this engine's transports are touched) to note each transport's TCP socket and filter its client
 * heartbeats, and guards each connection as it opens. Call before the engine accepts connections.
 */
export function installConnectionGuard(engine: EngineServer, bounds: ConnectionBounds): void {
  const factory = engine as unknown as TransportFactory;
  const create = factory.createTransport.bind(engine);
  factory.createTransport = (transportName, req) => {
    const transport: CarryingTransport = create(transportName, req);
    filterHeartbeats(transport);
    // An upgrade request's socket is the TCP socket the WebSocket runs on.
    if (transport.name === 'websocket') transport[CARRIER] = req.socket;
    else transport.on('headers', onPollingHeaders);
    return transport;
  };
  engine.on('connection', (conn: GuardedConnection) => {
    // Before anything trims the handshake request (lib/engine/connection-footprint.ts).
    (conn as Guarded)[GUARD] = new ConnectionGuard(conn, bounds, bounds.addressOf(conn.request));
  });
}
