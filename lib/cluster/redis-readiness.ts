import type { RedisClient as Client } from './redis-client.js';
import type { ChannelRelease } from './redis-channels.js';

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
 * the stream and every subscription has been confirmed. Each subscription is also shown to `release`, which
 * undoes it when its namespace closes. (After a reconnect node-redis renews the
 * subscriptions itself, before its 'ready'.)
 *
 * Why an entry: the reader starts at `$` (only new entries) and, until it has seen one, starts again at
 * `$` after each idle read, so an entry added between two reads is missed. While the reader has seen
 * nothing, each of its reads is followed by a probe entry (without a namespace: every adapter skips it)
 * until one arrives; from then on it reads from a concrete offset and misses nothing, Redis restarts
 * included (new entry ids are later in time).
 */
export function watchAdapterClients(
  client: Client,
  streamName: string,
  release: ChannelRelease,
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
        const unsubscribe = (target as Record<string, unknown>)[property === 'subscribe' ? 'unsubscribe' : 'sUnsubscribe'] as AsyncMethod;
        // The adapter does not handle a failed SUBSCRIBE (a client closed before it connected): settled here
        // so that it cannot become an unhandled rejection.
        return (...args: unknown[]) => {
          // A namespace closed before its adapter got to subscribe: nothing to subscribe (lib/cluster/redis-channels.ts).
          if (!release.admit(args[0], (channels) => unsubscribe.call(target, channels))) return Promise.resolve();
          pendingSubscriptions += 1;
          return method(...args)
            .then(
              () => (subscribed = true),
              () => undefined,
            )
            .finally(() => {
              pendingSubscriptions -= 1;
              check();
            });
        };
      }
      if (property === 'connect') {
        // Nor a connect that {@link destroy} cut short: let the adapter go on with a closed client, which
        // fails its commands (caught) and stops once its namespaces are closed.
        return () =>
          method().catch((err: unknown) => {
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
