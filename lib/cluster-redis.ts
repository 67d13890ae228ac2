import { createAdapter } from '@socket.io/redis-streams-adapter';
import type { Logger } from 'pino';
import { createClient } from 'redis';
import type { Cluster, JoinStamps, MemberView, RoomDirectory, RoomSource } from './cluster.js';
import { LobbyRegistry } from './lobby-registry.js';
import type { RedisOptions } from './options.js';

/**
 * How long an idle stream read blocks. Short, because a closing node's reader only notices the close when
 * its read returns; a read returns at once when there is something to read, so this costs no latency.
 */
const READ_BLOCK_MS = 1000;
/** Reconnect back-off: 100 ms, 200 ms, … capped at 2 s, so a restarted Redis is found within about 2 s. */
const reconnectDelay = (retries: number): number => Math.min(100 * (retries + 1), 2000);

let lastStamp = 0;
/**
 * A join stamp: wall-clock microseconds (the process's time origin plus its monotonic clock), plus one per
 * join within the same microsecond, strictly increasing within a process even when many sockets join at
 * once. Across processes it orders by wall clock: on one machine (`--workers`) joins a fraction of a
 * millisecond apart; across machines as far as their clocks agree (NTP: a few ms).
 */
function nextStamp(): number {
  const now = Math.floor((performance.timeOrigin + performance.now()) * 1000);
  lastStamp = now > lastStamp ? now : lastStamp + 1;
  return lastStamp;
}

function stampOf(member: MemberView<JoinStamps>, key: string): number {
  return member.data.joins?.[key] ?? Number.MAX_SAFE_INTEGER;
}

/**
 * Cluster-wide lookups: every node answers through the adapter (`fetchSockets` over Redis pub/sub).
 * While the adapter is not ready (Redis unreachable) they answer from this node alone instead of waiting
 * for Redis: the node is cut off, `/readyz` says so, and its own clients still get the best answer it has.
 * Without `registry` (the workers of one machine, which die together) lobby sockets are not registered.
 */
