import type { Logger } from 'pino';
import { newClient, redactedUrl, type RedisClient } from '../cluster/index.js';
import type { RedisOptions } from '../config/options.js';
import type { AckOutcome, ConnectResult, DeviceQueue, DeviceQueueLimits, DeviceRef, NewMessage, QueuedMessage } from './device-queue.js';

/** Ranks connected devices after every away one when choosing whom to evict (ms since 1970 stay far below). */
const CONNECTED_RANK = 1e15;

/**
 * Removes message `seq` of a device (KEYS-like arguments q, m, dev), unlinking it from its event's list, and
 * answers its size. The per-event doubly linked list (`p:`/`n:` fields, head `h:` and tail `t:` per event)
 * makes "is this the oldest pending message of its event" one HGET, and every removal O(1).
 */
const REMOVE = `
local function remove(q, m, dev, seq)
  local f = redis.call('HMGET', m, 'e:'..seq, 's:'..seq, 'p:'..seq, 'n:'..seq)
  local event, size, prev, nxt = f[1], tonumber(f[2]) or 0, f[3], f[4]
  redis.call('ZREM', q, seq)
  redis.call('HDEL', m, 'm:'..seq, 'i:'..seq, 'e:'..seq, 's:'..seq, 'r:'..seq, 'p:'..seq, 'n:'..seq)
  if event then
    if prev then
      if nxt then redis.call('HSET', m, 'n:'..prev, nxt) else redis.call('HDEL', m, 'n:'..prev) end
    else
      if nxt then redis.call('HSET', m, 'h:'..event, nxt) else redis.call('HDEL', m, 'h:'..event) end
    end
    if nxt then
      if prev then redis.call('HSET', m, 'p:'..nxt, prev) else redis.call('HDEL', m, 'p:'..nxt) end
    else
      if prev then redis.call('HSET', m, 't:'..event, prev) else redis.call('HDEL', m, 't:'..event) end
    end
  end
  redis.call('HINCRBY', dev, 'count', -1)
  redis.call('HINCRBY', dev, 'bytes', -size)
  return size
end
`;

/**
 * KEYS: devs, dev, q, m. ARGV: device (encoded), rank, maxDevices, key prefix of the user's devices
 * (`<prefix>:<kind>:` is put before and the encoded device after it). Answers 1 when the queue had
 * overflowed (and is now cleared), else 0.
 */
const CONNECT = `
local devs, dev, q, m = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local device, rank, max, prefix, base = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4], ARGV[5]
local conns = redis.call('HINCRBY', dev, 'conns', 1)
if conns < 1 then redis.call('HSET', dev, 'conns', 1) conns = 1 end
redis.call('PERSIST', dev) redis.call('PERSIST', q) redis.call('PERSIST', m) redis.call('PERSIST', devs)
if conns == 1 then redis.call('ZADD', devs, rank, device) else redis.call('ZADD', devs, 'NX', rank, device) end
while redis.call('ZCARD', devs) > max do
  local low = redis.call('ZRANGE', devs, 0, 1)
  local victim = low[1]
  if victim == device then victim = low[2] end
  if not victim then break end
  redis.call('ZREM', devs, victim)
  redis.call('DEL', prefix..':dev:'..base..victim, prefix..':dq:'..base..victim, prefix..':dm:'..base..victim)
end
if redis.call('HGET', dev, 'overflow') == '1' then
  redis.call('DEL', q, m)
  redis.call('HSET', dev, 'count', 0, 'bytes', 0, 'overflow', 0)
  return 1
end
return 0
`;

/** KEYS: devs, dev, q, m. ARGV: device (encoded), rank (now), ttl ms (0: never). */
const DISCONNECT = `
local devs, dev, q, m = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
if redis.call('EXISTS', dev) == 0 then return 0 end
local conns = redis.call('HINCRBY', dev, 'conns', -1)
if conns > 0 then return 0 end
if conns < 0 then redis.call('HSET', dev, 'conns', 0) return 0 end
redis.call('ZADD', devs, 'XX', ARGV[2], ARGV[1])
local ttl = tonumber(ARGV[3])
if ttl > 0 then
  redis.call('PEXPIRE', dev, ttl) redis.call('PEXPIRE', q, ttl) redis.call('PEXPIRE', m, ttl)
  local top = redis.call('ZRANGE', devs, -1, -1, 'WITHSCORES')
  if top[2] and tonumber(top[2]) < ${CONNECTED_RANK} then redis.call('PEXPIRE', devs, ttl) end
end
return 0
`;

/**
 * ARGV: key prefix, site (encoded), maxMessages, maxBytes, id, event, json, size, resync (0/1), then the
 * users (encoded). Appends to every known device of each user; answers { devices, indexes of the users reached }.
 */
