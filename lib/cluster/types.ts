/**
 * The scale-out backend's interfaces, and nothing else: implementations live in memory.ts, redis.ts and
 * workers.ts, and only index.ts (the one factory) imports them.
 */
import type { ServerOptions } from 'socket.io';

/** Socket data that records when the socket joined each room (cluster mode only; see {@link RoomDirectory.noteJoin}). */
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

/** The part of a namespace the directory queries: its local adapter rooms and the cluster-wide fetch. */
export interface RoomSource<Data> {
  readonly adapter: { readonly rooms: ReadonlyMap<string, ReadonlySet<string>> };
  in(room: string): RoomQuery<Data>;
  /** This node's sockets by id. */
  readonly sockets: ReadonlyMap<string, MemberView<Data>>;
}

/** A room query: who is in it, with their data. */
export interface RoomQuery<Data> {
  fetchSockets(): Promise<MemberView<Data>[]>;
}

/** A socket whose joins the directory may stamp. */
export interface StampableSocket {
  readonly rooms: ReadonlySet<string>;
  readonly data: JoinStamps;
}

/**
 * Who is in a room, across every node. The in-memory implementation answers synchronously from the local
 * adapter (the single-process hot path allocates nothing); the cluster one asks every node through the
 * adapter (`fetchSockets`) and so answers with a promise. Callers handle both (see `lib/core/maybe.ts`).
 */
export interface RoomDirectory {
  /** Ids of the sockets in adapter room `key`, on every node. Order unspecified. */
  memberIds<Data>(nsp: RoomSource<Data>, key: string): string[] | Promise<string[]>;
  /** Whether the socket with id `id` is in adapter room `key`, on any node. */
  isMember<Data>(nsp: RoomSource<Data>, key: string, id: string): boolean | Promise<boolean>;
  /** The sockets in adapter room `key`, on every node, in join order (see {@link noteJoin}). */
  members<Data extends JoinStamps>(nsp: RoomSource<Data>, key: string): Promise<MemberView<Data>[]>;
  /**
   * Call just before `socket.join(key)`. In cluster mode it stamps the join time into `socket.data` (which
   * other nodes see), so that members of several nodes can be merged in join order; a re-join of a room
   * the socket is already in keeps its first stamp. In memory mode it does nothing: the adapter's room
   * sets already keep insertion order.
   */
  noteJoin(socket: StampableSocket, key: string): void;
  /** Call after `socket.leave(key)`: forgets the stamp. */
  noteLeave(socket: StampableSocket, key: string): void;
  /**
   * Records that lobby socket `socketId` of this node joined `lobby`, or left its lobby (`undefined`), so
   * that its peers get LEFT even if this node dies (cluster mode; nothing in memory mode).
   */
  noteLobby(socketId: string, lobby: string | undefined): void;
}

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
   * Registers who announces LEFT for a lobby socket of a node that died without shutting down (cluster
   * mode: within NODE_TTL_MS + SWEEP_INTERVAL_MS of lib/cluster/node-registry.ts, about 4 s); never called in memory mode.
   */
  onLostLobbySocket(announce: (socketId: string, lobby: string) => void): void;
  /** Releases the Redis connections, if any. Call after `io.close()`. Idempotent. */
  close(): Promise<void>;
}
