import type { Logger } from 'pino';
import { Adapter, type BroadcastOptions } from 'socket.io-adapter';
import { RestoringSessions, type ConnectingNamespace } from './restoring-sessions.js';

/** What the tracker uses of the node-redis client that publishes the broadcasts. */
export interface OffsetsClient {
  readonly isReady: boolean;
  xRevRange(key: string, end: string, start: string, options: { COUNT: number }): Promise<{ id: string }[] | null>;
  xAdd(key: string, id: string, fields: Record<string, string>): Promise<string>;
  on(event: 'ready', listener: () => void): unknown;
}

/** A broadcast as the adapter gets it. */
interface Packet {
  type?: number;
  data?: unknown[];
}

/** The part of a streams adapter this module wraps (socket.io-adapter's ClusterAdapter and the streams adapter). */
interface StreamAdapter {
  readonly nsp: ConnectingNamespace & { readonly sockets: ReadonlyMap<string, unknown> };
  broadcast(packet: Packet, opts: BroadcastOptions): unknown;
  persistSession(session: unknown): void;
  restoreSession(pid: string, offset: string): Promise<unknown>;
  addOffsetIfNecessary?: unknown;
}

type AdapterFactory<A> = (nsp: unknown) => A;
type AddOffset = (packet: Packet, opts: BroadcastOptions, offset: string) => void;

/** The field of the marker entry: it has no `nsp`, so every node's reader and every session restore skip it. */
const MARKER_FIELDS = { marker: 'offset' };

/** Socket.IO's own (in-memory) broadcast, as lib/engine/ may have replaced it: this node's sockets only. */
const localBroadcast = (adapter: unknown, packet: Packet, opts: BroadcastOptions): void => {
  Adapter.prototype.broadcast.call(adapter as Adapter, packet, opts);
};

/**
 * Connection-state recovery on `@socket.io/redis-streams-adapter`, where the service needs more than it does:
 *
 * - **A start offset.** The adapter recovers a session from the stream entry id the client last received, and
 *   only when that entry still exists; a client that received nothing has no id and is never recovered. Any
 *   entry will do as a start (a restore replays the entries after it that reach the session's rooms), so the
 *   node tells new sessions ({@link newest}) the newest entry it has delivered to its own sockets. It reads
 *   the stream's last entry when Redis becomes ready, and if the stream is empty adds a marker entry (without
 *   a namespace, so ignored by every reader), so that there is always an entry to start from.
 * - **Replies that stay replies.** With recovery on, Socket.IO sends every `socket.emit` through the adapter,
 *   which here means an XADD to the stream that every node reads, and a delivery only once Redis answered:
 *   PEERS, CLIENTS, ERROR and the like would arrive after the ack they belong before, and cost the cluster a
 *   stream entry each. An emit to one socket of this node is delivered at once instead, as without recovery.
 *   It is not replayed after a drop; one whose last argument is a string (which the client would take as its
 *   offset) carries the newest delivered offset, which the client has then received everything up to.
 * - **A broadcast while a restored session connects** is kept for it (restoring-sessions.ts): the
 *   adapter's restore reads the stream up to that moment, and the socket is in no namespace's sockets yet.
 * - **Namespaces without recovery.** Socket.IO's option is server-wide; the namespaces `covers` leaves out
 *   keep no sessions and add no offset.
 */
export class StreamOffsets {
  #newest: string | undefined;
  #known: () => void = () => {};
  readonly #first = new Promise<void>((resolve) => (this.#known = resolve));

