import type { IncomingMessage } from 'node:http';
import { Socket as NetSocket } from 'node:net';
import { Server as EngineServer, transports, type ServerOptions, type Transport } from 'engine.io';
import type { Packet } from 'engine.io-parser';
import { transportProblems, webSocketProblems } from './checks.js';
import { outboundRoom } from './connection-guard.js';
import type { EngineState } from './state.js';

/**
 * Per-turn write coalescing for WebSocket connections.
 *
 * Most of a delivery's cost is the kernel write path: Engine.IO writes every frame of every packet with
 * its own write, and its transport then stays unwritable until that write's callback, so a socket that
 * receives several broadcasts in one event-loop turn pays one syscall per frame. This transport corks
 * the TCP socket on the first send of a turn and keeps accepting packets into it, then uncorks every
 * such socket once at the end of the turn (setImmediate): all frames for one client leave in one write.
 *
 * Each frame goes into the socket as one chunk without a write callback (a broadcast's header and payload
 * are joined once for all its recipients), so Node's stream keeps one entry per delivery and calls
 * nothing back per delivery; Engine.IO's `drain` bookkeeping is answered at once instead.
 *
 * Frames are still written complete and in order, so the wire is unchanged; only their grouping into
 * TCP writes differs. Back-pressure is unchanged too: a slow client's bytes queue in its socket instead
 * of in Engine.IO's write buffer. With per-message deflate on (not the default), `ws` must compress and
 * frame every message itself, asynchronously, so such connections are left to Engine.IO's own path.
 *
 * The transport is used only by the Engine.IO servers lib/engine/ builds ({@link CoalescingEngine}): other
 * Engine.IO servers in the process keep Engine.IO's own.
 */
const WebSocketTransport = transports.websocket;
type EngineRequest = ConstructorParameters<typeof WebSocketTransport>[0];

const corked = new Set<NetSocket>();
let uncorkScheduled = false;

function uncorkAll(): void {
  uncorkScheduled = false;
  for (const socket of corked) {
    try {
      socket.uncork();
    } catch (err) {
      // Never leave a socket corked (its later frames would wait forever): drop the connection instead.
      socket.destroy(err instanceof Error ? err : undefined);
    }
  }
  corked.clear();
}

/** Corks `tcp` until the end of this event-loop turn, unless it already is. */
function corkForTurn(tcp: NetSocket): void {
  if (corked.has(tcp)) return;
  tcp.cork();
  corked.add(tcp);
  if (!uncorkScheduled) {
    uncorkScheduled = true;
    setImmediate(uncorkAll);
  }
}

/** Set on a broadcast's pre-encoded frame: its header and payload in one buffer, built for the first recipient. */
const joinedFrame = Symbol('joinedFrame');
type PreEncodedFrame = Buffer[] & { [joinedFrame]?: Buffer };

/**
 * The WebSocket frame `ws` would write for a broadcast, as one buffer. Socket.IO's adapter builds each
 * broadcast's frame once (`wsPreEncodedFrame`: header and payload); joining them once more per broadcast,
 * not per recipient, lets every recipient's copy go into its socket as a single chunk.
 */
export function broadcastFrame(frame: Buffer[]): Buffer {
  const preEncoded = frame as PreEncodedFrame;
  return (preEncoded[joinedFrame] ??= preEncoded.length === 1 ? (preEncoded[0] as Buffer) : Buffer.concat(preEncoded));
}

/** The fields of Engine.IO's transport and `ws` this transport relies on (not in their public types). */
interface TransportInternals {
  perMessageDeflate: unknown;
  socket: { send(data: unknown): void; readyState: number };
}

/** `ws`'s `WebSocket.OPEN`: after the close handshake starts, nothing more may be written directly. */
const WS_OPEN = 1;

/** The transport a TCP socket carries, for the socket's shared `drain` listener. */
const carriedTransport = Symbol('carriedTransport');
type CarryingSocket = NetSocket & { [carriedTransport]?: CoalescingWebSocket };

/** A client's socket drained after back-pressure: Engine.IO may flush what it held back (`ready`). */
function onSocketDrain(this: CarryingSocket): void {
  this[carriedTransport]?.emit('ready');
}

/** The fields of an Engine.IO socket {@link writeToConnection} checks (not in its public type). */
interface EngineConnection {
  readonly transport: unknown;
  readonly readyState: string;
  readonly writeBuffer: readonly unknown[];
}

/** Engine.IO's WebSocket transport with per-turn write coalescing and direct frame writes (see above). */
class CoalescingWebSocket extends WebSocketTransport {
  /** The TCP socket frames go into directly; undefined leaves every write to Engine.IO's own path. */
  private tcp: NetSocket | undefined;
  /** Engine.IO's own notion of writable (it sets it); see the `writable` accessor below. */
  private gateOpen = true;

  /**
   * Writable as Engine.IO sees it: its own flag (it closes the gate while its own path has a write in
   * flight) and the client's socket not backed up past its high-water mark. Socket.IO drops volatile
   * packets for a connection that is not writable, and Engine.IO holds other packets back until the socket
   * drains (`ready`, see `onSocketDrain`), as it does for a write in flight. Defined on the prototype by
   * hand because the base class declares a plain field, which TypeScript will not let an accessor override.
   */
  static {
    Object.defineProperty(this.prototype, 'writable', {
      get(this: CoalescingWebSocket): boolean {
        return this.gateOpen && !(this.tcp?.writableNeedDrain ?? false);
      },
      set(this: CoalescingWebSocket, value: boolean) {
        this.gateOpen = value;
      },
    });
  }
  /** `ws` frames and writes a packet that was not pre-encoded (acks, single emits, pings). */
  private readonly sendEncoded = (data: unknown): void => (this as unknown as TransportInternals).socket.send(data);

