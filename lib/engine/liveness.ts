import type { Socket as NetSocket } from 'node:net';
import type { Packet } from 'engine.io-parser';

/**
 * Heartbeats that prove a client reads.
 *
 * Engine.IO takes any heartbeat from the client as proof of life: in protocol 4 a `pong` clears the ping
 * timeout and postpones the next ping, even if no ping was sent or the ping is still stuck behind
 * megabytes the client never read; in protocol 3 (socket.io-client 2.x) every client `ping` resets the
 * timeout. A client that reads nothing can so keep its connection, and everything queued for it, forever.
 *
 * Here a client heartbeat counts only as the answer to the server's last heartbeat packet (the `ping` in
 * protocol 4, the `pong` answering the previous client ping in protocol 3), and only once that packet has
 * left the server: its bytes were handed to the TCP socket and the socket has written everything up to
 * them. Any other client heartbeat is dropped before Engine.IO sees it, so it neither clears the timeout
 * nor postpones the next ping; Engine.IO's own ping timeout then closes a client that does not read.
 */

/** The server's heartbeat packet went into a socket: it has left once the socket wrote `mark` bytes. */
interface Sent {
  readonly socket: NetSocket | undefined;
  readonly mark: number;
}

/** The server's heartbeat packet is created but still waits in Engine.IO's write buffer. */
const QUEUED = 'queued';

/** Bytes a socket has finished writing (`bytesWritten` also counts what is still queued in it). */
function writtenOut(socket: NetSocket): number {
  return socket.bytesWritten - socket.writableLength;
}

/** The heartbeat state of one Engine.IO connection; see above. */
export class Heartbeat {
  /** The server's unanswered heartbeat packet, if there is one. */
  private pending: typeof QUEUED | Sent | undefined;
  /** Whether a client heartbeat was dropped since the last one that counted (a ping timeout is then a liveness cut). */
  ignored = false;
  /** The packet type the server sends (`ping` in protocol 4, the answering `pong` in protocol 3). */
  private readonly serverBeat: 'ping' | 'pong';
  /** The packet type the client sends. */
  private readonly clientBeat: 'ping' | 'pong';

  /**
   * @param protocol - the connection's Engine.IO protocol revision (3 or 4)
   * @param conn - the Engine.IO connection (its current `transport` is read when a heartbeat is handed over)
   * @param carrierOf - the TCP socket that carries a transport's packets, if known
   */
  constructor(
    protocol: number,
    private readonly conn: { readonly transport: unknown },
    private readonly carrierOf: (transport: unknown) => NetSocket | undefined,
  ) {
    this.serverBeat = protocol === 3 ? 'pong' : 'ping';
    this.clientBeat = protocol === 3 ? 'ping' : 'pong';
  }

  /** Engine.IO created a packet for the connection (its `packetCreate` event). */
  created(type: string): void {
    if (type === this.serverBeat) this.pending = QUEUED;
  }

  /**
   * Engine.IO hands `packets` to the transport (its `flush` event); returns whether the server's heartbeat
   * is among them, in which case call {@link handed} right after the transport took them (the `drain`
   * Engine.IO emits at once).
   */
  flushing(packets: readonly Packet[]): boolean {
    return this.pending === QUEUED && packets.some((packet) => packet.type === this.serverBeat);
  }

  /** The transport took the heartbeat: it has left once the socket wrote everything it holds now. */
  handed(): void {
    const socket = this.carrierOf(this.conn.transport);
    this.pending = { socket, mark: socket ? socket.bytesWritten : 0 };
  }

  /** Whether a packet from the client may reach Engine.IO: anything but a heartbeat that proves nothing. */
  admit(packet: Packet): boolean {
    if (packet.type !== this.clientBeat || packet.data === 'probe') return true;
    const pending = this.pending;
    // Protocol 3: the client speaks first, so with nothing pending its ping counts.
    const counts =
      pending === undefined
        ? this.clientBeat === 'ping'
        : pending !== QUEUED && (!pending.socket || pending.socket.destroyed || writtenOut(pending.socket) >= pending.mark);
    if (!counts) {
      this.ignored = true;
      return false;
    }
    this.pending = undefined;
    this.ignored = false;
    return true;
  }
}

/** Where a transport keeps the heartbeat state of its connection (set once the connection owns it). */
const HEARTBEAT = Symbol('realtime-rooms.heartbeat');

/** A transport with its heartbeat filter: Engine.IO's `Transport` as far as this module touches it. */
interface FilteredTransport {
  [HEARTBEAT]?: Heartbeat;
  onPacket(packet: Packet): void;
}

/**
 * The filter put on each transport as its own `onPacket` (Engine.IO's transports decode into
 * `this.onPacket`, which emits `packet` to the connection): drops what {@link Heartbeat.admit} refuses.
 * Shared by all transports: the class's own `onPacket` is found on the prototype.
 */
function filteredOnPacket(this: FilteredTransport, packet: Packet): void {
  const heartbeat = this[HEARTBEAT];
  if (heartbeat && !heartbeat.admit(packet)) return;
  (Object.getPrototypeOf(this) as FilteredTransport).onPacket.call(this, packet);
}

/** Puts the heartbeat filter on a transport Engine.IO just created; it passes everything until {@link ownTransport}. */
export function filterHeartbeats(transport: object): void {
  (transport as FilteredTransport).onPacket = filteredOnPacket;
}

/** Makes `transport` check client heartbeats against `heartbeat` (the connection's, on open and on each upgrade). */
export function ownTransport(transport: object, heartbeat: Heartbeat): void {
  (transport as FilteredTransport)[HEARTBEAT] = heartbeat;
}
