import { Socket as NetSocket } from 'node:net';
import { transports } from 'engine.io';
import type { Packet } from 'engine.io-parser';

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
 */
const WebSocketTransport = transports.websocket;
type EngineRequest = ConstructorParameters<typeof WebSocketTransport>[0];

const corked = new Set<NetSocket>();
let uncorkScheduled = false;

function uncorkAll(): void {
  uncorkScheduled = false;
  for (const socket of corked) socket.uncork();
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
  socket: { send(data: unknown): void };
}

/** The fields of an Engine.IO socket {@link writeToConnection} checks (not in its public type). */
interface EngineConnection {
  readonly transport: unknown;
  readonly readyState: string;
  readonly writeBuffer: readonly unknown[];
}

class CoalescingWebSocket extends WebSocketTransport {
  private readonly tcp: NetSocket | undefined;
  /** `ws` frames and writes a packet that was not pre-encoded (acks, single emits, pings). */
  private readonly sendEncoded = (data: unknown): void => (this as unknown as TransportInternals).socket.send(data);

  constructor(req: EngineRequest) {
    super(req);
    const raw: unknown = req.websocket?._socket;
    this.tcp = raw instanceof NetSocket ? raw : undefined;
  }

  /** The TCP socket, if frames may be written to it directly (open, and no per-message deflate). */
  private usableSocket(): NetSocket | undefined {
    const tcp = this.tcp;
    return tcp && !tcp.destroyed && !(this as unknown as TransportInternals).perMessageDeflate ? tcp : undefined;
  }

  /**
   * Queues a complete WebSocket frame in this turn's write, or returns false if this connection cannot take
   * frames directly (closed, or per-message deflate on): then it must go through Engine.IO.
   */
  writeFrame(frame: Buffer): boolean {
    const tcp = this.usableSocket();
    if (!tcp) return false;
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
 * Writes a broadcast's frame straight into a connection's socket, skipping Engine.IO's per-packet
 * bookkeeping, when that keeps the order of everything sent to it: the connection is open on this
 * transport and Engine.IO holds nothing queued for it. Returns false otherwise; send through Engine.IO then.
 */
export function writeToConnection(connection: unknown, frame: Buffer): boolean {
  const conn = connection as EngineConnection;
  return conn.transport instanceof CoalescingWebSocket && conn.readyState === 'open' && conn.writeBuffer.length === 0 && conn.transport.writeFrame(frame);
}

let installed = false;

/**
 * Makes every Engine.IO server in this process use the coalescing WebSocket transport. Engine.IO looks
 * transports up by name in this shared table when a connection arrives, so installing once suffices.
 */
export function installWriteCoalescing(): void {
  if (installed) return;
  installed = true;
  transports.websocket = CoalescingWebSocket;
}
