/**
 * The scale-out backend's interfaces, and nothing else: implementations live in memory.ts, redis.ts and
 * workers.ts, and only index.ts (the one factory) imports them.
 */
import type { ServerOptions } from 'socket.io';
import type { LostMember, ServiceHooks } from '../core/types.js';

/** Socket data that records when the socket joined each room (cluster mode only; see lib/cluster/directory.ts). */
export interface JoinStamps {
  /** Adapter room key → join stamp (wall-clock microseconds, see lib/cluster/directory.ts); absent in memory mode. */
  joins?: Record<string, number>;
}

/** What the directory reads of a socket, local or on another node. */
export interface MemberView<Data> {
  readonly id: string;
  readonly rooms: ReadonlySet<string>;
  readonly data: Data;
}

/**
 * The part of a namespace the directory queries: its adapter (the local room sets; in cluster mode also the
 * requests to the other nodes, lib/cluster/bounded-fetch.ts), its own sockets, and `in()` for one process.
 */
export interface RoomSource<Data> {
  /** The namespace's name (`/lobby`), for the logs. */
  readonly name: string;
  readonly adapter: { readonly rooms: ReadonlyMap<string, ReadonlySet<string>> };
  in(room: string): RoomQuery<Data>;
  /** This node's sockets by id. */
  readonly sockets: ReadonlyMap<string, MemberView<Data>>;
}

/** A room query: who is in it, with their data. */
export interface RoomQuery<Data> {
  fetchSockets(): Promise<MemberView<Data>[]>;
}

/**
 * What a room lookup found. In cluster mode a node that does not answer within `--cluster-timeout` (frozen,
 * flooded, or this node cut off from Redis) is left out rather than waited for: the answer is then
 * incomplete, and callers tell their clients so.
 */
export interface RoomAnswer<T> {
  /** What this node and the nodes that answered in time hold. */
  readonly members: T[];
  /** False when some node did not answer in time: members of that node may be missing. */
  readonly complete: boolean;
}

/** One adapter room and how many sockets are in it. */
export interface RoomSize {
  readonly key: string;
  readonly size: number;
}

/**
 * Whether a socket is in a room: `unknown` when it was found on no node that answered, but some node did
 * not answer in time (it may hold the socket).
 */
export type Membership = 'member' | 'absent' | 'unknown';

/**
 * Who is in a room, across every node. The in-memory implementation answers synchronously from the local
 * adapter (RTCSIGNAL's membership check allocates nothing); the cluster one asks every node through the
 * adapter and so answers with a promise. Callers handle both (see `lib/core/maybe.ts`).
 */
export interface RoomDirectory {
  /** Ids of the sockets in adapter room `key` (or in any of `key`s, each once), on every node. Order unspecified. */
  memberIds<Data>(nsp: RoomSource<Data>, key: string | readonly string[]): RoomAnswer<string> | Promise<RoomAnswer<string>>;
  /** The sockets in any of adapter rooms `keys` (each once), on every node, with their data. Order unspecified. */
  membersOfAny<Data>(nsp: RoomSource<Data>, keys: readonly string[]): RoomAnswer<MemberView<Data>> | Promise<RoomAnswer<MemberView<Data>>>;
  /** Whether the socket with id `id` is in adapter room `key`, on any node. */
  isMember<Data>(nsp: RoomSource<Data>, key: string, id: string): Membership | Promise<Membership>;
  /**
   * How many sockets are in each adapter room whose key starts with `prefix`, summed over every node (a
   * socket lives on one node, so none is counted twice). In cluster mode every node sends all of the
   * namespace's sockets (ids, rooms, data) in its answer: a cost proportional to the namespace's size.
   */
  roomSizes<Data>(nsp: RoomSource<Data>, prefix: string): RoomAnswer<RoomSize> | Promise<RoomAnswer<RoomSize>>;
  /** The sockets in adapter room `key`, on every node, in join order. */
  members<Data extends JoinStamps>(nsp: RoomSource<Data>, key: string): Promise<RoomAnswer<MemberView<Data>>>;
  /**
   * Records that socket `socketId` of this node is in client room `room` of `namespace`, or left it
   * (`undefined`), so that its peers hear of it even if this node dies (cluster mode: see
   * {@link Cluster.attach}; nothing in memory mode). For rooms whose members must learn of a departure,
   * such as lobbies.
   */
  trackMember(namespace: string, socketId: string, room: string | undefined): void;
}

