/**
 * The plain-rooms half of the chaos scenario: `/layout` clients (socket.io-client v4) in rooms of a few
 * members, spread over the nodes, NOTIFYing their room in turn at a steady rate. A client JOINs on every
 * connect that did not recover its session (as README "Recovering a dropped connection" tells an
 * application to), and sends only while connected and joined. Each receiver records the NOTIFYs it got;
 * at the end every room gets a fence NOTIFY, which arriving everywhere says the room's traffic is over.
 */
import { performance } from 'node:perf_hooks';
import type { Socket } from 'socket.io-client';
import type { LayoutClientToServerEvents, LayoutServerToClientEvents } from '../protocol/index.js';
import { clientAddress } from './addresses.js';
import { ChaosClient, type GapCause, type ReconnectTiming } from './chaos-client.js';
import { until } from './scenarios.js';

type LayoutSocket = Socket<LayoutServerToClientEvents, LayoutClientToServerEvents>;

/** How long a sender waits for a NOTIFY's ack before it counts it unanswered. */
const ACK_TIMEOUT_MS = 5000;
/** A NOTIFY sent this long before its receiver's disconnect may have been on the wire when it dropped. */
const IN_FLIGHT_MS = 250;
/** The fence's sequence number: no NOTIFY's. */
const FENCE = -1;
/** An acked NOTIFY nobody received, sent by a client of the killed node this long before the kill, died with the node. */
const KILL_WINDOW_MS = 1000;

/** One NOTIFY sent. */
interface Sent {
  readonly room: number;
  readonly sender: number;
  readonly t: number;
  /** The sender's node when it sent it. */
  readonly node: number;
  /** `true` acked ok, `false` refused or unanswered, undefined while pending. */
  acked: boolean | undefined;
  /** Receivers that got it. */
  receivers: number;
}

/** One member and what it received. */
interface Member {
  readonly index: number;
  readonly room: number;
  readonly client: ChaosClient<LayoutSocket>;
  joined: boolean;
  readonly received: Set<number>;
  fenced: boolean;
}

/** Where the receivers' misses happened. */
export interface Misses {
  /** The receiver was away, its connection dropped by the scenario, and it came back with a recovered session. */
  dropRecovered: number;
  /** … and came back with a new session. */
  dropNotRecovered: number;
  /** The receiver was on the killed node and away. */
  kill: number;
  /** Anything else: the receiver was connected. */
  connected: number;
}

/** What the plain rooms saw. */
export interface RoomStats {
  clients: number;
  roomSize: number;
  /** NOTIFYs sent (a client sends only while connected and joined). */
  sent: number;
  /** Received by someone, or acked ok (but for {@link lostWithNode}): published. */
  published: number;
  /**
   * NOTIFYs acked ok that nobody received, sent through the killed node in the second before the kill: the
   * node acked them and died before they reached Redis. Not counted as published.
   */
  lostWithNode: number;
  /** NOTIFYs not acked ok (refused, or the ack lost with the connection) that nobody received: not published. */
  unpublished: number;
  /** NOTIFYs not acked ok but received by someone: counted as published. */
  unackedButDelivered: number;
  /** Receptions expected: each published NOTIFY times the other members of its room. */
  expected: number;
  /** Of those, received. */
  delivered: number;
  /** Receptions of a NOTIFY the receiver already had. */
  duplicates: number;
  misses: Misses;
  /** Members never given a new session (none of their reconnections failed to recover), and what they were owed and got. */
  alwaysRecovered: { members: number; expected: number; delivered: number };
  /** Whether every room's fence reached every member before the drain deadline. */
  fenced: boolean;
}

/** How the room workload runs. */
export interface RoomShape {
  readonly clients: number;
  readonly roomSize: number;
  readonly notifiesPerSecond: number;
  readonly timing: ReconnectTiming;
}

/** The started room workload. */
export class RoomChaos {
  readonly #sent = new Map<number, Sent>();
  #seq = 0;
  #timer: NodeJS.Timeout | undefined;
  #killedAt: { node: number; t: number } | undefined;
  #duplicates = 0;

  private constructor(
    private readonly members: readonly Member[],
    private readonly shape: RoomShape,
  ) {}

  /** Connects and JOINs every member, alternating the nodes; resolves once all are joined. */
  static async start(urls: readonly string[], shape: RoomShape, connectMs: number, addressOffset: number): Promise<RoomChaos> {
    const members: Member[] = [];
    for (let i = 0; i < shape.clients; i++) {
      const client = new ChaosClient<LayoutSocket>(urls, '/layout', i % urls.length, shape.timing, {
        localAddress: clientAddress(addressOffset + i),
      });
      members.push({ index: i, room: Math.floor(i / shape.roomSize), client, joined: false, received: new Set(), fenced: false });
    }
    const rooms = new RoomChaos(members, shape);
    for (const member of members) rooms.#listen(member);
    await Promise.all(members.map((member) => member.client.firstConnect(connectMs))).catch((err: unknown) => {
      rooms.close();
      throw err;
    });
    await until(() => members.every((member) => member.joined), connectMs);
    if (members.some((member) => !member.joined)) {
      rooms.close();
      throw new Error('room members not joined in time');
    }
    return rooms;
  }

