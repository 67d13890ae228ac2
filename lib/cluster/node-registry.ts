import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';

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
 * Which lobby sockets live on which node, so that the lobby peers of a node that died without shutting
 * down (kill -9, lost machine) still receive LEFT. Each node keeps a liveness key with a TTL and a hash
 * socket id → lobby; every node sweeps the others' keys, and the one whose MULTI takes a dead node's hash
 * (atomically read and deleted: exactly one sweeper gets it) announces LEFT for each of its sockets.
 */
export class LobbyRegistry {
  readonly nodeId = randomBytes(8).toString('hex');
  #timer: NodeJS.Timeout | undefined;
  #onLost: (socketId: string, lobby: string) => void = () => undefined;

  constructor(
    private readonly client: RegistryClient,
    private readonly prefix: string,
    private readonly log: Logger,
  ) {}

  #nodeKey(id: string): string {
    return `${this.prefix}:node:${id}`;
  }
  #lobbiesKey(id: string): string {
    return `${this.prefix}:node-lobbies:${id}`;
  }

  /** Starts refreshing and sweeping; `onLost` announces LEFT for a dead node's socket. */
  start(onLost: (socketId: string, lobby: string) => void): void {
    this.#onLost = onLost;
    this.#timer = setInterval(() => void this.sweep(), SWEEP_INTERVAL_MS);
    this.#timer.unref();
    void this.sweep();
  }

  /** Records that `socketId` (on this node) is in `lobby`, or left it (`undefined`). */
  note(socketId: string, lobby: string | undefined): void {
    const done = lobby === undefined ? this.client.hDel(this.#lobbiesKey(this.nodeId), socketId) : this.client.hSet(this.#lobbiesKey(this.nodeId), socketId, lobby);
    done.catch((err: unknown) => this.log.debug({ err }, 'lobby registry write failed'));
  }

  /** Stops sweeping and, on a clean shutdown, removes this node's entries (its sockets said LEFT themselves). */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    if (!this.client.isReady) return;
    const lobbies = this.#lobbiesKey(this.nodeId);
    await this.client
      .multi()
      .del(lobbies)
      .del(this.#nodeKey(this.nodeId))
      .sRem(`${this.prefix}:nodes`, this.nodeId)
      .exec()
      .catch((err: unknown) => this.log.debug({ err }, 'lobby registry cleanup failed'));
  }

  /** Refreshes this node's liveness and sweeps for dead nodes; also run at once whenever Redis (re)connects. */
  async sweep(): Promise<void> {
    if (!this.client.isReady) return;
    try {
      await this.client.set(this.#nodeKey(this.nodeId), '1', { PX: NODE_TTL_MS });
      await this.client.sAdd(`${this.prefix}:nodes`, this.nodeId);
      for (const id of await this.client.sMembers(`${this.prefix}:nodes`)) {
        if (id === this.nodeId || (await this.client.exists(this.#nodeKey(id))) > 0) continue;
        const [members] = await this.client.multi().hGetAll(this.#lobbiesKey(id)).del(this.#lobbiesKey(id)).sRem(`${this.prefix}:nodes`, id).exec();
        const lost = typeof members === 'object' && members !== null ? Object.entries(members as Record<string, string>) : [];
        if (lost.length > 0) this.log.warn({ node: id, sockets: lost.length }, 'node gone without shutting down: announcing LEFT for its lobby sockets');
        for (const [socketId, lobby] of lost) this.#onLost(socketId, lobby);
      }
    } catch (err) {
      this.log.debug({ err }, 'lobby registry sweep failed');
    }
  }
}
