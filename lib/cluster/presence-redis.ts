import type { Logger } from 'pino';
import type { PresenceCounter, PresenceListener } from './types.js';

/** Sums a user hash's node fields (every field but `d`, the detail). */
const TOTAL = `
local function total(key)
  local sum = 0
  local all = redis.call('HGETALL', key)
  for i = 1, #all, 2 do
    if all[i] ~= 'd' then sum = sum + tonumber(all[i + 1]) end
  end
  return sum
end
`;

/** KEYS: user hash, node set. ARGV: node id, detail, member. 1 when the user's total went 0 → 1. */
const ADD = `${TOTAL}
local before = total(KEYS[1])
redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
redis.call('HSET', KEYS[1], 'd', ARGV[2])
redis.call('SADD', KEYS[2], ARGV[3])
if before == 0 then return 1 end
return 0
`;

/**
 * KEYS: user hash, node set. ARGV: node id, member. 1 when the user's total went 1 → 0. A node without a
 * count of the user (taken over meanwhile: see REAP) changes nothing and reports nothing.
 */
const REMOVE = `${TOTAL}
local mine = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
if mine <= 0 then return 0 end
if mine == 1 then
  redis.call('HDEL', KEYS[1], ARGV[1])
  redis.call('SREM', KEYS[2], ARGV[2])
else
  redis.call('HINCRBY', KEYS[1], ARGV[1], -1)
end
if total(KEYS[1]) == 0 then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
`;

/**
 * KEYS: the dead node's set, its liveness key. ARGV: node id, user hash prefix. Removes the node's counts
 * and deletes its set in one step, so that of the nodes that find it dead exactly one gets its users; a node
 * whose liveness key is back (it was only cut off) is left alone. Returns member, detail pairs of the users
 * that have no socket left.
 */
const REAP = `${TOTAL}
if redis.call('EXISTS', KEYS[2]) == 1 then return {} end
local gone = {}
for _, member in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local key = ARGV[2] .. member
  if redis.call('HDEL', key, ARGV[1]) == 1 and total(key) == 0 then
    table.insert(gone, member)
    table.insert(gone, redis.call('HGET', key, 'd') or '')
    redis.call('DEL', key)
  end
end
redis.call('DEL', KEYS[1])
return gone
`;

/**
 * KEYS: this node's set. ARGV: node id, user hash prefix, then member, count, detail triples: this node's
 * own counts, which replace what Redis holds for it (what an outage hid, or what a node that took it for dead
 * removed). A count of `gone` is a user whose last socket here went while Redis could not be told: offline if
 * no node counts it now, even if Redis had lost it meanwhile (restarted empty). Returns member,
 * '1' | '0' (online | offline), detail triples of the users whose total changed between zero and more.
 */
const RECONCILE = `${TOTAL}
local changed = {}
local wanted = {}
local function apply(member, count, detail, gone)
  local key = ARGV[2] .. member
  local before = total(key)
  if count > 0 then
    redis.call('HSET', key, ARGV[1], count, 'd', detail)
    redis.call('SADD', KEYS[1], member)
  else
    redis.call('HDEL', key, ARGV[1])
    redis.call('SREM', KEYS[1], member)
  end
  local after = total(key)
  if after == 0 then
    detail = redis.call('HGET', key, 'd') or detail
    redis.call('DEL', key)
  end
  if before == 0 and after > 0 then
    table.insert(changed, member); table.insert(changed, '1'); table.insert(changed, detail)
  elseif (before > 0 or gone) and after == 0 then
    table.insert(changed, member); table.insert(changed, '0'); table.insert(changed, detail)
  end
end
for i = 3, #ARGV, 3 do
  wanted[ARGV[i]] = true
  local gone = ARGV[i + 1] == 'gone'
  apply(ARGV[i], gone and 0 or tonumber(ARGV[i + 1]), ARGV[i + 2], gone)
end
for _, member in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if not wanted[member] then apply(member, 0, '', false) end
end
return changed
`;

/** The Redis commands the counter uses (node-redis client). */
export interface PresenceClient {
  readonly isReady: boolean;
  eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
}

/**
 * Users whose last socket here went while Redis could not be told, kept for the next reconciliation: at most
 * this many (the oldest dropped past it, with a warning), so that a long outage with much churn stays bounded.
 */
export const MAX_UNTOLD_DEPARTURES = 10_000;

/** A user's socket count on this node, and the detail of its latest socket. */
interface LocalCount {
  count: number;
  detail: string;
}

/**
 * {@link PresenceCounter} shared by every node of a Redis deployment. Per user a hash
 * (`<prefix>:presence:<user>`) with one field per node holding that node's count, and the detail (`d`) of the
 * user's latest socket; per node a set (`<prefix>:presence-node:<node id>`) of the users it counts. Each
 * change is one Lua script that also says whether the user's total crossed zero, so that of two nodes
 * closing a user's last two sockets at once exactly one reports the user gone.
 *
 * A node that dies without shutting down: the node registry's sweep finds it (within NODE_TTL_MS +
 * SWEEP_INTERVAL_MS of lib/cluster/node-registry.ts) and {@link reap} removes its counts; the users left with
 * none are reported offline by the one node whose script did it.
 *
 * Redis unreachable: the node counts on in its own memory (which always holds its own counts) and reports
 * nothing, since it cannot know the other nodes' counts; it remembers the users whose last socket here went
 * meanwhile (at most {@link MAX_UNTOLD_DEPARTURES}). When Redis is back (and when it rejoins the registry after
 * the others took it for dead) {@link reconcile} writes its counts back and reports the users whose total
 * crossed zero meanwhile, and those remembered users that no node counts now (even if Redis restarted empty).
 * A user who came and went during the outage is not reported at all; a Redis that restarted empty makes each
 * node report its connected users `online` again.
 */