  /**
   * @param maxOutbound - the connection's outbound bound (lib/engine/connection-guard.ts), checked before
   *   each direct frame write as well: no speed-up may bypass it
   */
  constructor(
    req: EngineRequest,
    private readonly maxOutbound: number,
  ) {
    super(req);
    const raw: unknown = req.websocket?._socket;
    this.tcp = raw instanceof NetSocket ? raw : undefined;
    if (this.tcp) {
      (this.tcp as CarryingSocket)[carriedTransport] = this;
      this.tcp.on('drain', onSocketDrain);
    }
  }

  /** Whether frames go into the TCP socket directly (false: every write through Engine.IO's own path). */
  get direct(): boolean {
    return this.tcp !== undefined;
  }

  /** Leaves every later write of this connection to Engine.IO's own path (a shape check failed). */
  leaveToEngine(): void {
    this.tcp?.removeListener('drain', onSocketDrain);
    this.tcp = undefined;
  }

  /**
   * The TCP socket, if frames may be written to it directly: open at both ends (after a close frame
   * nothing may follow), and no per-message deflate. Otherwise Engine.IO's own path takes over.
   */
  private usableSocket(): NetSocket | undefined {
    const tcp = this.tcp;
    const internals = this as unknown as TransportInternals;
    return tcp && !tcp.destroyed && !tcp.writableEnded && internals.socket.readyState === WS_OPEN && !internals.perMessageDeflate
      ? tcp
      : undefined;
  }

  /**
   * Queues a complete WebSocket frame in this turn's write, or returns false if this connection cannot take
   * frames directly (closed, or per-message deflate on): then it must go through Engine.IO. A frame that
   * would take `conn` past its outbound bound cuts it off instead (false: Engine.IO drops it then).
   */
  writeFrame(frame: Buffer, conn: unknown): boolean {
    const tcp = this.usableSocket();
    if (!tcp || !outboundRoom(conn, tcp, frame.length, this.maxOutbound)) return false;
    corkForTurn(tcp);
    tcp.write(frame);
    return true;
  }

  override send(packets: Packet[]): void {
    const tcp = this.usableSocket();
    if (!tcp) {
      super.send(packets);
      return;
    }
    corkForTurn(tcp);
    for (const packet of packets) {
      const frame = (packet.options as { wsPreEncodedFrame?: Buffer[] } | undefined)?.wsPreEncodedFrame;
      if (frame) tcp.write(broadcastFrame(frame));
      else this.parser.encodePacket(packet, this.supportsBinary, this.sendEncoded);
    }
    // Engine.IO pairs each flush with one `drain` (it runs the flush's send callbacks then). The bytes are in
    // the socket's queue now, in order; write errors still reach `ws` through the socket's `error` event.
    this.emit('drain');
  }
}

/**
 * Whether `transport` (an Engine.IO connection's, `socket.conn.transport`) is the coalescing WebSocket
 * transport, writing frames directly: false for Engine.IO's own transports and for a connection left to
 * Engine.IO's path after a failed shape check. For status and tests.
 */
export function isCoalescing(transport: unknown): boolean {
  return transport instanceof CoalescingWebSocket && transport.direct;
}

/**
 * Writes a broadcast's frame straight into a connection's socket, skipping Engine.IO's per-packet
 * bookkeeping, when that keeps the order of everything sent to it: the connection is open on this
 * transport and Engine.IO holds nothing queued for it. Returns false otherwise; send through Engine.IO then.
 */
export function writeToConnection(connection: unknown, frame: Buffer): boolean {
  const conn = connection as EngineConnection;
  return (
    conn.transport instanceof CoalescingWebSocket &&
    conn.readyState === 'open' &&
    conn.writeBuffer.length === 0 &&
    conn.transport.writeFrame(frame, conn)
  );
}

/**
 * An Engine.IO server whose WebSocket connections (new ones and upgrades) use {@link CoalescingWebSocket},
 * through Engine.IO's own seam for it (`createTransport`), so that it affects this server only.
 *
 * The shapes the transport relies on per connection are checked on this server's first WebSocket
 * connection, before the transport touches them; if one is missing, `state` turns the patch off (with one
 * warn) and this and every later connection get Engine.IO's own transport.
 */
export class CoalescingEngine extends EngineServer {
  private checked = false;

  constructor(
    options: ServerOptions,
    private readonly state: EngineState,
    private readonly maxOutbound: number,
  ) {
    super(options);
  }

  protected override createTransport(transportName: Parameters<EngineServer['handshake']>[0], req: IncomingMessage): Transport {
    if (transportName !== 'websocket' || !this.state.websocketTransport) return super.createTransport(transportName, req);
    if (this.checked) return new CoalescingWebSocket(req as EngineRequest, this.maxOutbound);
    this.checked = true;
    const wsProblems = webSocketProblems(req);
    if (wsProblems.length > 0) {
      this.state.disable(new Map([['websocketTransport', wsProblems]]), 'on the first WebSocket connection');
      return super.createTransport(transportName, req);
    }
    const transport = new CoalescingWebSocket(req as EngineRequest, this.maxOutbound);
    const problems = transportProblems(transport);
    if (problems.length === 0) return transport;
    this.state.disable(new Map([['websocketTransport', problems]]), 'on the first WebSocket connection');
    // Built already (it listens on the ws socket): it stays, writing through its base class from now on.
    transport.leaveToEngine();
    return transport;
  }
}