  constructor(
    private readonly client: OffsetsClient,
    private readonly streamName: string,
    private readonly log: Logger,
  ) {
    client.on('ready', () => void this.#seed());
  }

  /** The id of the newest entry delivered here, or undefined before Redis was first ready. */
  newest(): string | undefined {
    return this.#newest;
  }

  /** Resolves once {@link newest} is known (never rejects; bound it with a deadline). */
  known(): Promise<void> {
    return this.#first;
  }

  /** Wraps the adapter factory as described above; `covers` tells which namespaces recover sessions. */
  adapters<A extends object>(factory: AdapterFactory<A>, covers: (namespace: string) => boolean): AdapterFactory<A> {
    const seen = (id: string): void => this.#seen(id);
    const newest = (): string | undefined => this.#newest;
    // A function, not an arrow: Socket.IO calls the adapter option with `new` (the object it returns is the adapter).
    return function adapterOf(nsp) {
      const built = factory(nsp);
      // Its private members, typed here: the shape is checked just below.
      const adapter = built as unknown as StreamAdapter;
      if (typeof adapter.addOffsetIfNecessary !== 'function')
        throw new Error('socket.io-adapter ClusterAdapter lacks addOffsetIfNecessary: see lib/cluster/stream-offsets.ts');
      if (!covers(adapter.nsp.name)) {
        adapter.addOffsetIfNecessary = () => {};
        adapter.persistSession = () => {};
        adapter.restoreSession = () => Promise.reject(new Error('connection-state recovery is off for this namespace'));
        return built;
      }
      const restoring = new RestoringSessions();
      restoring.install(adapter.nsp, built as unknown as Adapter);
      const restore = adapter.restoreSession.bind(adapter);
      adapter.restoreSession = async (pid, offset) => {
        // The reader's answers and the restore's reads come on different connections: an entry added just
        // after the restore's last read may be delivered here before that read's answer, or a read entry
        // after it. So every delivery during the restore is seen, and what the restore returned is not kept twice.
        const meanwhile = restoring.watch();
        let session: unknown;
        try {
          session = await restore(pid, offset);
        } catch (err) {
          meanwhile();
          throw err;
        }
        const during = meanwhile();
        if (isRestored(session)) {
          const last = lastOffsetOf(session.missedPackets) ?? offset;
          restoring.restored(session.sid, session.rooms, (id) => id !== '' && newer(id, last), during);
        }
        return session;
      };
      // Called just before a broadcast reaches this node's sockets (read from the stream, or published here).
      const addOffset = (adapter.addOffsetIfNecessary as AddOffset).bind(adapter);
      adapter.addOffsetIfNecessary = (packet: Packet, opts: BroadcastOptions, offset: string) => {
        addOffset(packet, opts, offset);
        if (offset !== '') seen(offset);
        if (Array.isArray(packet.data)) restoring.delivered(packet.data, opts, offset);
      };
      const broadcast = adapter.broadcast.bind(adapter);
      adapter.broadcast = (packet, opts) => {
        if (!toOneLocalSocket(adapter, opts)) return broadcast(packet, opts);
        const data = packet.data;
        const offset = newest();
        if (packet.type === 2 && Array.isArray(data) && typeof data[data.length - 1] === 'string' && offset !== undefined)
          data.push(offset);
        return localBroadcast(adapter, packet, opts);
      };
      return built;
    };
  }

  async #seed(): Promise<void> {
    try {
      const [last] = (await this.client.xRevRange(this.streamName, '+', '-', { COUNT: 1 })) ?? [];
      this.#seen(last?.id ?? (await this.client.xAdd(this.streamName, '*', MARKER_FIELDS)));
    } catch (err) {
      // Without a seed, new sessions start from the first entry delivered; until then they get no offset.
      this.log.warn({ err }, 'could not read the stream head for recovery offsets');
    }
  }

  #seen(id: string): void {
    if (this.#newest === undefined || newer(id, this.#newest)) this.#newest = id;
    this.#known();
  }
}

/** Whether the adapter's restore found a session (its sid, rooms and missed packets). */
function isRestored(session: unknown): session is { sid: string; rooms: string[]; missedPackets: unknown[] } {
  if (typeof session !== 'object' || session === null) return false;
  const { sid, rooms, missedPackets } = session as { sid?: unknown; rooms?: unknown; missedPackets?: unknown };
  return typeof sid === 'string' && Array.isArray(rooms) && rooms.every((room) => typeof room === 'string') && Array.isArray(missedPackets);
}

/** The stream id the adapter appended to the last missed packet (each packet's data ends with its entry id). */
function lastOffsetOf(missedPackets: readonly unknown[]): string | undefined {
  const last = missedPackets.at(-1);
  const id = Array.isArray(last) ? (last as unknown[]).at(-1) : undefined;
  return typeof id === 'string' ? id : undefined;
}

/** Whether a broadcast goes to exactly one socket, of this node (a `socket.emit`, or `to(id)` of a local peer). */
function toOneLocalSocket(adapter: StreamAdapter, opts: BroadcastOptions): boolean {
  if (opts.rooms.size !== 1 || (opts.except?.size ?? 0) > 0 || opts.flags?.local === true) return false;
  const [room] = opts.rooms;
  return room !== undefined && adapter.nsp.sockets.has(room);
}

/** Whether stream id `a` (`<ms>-<seq>`) comes after `b`. */
function newer(a: string, b: string): boolean {
  const [aMs = '', aSeq = ''] = a.split('-');
  const [bMs = '', bSeq = ''] = b.split('-');
  if (aMs.length !== bMs.length) return aMs.length > bMs.length;
  if (aMs !== bMs) return aMs > bMs;
  return Number(aSeq) > Number(bSeq);
}