const PUSH = `${REMOVE}
local prefix, site = ARGV[1], ARGV[2]
local maxMessages, maxBytes = tonumber(ARGV[3]), tonumber(ARGV[4])
local id, event, json, size, resync = ARGV[5], ARGV[6], ARGV[7], tonumber(ARGV[8]), ARGV[9]
local devices, reached = 0, {}
for i = 10, #ARGV do
  local base = site..':'..ARGV[i]..':'
  local devs = prefix..':devs:'..base
  local any = false
  for _, d in ipairs(redis.call('ZRANGE', devs, 0, -1)) do
    local dev = prefix..':dev:'..base..d
    if redis.call('EXISTS', dev) == 0 then
      redis.call('ZREM', devs, d)
    else
      any = true
      devices = devices + 1
      local q, m = prefix..':dq:'..base..d, prefix..':dm:'..base..d
      local seq = redis.call('HINCRBY', dev, 'seq', 1)
      redis.call('ZADD', q, seq, seq)
      redis.call('HSET', m, 'm:'..seq, json, 'i:'..seq, id, 'e:'..seq, event, 's:'..seq, size, 'r:'..seq, resync)
      local tail = redis.call('HGET', m, 't:'..event)
      if tail then redis.call('HSET', m, 'n:'..tail, seq, 'p:'..seq, tail) else redis.call('HSET', m, 'h:'..event, seq) end
      redis.call('HSET', m, 't:'..event, seq)
      local count = redis.call('HINCRBY', dev, 'count', 1)
      local bytes = redis.call('HINCRBY', dev, 'bytes', size)
      while count > maxMessages or bytes > maxBytes do
        local oldest = redis.call('ZRANGE', q, 0, 0)[1]
        if not oldest then break end
        bytes = bytes - remove(q, m, dev, oldest)
        count = count - 1
        redis.call('HSET', dev, 'overflow', 1)
      end
      local ttl = redis.call('PTTL', dev)
      if ttl > 0 then redis.call('PEXPIRE', q, ttl) redis.call('PEXPIRE', m, ttl) end
    end
  end
  if any then reached[#reached + 1] = i - 9 end
end
return { devices, reached }
`;

/** KEYS: q, m. ARGV: after seq, limit. Answers [seq, json, id, resync] per message, oldest first. */
const READ = `
local out = {}
for _, s in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '('..ARGV[1], '+inf', 'LIMIT', 0, ARGV[2])) do
  local f = redis.call('HMGET', KEYS[2], 'm:'..s, 'i:'..s, 'r:'..s)
  if f[1] then out[#out + 1] = { s, f[1], f[2], f[3] } end
end
return out
`;

/** KEYS: q, m, dev. ARGV: the seqs. Answers 'resync' when it cleared the queue, else 'removed'. */
const ACK = `${REMOVE}
local q, m, dev = KEYS[1], KEYS[2], KEYS[3]
if redis.call('EXISTS', dev) == 0 then return 'removed' end
for i = 1, #ARGV do
  local s = ARGV[i]
  local f = redis.call('HMGET', m, 'e:'..s, 'r:'..s)
  if f[1] then
    if f[2] == '1' and redis.call('HGET', m, 'h:'..f[1]) ~= s then
      redis.call('DEL', q, m)
      redis.call('HSET', dev, 'count', 0, 'bytes', 0, 'overflow', 0)
      return 'resync'
    end
    remove(q, m, dev, s)
  end
end
return 'removed'
`;

/** A key part: `:` (the separator) and anything else outside [A-Za-z0-9_.!~*'()-] percent-encoded. */
const part = encodeURIComponent;

/**
 * The queue in Redis, shared by every node of a deployment. Per device: a hash of counters
 * (`<prefix>:dev:<site>:<user>:<device>`: connections, last seq, count, bytes, overflow), a sorted set of
 * its pending seqs (`…:dq:…`) and a hash of their messages (`…:dm:…`); per user, a sorted set of its
 * devices (`<prefix>:devs:<site>:<user>`). Each operation is one Lua script, so that concurrent pushes,
 * acks and connects from several nodes never see a half-done change; each is O(its messages), or
 * O(devices of the user) for a push. A device's keys have no expiry while it is connected and expire
 * (PEXPIRE, Redis's own clock) `ttl` after its last socket left.
 *
 * A connection of its own (the adapter's block on stream reads). While Redis is unreachable every
 * operation rejects at once instead of waiting in node-redis's offline queue: a push is refused
 * (`UNAVAILABLE`) rather than held.
 */
export class RedisDeviceQueue implements DeviceQueue {
  readonly #client: RedisClient;
  readonly #prefix: string;
  readonly #limits: DeviceQueueLimits;
  readonly #ready: Promise<void>;
  #closing: Promise<void> | undefined;

  /** Opens the queue's own Redis connection (in the background: it never waits for Redis) and queues in it. */
  static async open(options: RedisOptions, limits: DeviceQueueLimits, log: Logger): Promise<RedisDeviceQueue> {
    return new RedisDeviceQueue(options, limits, log, await newClient(options));
  }