export function clusterDirectory(isReady: () => boolean, registry?: LobbyRegistry): RoomDirectory {
  const sockets = <Data>(nsp: RoomSource<Data>, room: string): Promise<MemberView<Data>[]> =>
    isReady() ? nsp.in(room).fetchSockets() : Promise.resolve(localMembers(nsp, room));
  return {
    async memberIds(nsp, key) {
      const members = await sockets(nsp, key);
      return members.map((member) => member.id);
    },
    async isMember(nsp, key, id) {
      // Asking for the socket's own id room reaches only the node that has it; its rooms say whether it is
      // in `key`. The id check keeps a room name passed as `id` from matching one of its members.
      const found = await sockets(nsp, id);
      return found.some((member) => member.id === id && member.rooms.has(key));
    },
    async members(nsp, key) {
      const members = await sockets(nsp, key);
      // Ties (same stamp on two nodes) fall back to the socket id, so every node lists the same order.
      return members.sort((a, b) => stampOf(a, key) - stampOf(b, key) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    },
    noteJoin(socket, key) {
      if (socket.rooms.has(key)) return;
      (socket.data.joins ??= {})[key] = nextStamp();
    },
    noteLeave(socket, key) {
      if (socket.data.joins) delete socket.data.joins[key];
    },
    noteLobby(socketId, lobby) {
      registry?.note(socketId, lobby);
    },
  };
}

/**
 * The members of `room` on this node, read from the adapter's room set: the adapter's own local query
 * (`nsp.local.fetchSockets()`) still asks Redis how many nodes there are, and would wait for it.
 */
function localMembers<Data>(nsp: RoomSource<Data>, room: string): MemberView<Data>[] {
  const members: MemberView<Data>[] = [];
  for (const id of nsp.adapter.rooms.get(room) ?? []) {
    const socket = nsp.sockets.get(id);
    if (socket) members.push(socket);
  }
  return members;
}

/**
 * Redis backend: `@socket.io/redis-streams-adapter` (broadcasts through one Redis stream, requests such as
 * fetchSockets through pub/sub). Chosen over `@socket.io/redis-adapter` because it is the only official
 * adapter that supports connection state recovery across nodes (which reliable delivery will need), and
 * because a stream read resumes from its last offset after a reconnect, so a Redis restart loses no
 * subscription. See README "Scaling out".
 *
 * The client connects in the background and reconnects forever: a node whose Redis is down serves its
 * local clients, reports 503 on /readyz and joins the cluster when Redis comes up.
 */
export function createRedisCluster(options: RedisOptions, log: Logger): Cluster {
  const client = newClient(options);
  const where = redactedUrl(options.url);
  let down = true;
  client.on('ready', () => {
    down = false;
    log.info({ redis: where }, 'redis connected');
  });
  client.on('error', (err: Error) => {
    // node-redis emits an error per failed reconnect attempt: log the first of each outage only.
    if (down && lastError === err.message) return;
    lastError = err.message;
    down = true;
    log.error({ redis: where, err: err.message }, 'redis unavailable: not ready, reconnecting');
  });
  let lastError: string | undefined;
  let closed = false;
  client.connect().catch((err: unknown) => {
    if (!closed) log.error({ redis: where, err }, 'redis client gave up');
  });

  const streamName = `${options.prefix}:stream`;
  const readiness = watchAdapterClients(client, streamName);
  const adapter = createAdapter(client, {
    streamName,
    channelPrefix: options.prefix,
    sessionKeyPrefix: `${options.prefix}:session:`,
    blockTimeInMs: READ_BLOCK_MS,
  });

  const isReady = (): boolean => client.isReady && readiness.live();
  const registry = new LobbyRegistry(client, options.prefix, log);
  void readiness.until(true).then(() => {
    if (!closed) log.info({ redis: where, prefix: options.prefix }, 'cluster ready: reading the stream and subscribed');
  });
  let closing: Promise<void> | undefined;
  return {
    mode: 'redis',
    adapter,
    directory: clusterDirectory(isReady, registry),
    onLostLobbySocket(announce) {
      registry.start(announce);
      // Registered at once on (re)connect, so that a node that dies a moment after it came up is still found.
      client.on('ready', () => void registry.sweep());
    },
    isReady,
    untilReady: (ready = true) => readiness.until(ready),
    close() {
      // After io.close(): the adapter has stopped using the connections; the stream reader's blocking read
      // and any connection still trying to reach a Redis that is down would otherwise keep the process up.
      closing ??= registry.stop().then(() => {
        closed = true;
        readiness.destroy();
      });
      return closing;
    },
  };
}

function newClient(options: RedisOptions) {
  return createClient({
    url: options.url,
    ...(options.database === undefined ? {} : { database: options.database }),
    // The adapter parses RESP2 replies (stream entries as arrays).
    RESP: 2,
    socket: { reconnectStrategy: reconnectDelay },
  });
}

type Client = ReturnType<typeof newClient>;
type AsyncMethod = (...args: unknown[]) => Promise<unknown>;
/** What readiness reads of each connection. */
interface ConnectionState {
  readonly isReady: boolean;
  on(event: string, listener: () => void): unknown;
  destroy(): void;
}

/**
 * Readiness that proves the adapter works, not just that a socket to Redis is open. The adapter makes its
 * own connections with `client.duplicate()`: one blocks in XREAD on the stream (broadcasts), one
 * subscribes to the request channels (fetchSockets, used by CLIENTS, PEERS and RTCSIGNAL). This watches
 * them through the duplicates: live while every connection is up, once the reader has received an entry of
 * the stream and every subscription has been confirmed. (After a reconnect node-redis renews the
 * subscriptions itself, before its 'ready'.)
 *
 * Why an entry: the reader starts at `$` (only new entries) and, until it has seen one, starts again at
 * `$` after each idle read, so an entry added between two reads is missed. While the reader has seen
 * nothing, each of its reads is followed by a probe entry (without a namespace: every adapter skips it)
 * until one arrives; from then on it reads from a concrete offset and misses nothing, Redis restarts
 * included (new entry ids are later in time).
 */
function watchAdapterClients(
  client: Client,
  streamName: string,
): { live(): boolean; until(ready: boolean): Promise<void>; destroy(): void } {
  const clients: ConnectionState[] = [client];
  let closing = false;
  let readerLive = false;
  let subscribed = false;
  let pendingSubscriptions = 0;
  const live = (): boolean => readerLive && subscribed && pendingSubscriptions === 0 && clients.every((c) => c.isReady);
  const waiters = new Set<{ ready: boolean; resolve: () => void }>();
  const check = (): void => {
    const now = live();
    for (const waiter of waiters) {
      if (waiter.ready !== now) continue;
      waiters.delete(waiter);
      waiter.resolve();
    }
  };
  // node-redis updates isReady around its events, not always before them: look once the event is done.
  const checkSoon = (): void => void setImmediate(check);
  const follow = (c: ConnectionState): void => {
    for (const event of ['ready', 'end', 'error', 'reconnecting']) c.on(event, checkSoon);
  };
  follow(client);

  const probe = (): void => {
    client.xAdd(streamName, '*', { probe: '1' }).catch(() => undefined);
  };
  const watch: ProxyHandler<object> = {
    get(target, property) {
      const value: unknown = Reflect.get(target, property);
      if (typeof value !== 'function') return value;
      // Bound to the real client: node-redis keeps its state in private fields, unreachable through a proxy.
      const method = (value as AsyncMethod).bind(target);
      if (property === 'xRead') {
        return (...args: unknown[]) => {
          const read = method(...args);
          if (!readerLive) probe();
          return read.then((result) => {
            if (result) readerLive = true;
            check();
            return result;
          });
        };
      }
      if (property === 'subscribe' || property === 'sSubscribe') {
        // The adapter does not handle a failed SUBSCRIBE (a client closed before it connected): settled here
        // so that it cannot become an unhandled rejection.
        return (...args: unknown[]) => {
          pendingSubscriptions += 1;
          return method(...args)
            .then(() => (subscribed = true), () => undefined)
            .finally(() => {
              pendingSubscriptions -= 1;
              check();
            });
        };
      }
      if (property === 'connect') {
        // Nor a connect that {@link destroy} cut short: let the adapter go on with a closed client, which
        // fails its commands (caught) and stops once its namespaces are closed.
        return () => method().catch((err: unknown) => {
          if (closing) return target;
          throw err;
        });
      }
      return method;
    },
  };
  const duplicate = client.duplicate.bind(client);
  client.duplicate = ((...args: Parameters<typeof duplicate>) => {
    const copy = duplicate(...args);
    clients.push(copy);
    follow(copy);
    return new Proxy(copy, watch);
  }) as typeof client.duplicate;
  return {
    live,
    destroy() {
      closing = true;
      for (const c of clients) c.destroy();
    },
    until(ready) {
      if (live() === ready) return Promise.resolve();
      return new Promise((resolve) => waiters.add({ ready, resolve }));
    },
  };
}

/** The Redis URL without its password, for logs. */
function redactedUrl(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.href;
}