  /** Every member's client (for the jitter). */
  clients(): ChaosClient<LayoutSocket>[] {
    return this.members.map((member) => member.client);
  }

  /** Notes the kill of `node` at `t`: NOTIFYs its clients sent just before it may have died with it. */
  killed(node: number, t: number): void {
    this.#killedAt = { node, t };
  }

  /** Starts NOTIFYing at the shape's rate, the members in turn; one not connected and joined skips its turn. */
  run(): void {
    const start = performance.now();
    let turns = 0;
    this.#timer = setInterval(() => {
      const due = Math.floor(((performance.now() - start) * this.shape.notifiesPerSecond) / 1000);
      for (; turns < due; turns++) {
        const member = this.members[turns % this.members.length];
        if (member && member.joined && member.client.connected) this.#notify(member);
      }
    }, 5);
  }

  /** Stops NOTIFYing, waits until every member is back and joined and every room's fence reached every member. */
  async drain(deadlineMs: number): Promise<void> {
    clearInterval(this.#timer);
    const deadline = performance.now() + deadlineMs;
    const left = (): number => Math.max(0, deadline - performance.now());
    await until(() => this.members.every((m) => m.joined && m.client.connected), left());
    const rooms = new Set(this.members.map((member) => member.room));
    for (const room of rooms) {
      const sender = this.members.find((member) => member.room === room && member.joined && member.client.connected);
      if (!sender) continue;
      sender.fenced = true;
      sender.client.socket.timeout(ACK_TIMEOUT_MS).emit('NOTIFY', { room: `r${room}`, message: `${FENCE}|0|` }, () => undefined);
    }
    await until(() => this.members.every((m) => m.fenced), left());
  }

  /** The figures (after {@link drain}). */
  stats(): RoomStats {
    const misses: Misses = { dropRecovered: 0, dropNotRecovered: 0, kill: 0, connected: 0 };
    const always = { members: 0, expected: 0, delivered: 0 };
    let lostWithNode = 0;
    let unpublished = 0;
    let unackedButDelivered = 0;
    const counted = new Set<Sent>();
    const kill = this.#killedAt;
    for (const sent of this.#sent.values()) {
      if (sent.receivers > 0) {
        if (sent.acked !== true) unackedButDelivered++;
        counted.add(sent);
      } else if (sent.acked !== true) unpublished++;
      else if (kill && sent.node === kill.node && sent.t <= kill.t && sent.t >= kill.t - KILL_WINDOW_MS) lostWithNode++;
      else counted.add(sent);
    }
    let expected = 0;
    let delivered = 0;
    for (const member of this.members) {
      const recoveredAlways = member.client.gaps.every((gap) => gap.recovered);
      if (recoveredAlways) always.members++;
      for (const [seq, sent] of this.#sent) {
        if (sent.room !== member.room || sent.sender === member.index || !counted.has(sent)) continue;
        expected++;
        if (recoveredAlways) always.expected++;
        if (member.received.has(seq)) {
          delivered++;
          if (recoveredAlways) always.delivered++;
          continue;
        }
        const gap = member.client.awayAt(sent.t, IN_FLIGHT_MS);
        misses[missKind(gap?.cause, gap?.recovered === true)]++;
      }
    }
    return {
      clients: this.members.length,
      roomSize: this.shape.roomSize,
      sent: this.#sent.size,
      published: counted.size,
      unpublished,
      lostWithNode,
      unackedButDelivered,
      expected,
      delivered,
      duplicates: this.#duplicates,
      misses,
      alwaysRecovered: always,
      fenced: this.members.every((member) => member.fenced),
    };
  }

  close(): void {
    clearInterval(this.#timer);
    for (const member of this.members) member.client.close();
  }

  #listen(member: Member): void {
    const { socket } = member.client;
    socket.on('connect', () => {
      if (socket.recovered) return;
      member.joined = false;
      socket.timeout(ACK_TIMEOUT_MS).emit('JOIN', { room: `r${member.room}`, name: `c${member.index}` }, (err, answer) => {
        if (!err && answer.ok) member.joined = true;
      });
    });
    socket.on('EVENT', ({ message }) => {
      if (typeof message !== 'string') return;
      const seq = Number(message.slice(0, message.indexOf('|')));
      if (seq === FENCE) {
        member.fenced = true;
        return;
      }
      if (member.received.has(seq)) {
        this.#duplicates++;
        return;
      }
      member.received.add(seq);
      const sent = this.#sent.get(seq);
      if (sent) sent.receivers++;
    });
  }

  #notify(member: Member): void {
    const seq = this.#seq++;
    const sent: Sent = {
      room: member.room,
      sender: member.index,
      t: performance.now(),
      node: member.client.node,
      acked: undefined,
      receivers: 0,
    };
    this.#sent.set(seq, sent);
    member.client.socket
      .timeout(ACK_TIMEOUT_MS)
      .emit('NOTIFY', { room: `r${member.room}`, message: `${seq}|${sent.t.toFixed(1)}|` }, (err, answer) => {
        sent.acked = !err && answer.ok;
      });
  }
}

function missKind(cause: GapCause | undefined, recovered: boolean): keyof Misses {
  if (cause === undefined) return 'connected';
  if (cause === 'kill') return 'kill';
  return recovered ? 'dropRecovered' : 'dropNotRecovered';
}
