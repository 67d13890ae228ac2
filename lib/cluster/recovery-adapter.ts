import { randomBytes } from 'node:crypto';
import { Adapter, type BroadcastOptions, type Session } from 'socket.io-adapter';
import { RestoringSessions, type ConnectingNamespace } from './restoring-sessions.js';

/** What one process keeps for connection-state recovery. */
export interface RecoveryBounds {
  /** How long (ms) a session and a broadcast are kept: `--recovery-window`. */
  readonly windowMs: number;
  /** Bytes of kept broadcasts at most (their encoded size), all namespaces together: `--recovery-buffer`. */
  readonly maxBytes: number;
  /** What the namespaces keep now, in bytes: one count shared by every adapter of the process. */
  readonly budget: { bytes: number };
  /** Kept broadcasts at most per namespace, whatever their size. */
  readonly maxPackets: number;
  /** Disconnected sessions kept at most per namespace; the oldest go first. */
  readonly maxSessions: number;
  /** Whether the namespace called `name` recovers sessions (see lib/delivery/recovery.ts): others run as Socket.IO's plain adapter. */
  covers(name: string): boolean;
}

/** Sessions kept at most per namespace by default: about 100 bytes each plus the socket's rooms and data. */
export const RECOVERY_MAX_SESSIONS = 100_000;

/** Rooms whose last dropped broadcast is remembered one by one; past it, one floor for all (see below). */
const MAX_WATERMARKS = 10_000;

/** Stands for "every socket of the namespace" among the room watermarks: no room id is empty. */
const EVERY_SOCKET = '';

const NO_ROOMS: ReadonlySet<string> = new Set();

/** One kept broadcast. */
interface KeptPacket {
  readonly seq: number;
  readonly rooms: ReadonlySet<string>;
  readonly except: ReadonlySet<string>;
  readonly data: unknown[];
  readonly emittedAt: number;
  bytes: number;
}

/** The adapter's private encoder, called once per broadcast by Socket.IO's path and by lib/engine/'s. */
interface EncodingAdapter {
  _encode(packet: unknown, packetOpts: Record<string, unknown>): unknown[];
}

/** What Socket.IO hands `persistSession`. */
type SessionToPersist = Parameters<Adapter['persistSession']>[0];

/** A disconnected session, kept until it is restored or expires. */
interface KeptSession {
  readonly session: SessionToPersist;
  readonly disconnectedAt: number;
}

/**
 * The in-memory adapter with connection-state recovery, bounded, and able to recover a socket that received
 * nothing before its connection dropped.
 *
 * Socket.IO's own `SessionAwareAdapter` keeps every broadcast of the window without a bound on bytes (a
 * flood of large messages grows the process without limit), and recovers a session only when the client's
 * last offset is still kept: a client that received nothing yet has no offset, and one in a quiet room whose
 * last broadcast is older than the window has an expired one, so neither is ever recovered.
 *
 * Here offsets are sequence numbers (with this process's epoch, so that a restarted server refuses the old
 * ones) and a session is recovered when no broadcast it could have missed was dropped: the last dropped
 * sequence number is remembered per room (of at most {@link MAX_WATERMARKS} rooms, then as one floor for
 * all, which is stricter and so still safe). Every new session is told the current offset at connect
 * (lib/delivery/recovery.ts), so that it can be recovered from its first second on. A session is restored
 * at most once. Kept broadcasts are bounded by age (the window), count and encoded bytes.
 *
 * The fast broadcast of lib/engine/ replaces `Adapter.prototype.broadcast`, which this class calls after
 * adding the offset: the fast path keeps it. The bytes are counted in `_encode`, which both paths call once
 * per broadcast, so that nothing is serialised twice.
 */