  private constructor(options: RedisOptions, limits: DeviceQueueLimits, log: Logger, client: RedisClient) {
    this.#prefix = options.prefix;
    this.#limits = limits;
    this.#client = client;
    const where = redactedUrl(options.url);
    let down = false;
    this.#ready = new Promise((resolve) => this.#client.once('ready', () => resolve()));
    this.#client.on('ready', () => {
      if (down) log.info({ redis: where }, 'device queue: redis back');
      down = false;
    });
    this.#client.on('error', (err: Error) => {
      if (down) return;
      down = true;
      log.warn({ redis: where, err: err.message }, 'device queue: redis unavailable, reliable pushes refused until it is back');
    });
    this.#client.connect().catch((err: unknown) => {
      if (this.#closing === undefined) log.error({ redis: where, err }, 'device queue: redis client gave up');
    });
  }

  async connect(ref: DeviceRef): Promise<ConnectResult> {
    const reply = await this.#eval(CONNECT, this.#keys(ref), [
      part(ref.device),
      String(CONNECTED_RANK + Date.now()),
      String(this.#limits.maxDevices),
      this.#prefix,
      `${part(ref.site)}:${part(ref.user)}:`,
    ]);
    return { overflowed: reply === 1 };
  }

  async disconnect(ref: DeviceRef, ttlMs: number): Promise<void> {
    await this.#eval(DISCONNECT, this.#keys(ref), [part(ref.device), String(Date.now()), String(ttlMs)]);
  }

  async push(site: string, users: readonly string[], message: NewMessage): Promise<{ devices: number; users: string[] }> {
    const unique = [...new Set(users)];
    if (unique.length === 0) return { devices: 0, users: [] };
    const json = JSON.stringify([message.event, ...message.args]);
    const reply = await this.#eval(
      PUSH,
      [],
      [
        this.#prefix,
        part(site),
        String(this.#limits.maxMessages),
        String(this.#limits.maxBytes),
        message.id,
        message.event,
        json,
        String(Buffer.byteLength(json)),
        message.resync ? '1' : '0',
        ...unique.map(part),
      ],
    );
    if (!Array.isArray(reply) || typeof reply[0] !== 'number' || !Array.isArray(reply[1])) throw new Error('unexpected PUSH reply');
    const reached = (reply[1] as unknown[]).flatMap((index) => (typeof index === 'number' ? (unique[index - 1] ?? []) : []));
    return { devices: reply[0], users: reached };
  }

  async read(ref: DeviceRef, afterSeq: number, limit: number): Promise<QueuedMessage[]> {
    const [, , q, m] = this.#keys(ref);
    const reply = await this.#eval(READ, [q, m], [String(afterSeq), String(limit)]);
    if (!Array.isArray(reply)) throw new Error('unexpected READ reply');
    const found: QueuedMessage[] = [];
    for (const row of reply as unknown[]) {
      if (!Array.isArray(row)) continue;
      const [seq, json, id, resync] = row as unknown[];
      if (typeof seq !== 'string' || typeof json !== 'string' || typeof id !== 'string') continue;
      const [event, ...args] = JSON.parse(json) as [string, ...unknown[]];
      found.push({ seq: Number(seq), id, event, args, resync: resync === '1' });
    }
    return found;
  }

  async ack(ref: DeviceRef, seqs: readonly number[]): Promise<AckOutcome> {
    if (seqs.length === 0) return 'removed';
    const [, dev, q, m] = this.#keys(ref);
    const reply = await this.#eval(ACK, [q, m, dev], seqs.map(String));
    return reply === 'resync' ? 'resync' : 'removed';
  }

  untilReady(): Promise<void> {
    return this.#ready;
  }

  close(): Promise<void> {
    this.#closing ??= this.#client.isReady ? this.#client.close().catch(() => this.#destroy()) : Promise.resolve(this.#destroy());
    return this.#closing;
  }

  /** devs, dev, q, m of a device. */
  #keys(ref: DeviceRef): [string, string, string, string] {
    const user = `${part(ref.site)}:${part(ref.user)}:`;
    const device = `${user}${part(ref.device)}`;
    return [
      `${this.#prefix}:devs:${user}`,
      `${this.#prefix}:dev:${device}`,
      `${this.#prefix}:dq:${device}`,
      `${this.#prefix}:dm:${device}`,
    ];
  }

  /** One script; rejects at once while Redis is unreachable (see the class). */
  async #eval(script: string, keys: string[], args: string[]): Promise<unknown> {
    if (!this.#client.isReady) throw new Error('redis is unreachable');
    return this.#client.eval(script, { keys, arguments: args });
  }

  #destroy(): void {
    try {
      this.#client.destroy();
    } catch {
      // Already closed.
    }
  }
}
