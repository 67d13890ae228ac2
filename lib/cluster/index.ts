import type { Logger } from 'pino';
import type { RedisOptions } from '../config/options.js';
import type { RecoveryBounds } from './recovery-adapter.js';
export { RECOVERY_MAX_SESSIONS, type RecoveryBounds } from './recovery-adapter.js';
import { createMemoryCluster } from './memory.js';
import { createRedisCluster } from './redis.js';
import type { Cluster } from './types.js';
import { createWorkersCluster } from './workers.js';

export type * from './types.js';
export { RedisAuthFailureBudget } from './auth-failures-redis.js';
/** The `--workers` primary's side of the workers' presence (lib/cluster/presence-workers.ts). */
export { countPresenceInPrimary } from './presence-workers.js';

/** Which backend {@link createCluster} builds. */
export type ClusterChoice =
  /** One process: Socket.IO's in-memory adapter. */
  | { readonly mode: 'memory'; readonly recovery?: RecoveryBounds }
  /** Nodes anywhere sharing one Redis; lookups wait at most `timeoutMs` for the others (`--cluster-timeout`). */
  | {
      readonly mode: 'redis';
      readonly redis: RedisOptions;
      readonly timeoutMs: number;
      /** Which namespaces recover sessions (all when absent); the others' adapters keep none and add no offsets. */
      readonly recovers?: (namespace: string) => boolean;
    }
  /** The `--workers` processes of one machine, relaying through their primary; lookups as with Redis. */
  | { readonly mode: 'workers'; readonly timeoutMs: number };

/**
 * The one place that chooses the backend. Never waits for Redis: a node whose Redis is down starts,
 * reports not ready, and connects when it can. Asynchronous because the Redis and workers backends import
 * their adapters only when chosen (start-up time: a node loads no module it does not use).
 */
export async function createCluster(choice: ClusterChoice, log: Logger): Promise<Cluster> {
  switch (choice.mode) {
    case 'memory':
      return createMemoryCluster(choice.recovery);
    case 'redis':
      return createRedisCluster(choice.redis, choice.timeoutMs, log.child({ component: 'redis' }), choice.recovers);
    case 'workers':
      return createWorkersCluster(choice.timeoutMs, log.child({ component: 'cluster' }));
  }
}
/** The Redis client other concerns' Redis backends open their own connection with (lib/delivery/device-queue-redis.ts). */
export { newClient, redactedUrl, type RedisClient } from './redis-client.js';
