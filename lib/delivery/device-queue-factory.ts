import type { Logger } from 'pino';
import type { RedisOptions } from '../config/options.js';
import type { DeviceQueue, DeviceQueueLimits } from './device-queue.js';
import { MemoryDeviceQueue } from './device-queue-memory.js';
import { RedisDeviceQueue } from './device-queue-redis.js';

/** Which queue {@link createDeviceQueue} builds. */
export type DeviceQueueChoice =
  /** One process: in its memory, lost when it restarts. */
  | { readonly mode: 'memory'; readonly now?: () => number }
  /** Every node on one Redis: the queue a device finds wherever it reconnects. */
  | { readonly mode: 'redis'; readonly redis: RedisOptions };

/**
 * The one place that chooses the device queue's backend. Never waits for Redis; asynchronous because the
 * Redis backend imports node-redis only when chosen.
 */
export async function createDeviceQueue(choice: DeviceQueueChoice, limits: DeviceQueueLimits, log: Logger): Promise<DeviceQueue> {
  switch (choice.mode) {
    case 'memory':
      return new MemoryDeviceQueue(limits, choice.now);
    case 'redis':
      return RedisDeviceQueue.open(choice.redis, limits, log.child({ component: 'device-queue' }));
  }
}
