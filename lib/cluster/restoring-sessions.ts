import { Adapter, type BroadcastOptions } from 'socket.io-adapter';

/** How long a restored session may take to connect (its middlewares: an auth backend's round trip) before it is forgotten. */
const CONNECT_WITHIN_MS = 60_000;
/** Broadcasts kept at most for one restored session while it connects; past it the connection is closed (see below). */
export const MAX_LATE_PACKETS = 1000;

/** A restored session that has not connected yet. */
interface Pending {
  readonly rooms: readonly string[];
  /** Whether a broadcast of this offset is not among the restored ones already. */
  readonly isNew: (offset: string) => boolean;
  readonly since: number;
  readonly packets: unknown[][];
  overflowed: boolean;
}

/** One broadcast as this node delivered it. */
export interface Delivery {
  readonly data: unknown[];
  readonly opts: Pick<BroadcastOptions, 'rooms' | 'except'>;
  readonly offset: string;
}

/** The namespace as Socket.IO hands it to an adapter: what {@link RestoringSessions.install} listens on. */
export interface ConnectingNamespace {
  readonly name: string;
  on(event: 'connection', listener: (socket: RestoredSocket) => void): unknown;
}

/** The parts of a connected socket used here. */
export interface RestoredSocket {
  readonly id: string;
  readonly recovered: boolean;
  readonly conn: { close(): void };
}

/**
 * The broadcasts a recovered session would otherwise lose between its restore and its connect.
 *
 * Socket.IO restores a session (its missed packets are read up to that moment, and the new socket joins its
 * rooms) and only then runs the namespace's middlewares, the auth among them (the service does not skip them,
 * so that a revoked token is not recovered); the socket enters the namespace's sockets, which every broadcast
 * delivers to, after they pass. A broadcast in that window, a slow auth backend's round trip, reached neither
 * the missed packets nor the socket, and the client said `recovered` without it. Each adapter shows every
 * broadcast it delivers here ({@link delivered}), just after adding its offset; at the connect, the packets
 * that reached the session's rooms meanwhile go to the socket, before anything else can, in order, with the
 * offsets they were delivered with. Bounded: past {@link MAX_LATE_PACKETS} the connection is closed instead,
 * so that the client reconnects and recovers from the offset it really has.
 */
export class RestoringSessions {
  readonly #pending = new Map<string, Pending>();
  /** Deliveries recorded for restores in progress (see {@link watch}); undefined once one overflowed. */
  readonly #watchers = new Set<{ deliveries: Delivery[] | undefined }>();

  /**
   * Records every delivery from now until the returned function is called, which answers them (undefined
   * past {@link MAX_LATE_PACKETS}): with Redis, a node may deliver an entry that the restore's last read of
   * the stream did not return before that read's answer arrives.
   */
  watch(): () => Delivery[] | undefined {
    const watcher: { deliveries: Delivery[] | undefined } = { deliveries: [] };
    this.#watchers.add(watcher);
    return () => {
      this.#watchers.delete(watcher);
      return watcher.deliveries;
    };
  }

  /**
   * Session `sid` was restored with `rooms`: broadcasts to them are kept for it from now until it connects,
   * but for those `isNew` refuses (with Redis, a node may deliver an entry after the restore read it).
   */
  restored(
    sid: string,
    rooms: readonly string[],
    isNew: (offset: string) => boolean = () => true,
    earlier: readonly Delivery[] | undefined = [],
  ): void {
    const now = Date.now();
    for (const [id, pending] of this.#pending) {
      if (pending.since + CONNECT_WITHIN_MS >= now) break;
      this.#pending.delete(id);
    }
    this.#pending.delete(sid);
    const pending: Pending = { rooms, isNew, since: now, packets: [], overflowed: earlier === undefined };
    this.#pending.set(sid, pending);
    for (const delivery of earlier ?? []) this.#keep(pending, delivery);
  }

  /** A broadcast (its data, `offset` appended) is being delivered to this node's sockets. */
  delivered(data: unknown[], opts: Pick<BroadcastOptions, 'rooms' | 'except'>, offset: string): void {
    if (this.#pending.size === 0 && this.#watchers.size === 0) return;
    const delivery: Delivery = { data, opts, offset };
    for (const pending of this.#pending.values()) this.#keep(pending, delivery);
    for (const watcher of this.#watchers) {
      if (watcher.deliveries && watcher.deliveries.length >= MAX_LATE_PACKETS) watcher.deliveries = undefined;
      watcher.deliveries?.push(delivery);
    }
  }

  #keep(pending: Pending, { data, opts, offset }: Delivery): void {
    if (pending.overflowed || !reaches(opts, pending.rooms) || !pending.isNew(offset)) return;
    if (pending.packets.length >= MAX_LATE_PACKETS) {
      pending.overflowed = true;
      pending.packets.length = 0;
    } else pending.packets.push(data);
  }

  /**
   * Makes `adapter`'s namespace hand each recovered socket, at its connect, what {@link delivered} kept for
   * it. Socket.IO fires `connection` in the same turn that adds the socket to the namespace: nothing can be
   * delivered in between.
   */
  install(nsp: ConnectingNamespace, adapter: Adapter): void {
    nsp.on('connection', (socket) => {
      if (!socket.recovered) return;
      const pending = this.#pending.get(socket.id);
      if (!pending) return;
      this.#pending.delete(socket.id);
      if (pending.overflowed) return socket.conn.close();
      for (const data of pending.packets) {
        // This node's own delivery to the one socket: no second offset, no stream entry.
        Adapter.prototype.broadcast.call(
          adapter,
          { type: 2, data, nsp: nsp.name },
          { rooms: new Set([socket.id]), except: new Set<string>() },
        );
      }
    });
  }
}

/** Socket.IO's rule: a broadcast reaches a session in one of its rooms (or all, for none) and in none of its excepted ones. */
function reaches(opts: Pick<BroadcastOptions, 'rooms' | 'except'>, rooms: readonly string[]): boolean {
  const included = opts.rooms.size === 0 || rooms.some((room) => opts.rooms.has(room));
  return included && rooms.every((room) => !(opts.except?.has(room) ?? false));
}
