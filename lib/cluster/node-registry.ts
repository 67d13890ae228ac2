import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { LostMember } from '../core/types.js';

/** How long a node's liveness key lives without a refresh. */
export const NODE_TTL_MS = 3000;
/** How often a node refreshes its key and looks for dead nodes. LEFT for a dead node's peers comes within TTL + this. */
export const SWEEP_INTERVAL_MS = 1000;

/** The Redis commands the registry uses (node-redis client). */
export interface RegistryClient {
  readonly isReady: boolean;
  set(key: string, value: string, options: { PX: number }): Promise<unknown>;
  sAdd(key: string, member: string): Promise<unknown>;
  sMembers(key: string): Promise<string[]>;
  exists(key: string): Promise<number>;
  hSet(key: string, field: string, value: string): Promise<unknown>;
  hDel(key: string, field: string): Promise<unknown>;
  multi(): RegistryMulti;
}

/** A MULTI transaction of the commands the sweep needs. */
export interface RegistryMulti {
  hGetAll(key: string): RegistryMulti;
  del(key: string): RegistryMulti;
  sRem(key: string, member: string): RegistryMulti;
  exec(): Promise<unknown[]>;
}

/**
 * Which tracked members (lobby sockets) live on which node, so that their peers still hear of them when the
 * node dies without shutting down (kill -9, lost machine). Each node keeps a liveness key with a TTL and a
 * hash socket id → `[namespace, room]`; every node sweeps the others' keys, and the one whose MULTI takes
 * a dead node's hash (atomically read and deleted: exactly one sweeper gets it) reports its members lost.
 */
export class NodeRegistry {
  readonly nodeId = randomBytes(8).toString('hex');
  #timer: NodeJS.Timeout | undefined;
  #onLost: (members: readonly LostMember[]) => void = () => undefined;
  readonly #goneListeners: ((nodeId: string) => void | Promise<void>)[] = [];
  readonly #rejoinListeners: (() => void)[] = [];

  constructor(
    private readonly client: RegistryClient,
    private readonly prefix: string,
    private readonly log: Logger,
  ) {}

  #nodeKey(id: string): string {
    return `${this.prefix}:node:${id}`;
  }
  /** Hash socket id → `[namespace, room]` of node `id`. */
  #membersKey(id: string): string {
    return `${this.prefix}:node-members:${id}`;
  }
  /** The hash socket id → lobby that nodes of earlier versions keep: still swept, so a rolling upgrade loses no LEFT. */
  #legacyLobbiesKey(id: string): string {
    return `${this.prefix}:node-lobbies:${id}`;
  }

  /** Starts refreshing and sweeping; `onLost` gets the tracked members of each dead node this node takes over. */
  start(onLost: (members: readonly LostMember[]) => void): void {
    this.#onLost = onLost;
    this.#timer = setInterval(() => void this.sweep(), SWEEP_INTERVAL_MS);
    this.#timer.unref();
    void this.sweep();
  }

  /**
   * Subscribes to each dead node this node's sweep finds (before its members are reported): every sweeper
   * that sees it may be called, so `listener` must take the node's state over atomically itself.
   */
  onGone(listener: (nodeId: string) => void | Promise<void>): void {
    this.#goneListeners.push(listener);
  }

  /**
   * Subscribes to this node (re)registering after its liveness key had gone: at its first sweep, and after
   * it was cut off (or frozen) so long that the others may have taken its state over.
   */
  onRejoin(listener: () => void): void {
    this.#rejoinListeners.push(listener);
  }

  /** Records that `socketId` (on this node) is in `room` of `namespace`, or left it (`undefined`). */
  note(namespace: string, socketId: string, room: string | undefined): void {
    const key = this.#membersKey(this.nodeId);
    const done = room === undefined ? this.client.hDel(key, socketId) : this.client.hSet(key, socketId, JSON.stringify([namespace, room]));
    done.catch((err: unknown) => this.log.debug({ err }, 'node registry write failed'));
  }

  /** Stops sweeping and, on a clean shutdown, removes this node's entries (its sockets said goodbye themselves). */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    if (!this.client.isReady) return;
    const members = this.#membersKey(this.nodeId);
    await this.client
      .multi()
      .del(members)
      .del(this.#nodeKey(this.nodeId))
      .sRem(`${this.prefix}:nodes`, this.nodeId)
      .exec()
      .catch((err: unknown) => this.log.debug({ err }, 'node registry cleanup failed'));
  }

  /** Refreshes this node's liveness and sweeps for dead nodes; also run at once whenever Redis (re)connects. */
  async sweep(): Promise<void> {
    if (!this.client.isReady) return;
    try {
      const known = (await this.client.exists(this.#nodeKey(this.nodeId))) > 0;
      await this.client.set(this.#nodeKey(this.nodeId), '1', { PX: NODE_TTL_MS });
      if (!known) for (const listener of this.#rejoinListeners) listener();
      await this.client.sAdd(`${this.prefix}:nodes`, this.nodeId);
      for (const id of await this.client.sMembers(`${this.prefix}:nodes`)) {
        if (id === this.nodeId || (await this.client.exists(this.#nodeKey(id))) > 0) continue;
        // Before the node leaves the set: a listener that fails is retried at the next sweep.
        for (const listener of this.#goneListeners) await listener(id);
        const [members, legacy] = await this.client
          .multi()
          .hGetAll(this.#membersKey(id))
          .hGetAll(this.#legacyLobbiesKey(id))
          .del(this.#membersKey(id))
          .del(this.#legacyLobbiesKey(id))
          .sRem(`${this.prefix}:nodes`, id)
          .exec();
        const lost = [...lostMembers(members), ...legacyLobbyMembers(legacy)];
        if (lost.length === 0) continue;
        this.log.warn({ node: id, sockets: lost.length }, 'node gone without shutting down: reporting its tracked members lost');
        this.#onLost(lost);
      }
    } catch (err) {
      this.log.debug({ err }, 'node registry sweep failed');
    }
  }
}

/** The members of a dead node's hash, skipping any entry this version cannot read. */
function lostMembers(hash: unknown): LostMember[] {
  if (typeof hash !== 'object' || hash === null) return [];
  const members: LostMember[] = [];
  for (const [socketId, value] of Object.entries(hash as Record<string, string>)) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(value);
    } catch {
      continue;
    }
    if (Array.isArray(parsed) && typeof parsed[0] === 'string' && typeof parsed[1] === 'string')
      members.push({ namespace: parsed[0], socketId, room: parsed[1] });
  }
  return members;
}

/** The members of an earlier version's hash socket id → lobby: every one of them was a `/lobby` socket. */
function legacyLobbyMembers(hash: unknown): LostMember[] {
  if (typeof hash !== 'object' || hash === null) return [];
  return Object.entries(hash as Record<string, string>).map(([socketId, room]) => ({ namespace: '/lobby', socketId, room }));
}
