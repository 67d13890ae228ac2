import type { AckOutcome, ConnectResult, DeviceQueue, DeviceQueueLimits, DeviceRef, NewMessage, QueuedMessage } from './device-queue.js';

/** How often expired devices that nobody asks about any more are swept out of memory. */
const SWEEP_INTERVAL_MS = 60_000;

/** Ranks connected devices after every away one when choosing whom to evict (ms since 1970 stay far below). */
const CONNECTED_RANK = 1e15;

/** One queued message, kept as the JSON it was pushed as (a snapshot: the pusher's objects may change). */
interface Stored {
  readonly seq: number;
  readonly id: string;
  readonly event: string;
  readonly json: string;
  readonly bytes: number;
  readonly resync: boolean;
}

/** One device's state. */
interface Device {
  conns: number;
  /** When its queue is dropped: set while no socket of it is connected (and the TTL is not 0). */
  expiresAt: number | undefined;
  /** Eviction order: when it left (away), or {@link CONNECTED_RANK} plus when it connected. */
  rank: number;
  nextSeq: number;
  readonly messages: Map<number, Stored>;
  /** Seqs per event, oldest first: the `resync` check asks for the oldest of an event. */
  readonly byEvent: Map<string, number[]>;
  bytes: number;
  overflowed: boolean;
}

/**
 * The queue in this process's memory: for one process (without `--redis`), lost when it restarts.
 * `now` is the clock (injectable, so that tests move time instead of waiting). Expired devices are dropped
 * when next touched and by a sweep every minute.
 */
export class MemoryDeviceQueue implements DeviceQueue {
  /** Site and user → device id → state. */
  readonly #users = new Map<string, Map<string, Device>>();
  readonly #limits: DeviceQueueLimits;
  readonly #now: () => number;
  readonly #timer: NodeJS.Timeout;

  constructor(limits: DeviceQueueLimits, now: () => number = Date.now) {
    this.#limits = limits;
    this.#now = now;
    this.#timer = setInterval(() => this.sweep(), SWEEP_INTERVAL_MS);
    this.#timer.unref();
  }

  connect(ref: DeviceRef): Promise<ConnectResult> {
    const devices = this.#devicesOf(ref.site, ref.user) ?? this.#newUser(ref.site, ref.user);
    let device = devices.get(ref.device);
    if (!device) {
      device = {
        conns: 0,
        expiresAt: undefined,
        rank: 0,
        nextSeq: 1,
        messages: new Map(),
        byEvent: new Map(),
        bytes: 0,
        overflowed: false,
      };
      devices.set(ref.device, device);
    }
    device.conns += 1;
    device.expiresAt = undefined;
    if (device.conns === 1) device.rank = CONNECTED_RANK + this.#now();
    this.#evict(devices, ref.device);
    const overflowed = device.overflowed;
    if (overflowed) clear(device);
    return Promise.resolve({ overflowed });
  }

  disconnect(ref: DeviceRef, ttlMs: number): Promise<void> {
    const device = this.#devicesOf(ref.site, ref.user)?.get(ref.device);
    if (device && device.conns > 0) {
      device.conns -= 1;
      if (device.conns === 0) {
        const now = this.#now();
        device.rank = now;
        device.expiresAt = ttlMs === 0 ? undefined : now + ttlMs;
      }
    }
    return Promise.resolve();
  }

  push(site: string, users: readonly string[], message: NewMessage): Promise<{ devices: number; users: string[] }> {
    const json = JSON.stringify([message.event, ...message.args]);
    const bytes = Buffer.byteLength(json);
    let count = 0;
    const reached: string[] = [];
    for (const user of new Set(users)) {
      const devices = this.#devicesOf(site, user);
      if (!devices || devices.size === 0) continue;
      reached.push(user);
      for (const device of devices.values()) {
        count += 1;
        const seq = device.nextSeq++;
        const stored: Stored = { seq, id: message.id, event: message.event, json, bytes, resync: message.resync };
        device.messages.set(seq, stored);
        const seqs = device.byEvent.get(stored.event);
        if (seqs) seqs.push(seq);
        else device.byEvent.set(stored.event, [seq]);
        device.bytes += bytes;
        while (device.messages.size > this.#limits.maxMessages || device.bytes > this.#limits.maxBytes) {
          const oldest = device.messages.values().next();
          if (oldest.done === true) break;
          remove(device, oldest.value);
          device.overflowed = true;
        }
      }
    }
    return Promise.resolve({ devices: count, users: reached });
  }