/**
 * Counts each user's sockets, to tell a user's first connection and last disconnection from the others.
 * Answers now (one process) or later (a shared implementation). A shared one counts cluster-wide and also
 * finds changes no local socket made: the users of a node that died, or what an outage of its store hid.
 */
export interface PresenceCounter {
  /**
   * Counts one more socket of `user`; true when it is the user's only one. `detail` (the socket's
   * credentials, for the backend call) is kept with the count and handed back by {@link onChange}.
   */
  add(user: string, detail: string): boolean | Promise<boolean>;
  /** Counts one socket of `user` less; true when none is left (on any node). */
  remove(user: string): boolean | Promise<boolean>;
  /**
   * Subscribes to the changes found outside add/remove: `online` false for a user whose last sockets were
   * on a node that died (reported by one surviving node only), true or false for what a reconciliation
   * after a store outage found. With the `detail` of the user's latest add. Never called in one process.
   */
  onChange(listener: PresenceListener): void;
}

/** What {@link PresenceCounter.onChange} subscribers get. */
export type PresenceListener = (user: string, online: boolean, detail: string) => void;

/** The service's scale-out backend: the Socket.IO adapter and the cluster-wide lookups that go with it. */
export interface Cluster {
  /** `workers`: the processes of `--workers` on one machine, through `@socket.io/cluster-adapter` (lib/cluster/workers.ts). */
  readonly mode: 'memory' | 'redis' | 'workers';
  /** The adapter for `new Server(…, { adapter })`; undefined keeps Socket.IO's in-memory adapter. */
  readonly adapter: ServerOptions['adapter'] | undefined;
  readonly directory: RoomDirectory;
  /** Whether the adapter can reach the other nodes now (always true in memory mode). Drives `GET /readyz`. */
  isReady(): boolean;
  /**
   * Resolves when {@link isReady} equals `ready` (at once if it does now). Never rejects: bound it with a
   * deadline. In memory mode it resolves at once.
   */
  untilReady(ready?: boolean): Promise<void>;
  /**
   * Whether a broadcast made now reaches the other nodes: sent, or held for them while Redis is unreachable
   * (lib/cluster/stream-outbox.ts), within the outage buffer. Publishers refuse with `UNAVAILABLE` when not,
   * rather than ack what would be dropped. Always true in memory and workers mode.
   */
  canBroadcast(): boolean;
  /**
   * Whether a socket whose connection dropped can come back to any node and recover its session (Socket.IO's
   * connection-state recovery): in memory mode with a recovery window, and with Redis. Not with `--workers`
   * alone: `@socket.io/cluster-adapter` keeps no sessions.
   */
  readonly recovers: boolean;
  /**
   * The offset a session that starts now can later be recovered from (sent to it as `_offset`, see
   * lib/delivery/recovery.ts), for a socket of the namespace whose adapter is `adapter`; undefined when there
   * is none (no recovery, or Redis not reached yet).
   */
  recoveryOffset(adapter: unknown): string | undefined;
  /** Users' socket counts, for user-level online/offline: cluster-wide with Redis, per process otherwise. */
  readonly presence: PresenceCounter;
  /**
   * Subscribes the backend to the service's hooks (cluster mode: join stamps for member order) and starts
   * reporting the tracked members of nodes that died without shutting down to `reportLost` (within
   * NODE_TTL_MS + SWEEP_INTERVAL_MS of lib/cluster/node-registry.ts, about 4 s). Call once, before listening.
   */
  attach(hooks: ServiceHooks, reportLost: (members: readonly LostMember[]) => void): void;
  /** Releases the Redis connections, if any. Call after `io.close()`. Idempotent. */
  close(): Promise<void>;
}