export function recoveryAdapter(bounds: RecoveryBounds): typeof Adapter {
  return class RecoveryAdapter extends Adapter {
    readonly #epoch = randomBytes(4).toString('hex');
    /** Kept broadcasts, oldest first, from index #head on (the array is compacted now and then). */
    #packets: (KeptPacket | undefined)[] = [];
    #head = 0;
    #bytes = 0;
    #lastSeq = 0;
    /** The one being broadcast now, whose encoded size `_encode` records. */
    #measuring: KeptPacket | undefined;
    /** Room → the highest sequence number dropped of a broadcast to it. */
    #dropped = new Map<string, number>();
    /** Every broadcast up to this one may have been dropped, whatever its rooms. */
    #floor = 0;
    #sessions = new Map<string, KeptSession>();
    /** Broadcasts between a session's restore and its connect (see restoring-sessions.ts). */
    readonly #restoring = new RestoringSessions();
    readonly #timer: NodeJS.Timeout;

    readonly #enabled: boolean;

    constructor(nsp: ConnectingNamespace) {
      super(nsp);
      this.#enabled = bounds.covers(nsp.name);
      if (this.#enabled) this.#restoring.install(nsp, this);
      // Expiry also without traffic: a quiet namespace lets go of its sessions and packets too.
      this.#timer = setInterval(() => this.#expire(Date.now()), Math.max(1000, Math.min(bounds.windowMs, 10_000)));
      this.#timer.unref();
      // `_encode` is private in the adapter's types: wrapped on the instance, where both broadcast paths find it.
      const self = this as unknown as EncodingAdapter;
      const encode = self._encode.bind(this);
      self._encode = (packet, packetOpts) => {
        const encoded = encode(packet, packetOpts);
        const measuring = this.#measuring;
        if (measuring && (packet as { data?: unknown }).data === measuring.data) {
          this.#measuring = undefined;
          for (const part of encoded) measuring.bytes += typeof part === 'string' ? part.length : Buffer.byteLength(part as Buffer);
        }
        return encoded;
      };
    }

    /** The offset of the newest broadcast: what a new session starts from (undefined where recovery is off). */
    currentOffset(): string | undefined {
      if (!this.#enabled) return undefined;
      return `${this.#epoch}-${this.#lastSeq.toString(36)}`;
    }

    override persistSession(session: SessionToPersist): void {
      if (!this.#enabled) return;
      // Re-inserted at the end: the map's order is the order of disconnection, oldest first.
      this.#sessions.delete(session.pid);
      this.#sessions.set(session.pid, { session, disconnectedAt: Date.now() });
      if (this.#sessions.size > bounds.maxSessions) {
        const [oldest] = this.#sessions.keys();
        if (oldest !== undefined) this.#sessions.delete(oldest);
      }
    }

    override restoreSession(pid: string, offset: string): Promise<Session> {
      const kept = this.#sessions.get(pid);
      this.#sessions.delete(pid);
      const since = this.#sequenceOf(offset);
      // Socket.IO's own adapter answers a failed restore with null (typed as a Session): a clean session follows.
      const none = Promise.resolve(null as unknown as Session);
      if (!kept || since === undefined || kept.disconnectedAt + bounds.windowMs < Date.now()) return none;
      const rooms = kept.session.rooms;
      if (!this.#nothingDropped(rooms, since)) return none;
      const missedPackets: unknown[][] = [];
      for (let i = this.#firstAfter(since); i < this.#packets.length; i++) {
        const packet = this.#packets[i] as KeptPacket;
        if (reaches(packet, rooms)) missedPackets.push(packet.data);
      }
      this.#restoring.restored(kept.session.sid, rooms);
      return Promise.resolve({ ...kept.session, missedPackets });
    }

    override broadcast(packet: { type?: number; id?: number; data?: unknown[] }, opts: BroadcastOptions): void {
      // As Socket.IO's: an event without ack, not volatile. (An ack cannot be restored.)
      if (
        this.#enabled &&
        packet.type === 2 &&
        packet.id === undefined &&
        opts.flags?.volatile === undefined &&
        Array.isArray(packet.data)
      ) {
        const seq = ++this.#lastSeq;
        // The client keeps the last string argument of an event as its offset.
        packet.data.push(`${this.#epoch}-${seq.toString(36)}`);
        const kept: KeptPacket = {
          seq,
          // Socket.IO builds fresh sets for every broadcast: kept as they are, not copied.
          rooms: opts.rooms,
          except: opts.except ?? NO_ROOMS,
          data: packet.data,
          emittedAt: Date.now(),
          bytes: 0,
        };
        this.#packets.push(kept);
        this.#restoring.delivered(packet.data, opts, '');
        this.#measuring = kept;
        try {
          super.broadcast(packet, opts);
        } finally {
          this.#measuring = undefined;
        }
        // Not measured when no path encoded it (an adapter upgrade): counted by its JSON instead.
        if (kept.bytes === 0) kept.bytes = JSON.stringify(kept.data).length;
        this.#bytes += kept.bytes;
        bounds.budget.bytes += kept.bytes;
        this.#expire(kept.emittedAt);
        return;
      }
      super.broadcast(packet, opts);
    }

    override close(): void {
      clearInterval(this.#timer);
      this.#sessions.clear();
      this.#packets = [];
      this.#head = 0;
      bounds.budget.bytes -= this.#bytes;
      this.#bytes = 0;
    }

    /** Drops what is past the bounds: packets over age, count or bytes, sessions over age. */
    #expire(now: number): void {
      const oldest = now - bounds.windowMs;
      while (this.#head < this.#packets.length) {
        const packet = this.#packets[this.#head] as KeptPacket;
        const live = this.#packets.length - this.#head;
        if (packet.emittedAt >= oldest && live <= bounds.maxPackets && bounds.budget.bytes <= bounds.maxBytes) break;
        this.#drop(packet);
        // Released now, not at the next compaction: a dropped packet's payload must not outlive it.
        this.#packets[this.#head++] = undefined;
      }
      // Compacted when most of the array is dropped: amortised O(1) per packet.
      if (this.#head > 1024 && this.#head * 2 > this.#packets.length) {
        this.#packets = this.#packets.slice(this.#head);
        this.#head = 0;
      }
      for (const [pid, kept] of this.#sessions) {
        if (kept.disconnectedAt >= oldest) break;
        this.#sessions.delete(pid);
      }
    }

    /** Drops a kept packet; a namespace over the shared budget drops its own oldest first. */
    #drop(packet: KeptPacket): void {
      this.#bytes -= packet.bytes;
      bounds.budget.bytes -= packet.bytes;
      if (packet.rooms.size === 0) this.#dropped.set(EVERY_SOCKET, packet.seq);
      for (const room of packet.rooms) this.#dropped.set(room, packet.seq);
      if (this.#dropped.size > MAX_WATERMARKS) {
        // Forget the rooms, remember the highest: stricter than before, never laxer.
        this.#floor = packet.seq;
        this.#dropped.clear();
      }
    }

    /** Whether every broadcast after `since` that `rooms` could have received is still kept. */
    #nothingDropped(rooms: readonly string[], since: number): boolean {
      if (this.#floor > since || (this.#dropped.get(EVERY_SOCKET) ?? 0) > since) return false;
      return rooms.every((room) => (this.#dropped.get(room) ?? 0) <= since);
    }

    /** Index of the first kept packet after sequence number `since` (binary search: they are in order). */
    #firstAfter(since: number): number {
      let low = this.#head;
      let high = this.#packets.length;
      while (low < high) {
        const mid = (low + high) >>> 1;
        if ((this.#packets[mid] as KeptPacket).seq <= since) low = mid + 1;
        else high = mid;
      }
      return low;
    }

    /** The sequence number of an offset this adapter gave, or undefined (another process's, or forged). */
    #sequenceOf(offset: string): number | undefined {
      const dash = offset.indexOf('-');
      if (dash < 0 || offset.slice(0, dash) !== this.#epoch) return undefined;
      const digits = offset.slice(dash + 1);
      if (!/^[0-9a-z]{1,11}$/.test(digits)) return undefined;
      const seq = parseInt(digits, 36);
      return seq <= this.#lastSeq ? seq : undefined;
    }
  };
}

/** Socket.IO's rule: a broadcast reaches a session in one of its rooms (or all, for none) and in none of its excepted ones. */
function reaches(packet: KeptPacket, rooms: readonly string[]): boolean {
  const included = packet.rooms.size === 0 || rooms.some((room) => packet.rooms.has(room));
  return included && rooms.every((room) => !packet.except.has(room));
}

/** Whether `adapter` is one {@link recoveryAdapter} made, with its offset. */
export function currentOffsetOf(adapter: unknown): string | undefined {
  const offsetOf = (adapter as { currentOffset?: unknown }).currentOffset;
  return typeof offsetOf === 'function' ? (offsetOf.call(adapter) as string | undefined) : undefined;
}