  read(ref: DeviceRef, afterSeq: number, limit: number): Promise<QueuedMessage[]> {
    const device = this.#devicesOf(ref.site, ref.user)?.get(ref.device);
    const found: QueuedMessage[] = [];
    if (!device) return Promise.resolve(found);
    for (const stored of device.messages.values()) {
      if (found.length >= limit) break;
      if (stored.seq <= afterSeq) continue;
      const [event, ...args] = JSON.parse(stored.json) as [string, ...unknown[]];
      found.push({ seq: stored.seq, id: stored.id, event, args, resync: stored.resync });
    }
    return Promise.resolve(found);
  }

  ack(ref: DeviceRef, seqs: readonly number[]): Promise<AckOutcome> {
    const device = this.#devicesOf(ref.site, ref.user)?.get(ref.device);
    if (!device) return Promise.resolve('removed');
    for (const seq of seqs) {
      const stored = device.messages.get(seq);
      if (!stored) continue;
      if (stored.resync && device.byEvent.get(stored.event)?.[0] !== seq) {
        clear(device);
        return Promise.resolve('resync');
      }
      remove(device, stored);
    }
    return Promise.resolve('removed');
  }

  untilReady(): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    clearInterval(this.#timer);
    return Promise.resolve();
  }

  /** How many devices are held in memory, expired ones not yet swept included. */
  get size(): number {
    let devices = 0;
    for (const user of this.#users.values()) devices += user.size;
    return devices;
  }

  /** Drops every expired device (and users left without any). Runs every minute; tests call it directly. */
  sweep(): void {
    for (const [key, devices] of this.#users) {
      for (const [id, device] of devices) if (this.#expired(device)) devices.delete(id);
      if (devices.size === 0) this.#users.delete(key);
    }
  }

  /** The user's devices, expired ones dropped; undefined when none is left. */
  #devicesOf(site: string, user: string): Map<string, Device> | undefined {
    const key = userKey(site, user);
    const devices = this.#users.get(key);
    if (!devices) return undefined;
    for (const [id, device] of devices) if (this.#expired(device)) devices.delete(id);
    if (devices.size > 0) return devices;
    this.#users.delete(key);
    return undefined;
  }

  #newUser(site: string, user: string): Map<string, Device> {
    const devices = new Map<string, Device>();
    this.#users.set(userKey(site, user), devices);
    return devices;
  }

  #expired(device: Device): boolean {
    return device.expiresAt !== undefined && this.#now() >= device.expiresAt;
  }

  /** Forgets the lowest-ranked devices other than `keep` while the user has more than allowed. */
  #evict(devices: Map<string, Device>, keep: string): void {
    while (devices.size > this.#limits.maxDevices) {
      let victim: string | undefined;
      let lowest = Infinity;
      for (const [id, device] of devices) {
        if (id !== keep && device.rank < lowest) {
          lowest = device.rank;
          victim = id;
        }
      }
      if (victim === undefined) return;
      devices.delete(victim);
    }
  }
}

function userKey(site: string, user: string): string {
  return `${site}\u0000${user}`;
}

function remove(device: Device, stored: Stored): void {
  device.messages.delete(stored.seq);
  device.bytes -= stored.bytes;
  const seqs = device.byEvent.get(stored.event);
  if (!seqs) return;
  const at = seqs.indexOf(stored.seq);
  if (at >= 0) seqs.splice(at, 1);
  if (seqs.length === 0) device.byEvent.delete(stored.event);
}

function clear(device: Device): void {
  device.messages.clear();
  device.byEvent.clear();
  device.bytes = 0;
  device.overflowed = false;
}