export class RedisPresence implements PresenceCounter {
  readonly #local = new Map<string, LocalCount>();
  /** User → detail: see {@link MAX_UNTOLD_DEPARTURES}. */
  readonly #untold = new Map<string, string>();
  readonly #listeners: PresenceListener[] = [];

  constructor(
    private readonly client: PresenceClient,
    private readonly prefix: string,
    private readonly nodeId: string,
    private readonly log: Logger,
  ) {}

  add(user: string, detail: string): Promise<boolean> | boolean {
    const local = this.#local.get(user);
    if (local) {
      local.count += 1;
      local.detail = detail;
    } else this.#local.set(user, { count: 1, detail });
    this.#untold.delete(user);
    const member = encodeURIComponent(user);
    return this.#run(ADD, [this.#userKey(member), this.#nodeKey(this.nodeId)], [this.nodeId, detail, member]);
  }

  remove(user: string): Promise<boolean> | boolean {
    const local = this.#local.get(user);
    if (local === undefined) return false;
    local.count -= 1;
    const last = local.count <= 0;
    if (last) this.#local.delete(user);
    const member = encodeURIComponent(user);
    const untold = last ? () => this.#keepUntold(user, local.detail) : undefined;
    return this.#run(REMOVE, [this.#userKey(member), this.#nodeKey(this.nodeId)], [this.nodeId, member], untold);
  }

  onChange(listener: PresenceListener): void {
    this.#listeners.push(listener);
  }

  /** Takes over the counts of node `nodeId`, found dead; reports its users that have no socket left. */
  async reap(nodeId: string): Promise<void> {
    const reply = await this.client.eval(REAP, {
      keys: [this.#nodeKey(nodeId), `${this.prefix}:node:${nodeId}`],
      arguments: [nodeId, `${this.prefix}:presence:`],
    });
    const gone = strings(reply);
    if (gone.length > 0) this.log.warn({ node: nodeId, users: gone.length / 2 }, 'node gone without shutting down: its users are offline');
    for (let i = 0; i + 1 < gone.length; i += 2) this.#report(decodeURIComponent(gone[i] ?? ''), false, gone[i + 1] ?? '');
  }

  /** Writes this node's counts over what Redis holds for it; reports the users whose total crossed zero. */
  reconcile(): Promise<void> {
    if (!this.client.isReady) return Promise.resolve();
    const args = [this.nodeId, `${this.prefix}:presence:`];
    for (const [user, { count, detail }] of this.#local) args.push(encodeURIComponent(user), String(count), detail);
    const untold = [...this.#untold];
    for (const [user, detail] of untold) args.push(encodeURIComponent(user), 'gone', detail);
    return this.client
      .eval(RECONCILE, { keys: [this.#nodeKey(this.nodeId)], arguments: args })
      .then((reply) => {
        // Those that came back meanwhile were taken out by add(), and must stay out.
        for (const [user, detail] of untold) if (this.#untold.get(user) === detail) this.#untold.delete(user);
        const changed = strings(reply);
        for (let i = 0; i + 2 < changed.length; i += 3)
          this.#report(decodeURIComponent(changed[i] ?? ''), changed[i + 1] === '1', changed[i + 2] ?? '');
      })
      .catch((err: unknown) => this.log.warn({ err }, 'presence: could not reconcile with redis; retried when it is back'));
  }

  /** On a clean shutdown: this node's remaining counts (sockets not yet disconnected) go, as a dead node's would. */
  release(): Promise<void> {
    this.#local.clear();
    return this.reconcile();
  }

  #keepUntold(user: string, detail: string): void {
    this.#untold.delete(user);
    this.#untold.set(user, detail);
    if (this.#untold.size <= MAX_UNTOLD_DEPARTURES) return;
    const oldest = this.#untold.keys().next().value;
    if (oldest !== undefined) this.#untold.delete(oldest);
    this.log.warn({ max: MAX_UNTOLD_DEPARTURES }, 'presence: too many departures redis could not be told of; the oldest is dropped');
  }

  #userKey(member: string): string {
    return `${this.prefix}:presence:${member}`;
  }

  #nodeKey(nodeId: string): string {
    return `${this.prefix}:presence-node:${nodeId}`;
  }

  /** Runs a counting script; without Redis, counts locally only and reports nothing (see the class). */
  #run(script: string, keys: string[], args: string[], untold?: () => void): Promise<boolean> | boolean {
    if (!this.client.isReady) {
      untold?.();
      return false;
    }
    return this.client.eval(script, { keys, arguments: args }).then(
      (reply) => reply === 1,
      (err: unknown) => {
        this.log.warn({ err }, 'presence: redis did not count a socket; reconciled when it is back');
        untold?.();
        return false;
      },
    );
  }

  #report(user: string, online: boolean, detail: string): void {
    for (const listener of this.#listeners) {
      try {
        listener(user, online, detail);
      } catch (err) {
        this.log.error({ err }, 'presence listener failed');
      }
    }
  }
}

/** The strings of a script's array reply. */
function strings(reply: unknown): string[] {
  return Array.isArray(reply) ? reply.filter((item): item is string => typeof item === 'string') : [];
}
