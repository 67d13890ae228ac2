/**
 * The per-device message queue of reliable delivery (sites with a `userRoomPrefix`): the interface and its
 * value types only. The implementations are device-queue-memory.ts (one process) and device-queue-redis.ts
 * (every node of a deployment); device-queue-factory.ts is the one place that chooses.
 */

/** A device of a user of a site: what its queue is keyed by. */
export interface DeviceRef {
  readonly site: string;
  readonly user: string;
  readonly device: string;
}

/** A message as a push gives it to the queue. */
export interface NewMessage {
  /** The stable id clients dedupe by: the same on every device one push reached. */
  readonly id: string;
  readonly event: string;
  readonly args: readonly unknown[];
  /** Whether an ack of this message out of order (for its event) clears the queue (`_resync`). */
  readonly resync: boolean;
}

/** A queued message of one device, as it is read back. */
export interface QueuedMessage extends NewMessage {
  /** Its position in the device's queue: strictly increasing in push order, never reused by the device. */
  readonly seq: number;
}

/** What a connect found. */
export interface ConnectResult {
  /**
   * Whether the device's queue overflowed (its oldest messages dropped) since it was last told: the queue
   * has now been cleared, and the device must resync in full (`_resync`).
   */
  readonly overflowed: boolean;
}

/** What acking some messages did. */
export type AckOutcome =
  /** Removed (messages already gone, or never queued, are ignored). */
  | 'removed'
  /** A `resync` message was acked while an older one of its event was pending: the whole queue was cleared. */
  | 'resync';

/** The bounds and clock of a queue, the same on every node. */
export interface DeviceQueueLimits {
  /** Messages one device's queue holds at most; past it the oldest are dropped and the device told to resync. */
  readonly maxMessages: number;
  /** Bytes (of the messages' JSON) one device's queue holds at most; past it, the same. */
  readonly maxBytes: number;
  /** Devices one user of a site has at most; a new one past it makes the queue forget the one away longest. */
  readonly maxDevices: number;
}

/**
 * Where each device's pending messages wait for its ack. Known devices are those connected now and those
 * disconnected for less than their site's TTL: a device away longer has its queue dropped. Every method
 * answers with a promise and never throws synchronously; a failing backend rejects.
 */
export interface DeviceQueue {
  /**
   * A socket of `device` connected: the device is known (kept while any socket of it is connected, however
   * long), and the TTL clock of its absence is stopped. Beyond `maxDevices` devices of the user, the one away
   * longest (else connected longest) is forgotten with its queue.
   */
  connect(device: DeviceRef): Promise<ConnectResult>;
  /**
   * A socket of `device` disconnected: once none is left, the device's queue is dropped after `ttlMs`
   * unless it connects again first (`0`: kept until the device is evicted).
   */
  disconnect(device: DeviceRef, ttlMs: number): Promise<void>;
  /**
   * Appends `message` to the queue of every known device of each of `users` of `site` (each device once),
   * dropping the oldest past the bounds. Resolves with the users that had a device and how many devices.
   */
  push(site: string, users: readonly string[], message: NewMessage): Promise<{ readonly devices: number; readonly users: string[] }>;
  /** The device's pending messages after `afterSeq`, oldest first, at most `limit` of them. */
  read(device: DeviceRef, afterSeq: number, limit: number): Promise<QueuedMessage[]>;
  /**
   * Removes the messages `seqs` (in order). A `resync` message acked while an older message of its event is
   * still pending clears the whole queue instead, and the outcome says so.
   */
  ack(device: DeviceRef, seqs: readonly number[]): Promise<AckOutcome>;
  /** Resolves once the queue has been reachable (at once in memory). Never rejects: bound it with a deadline. */
  untilReady(): Promise<void>;
  /** Releases connections and timers. Idempotent. */
  close(): Promise<void>;
}
