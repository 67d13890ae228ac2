import type { Logger } from 'pino';
import type { Namespace } from 'socket.io';
import type { Cluster } from './types.js';
import { clusterDirectory, stampJoins } from './directory.js';
import { WorkerPresence } from './presence-workers.js';

/**
 * The `--workers` processes of one machine without Redis: `@socket.io/cluster-adapter` relays broadcasts
 * and requests (fetchSockets) through the primary's IPC channels (the primary calls `setupPrimary()`, see
 * lib/runtime/worker-processes.ts). Lookups use the same cluster-wide fetchSockets directory as the Redis mode. The IPC
 * channel is up for as long as the worker lives, so a worker is always ready; the workers live and die
 * with their primary, so no node registry is needed either. Users' sockets are counted by the primary
 * (lib/cluster/presence-workers.ts), which must call `countPresenceInPrimary()`.
 * Lookups wait at most `timeoutMs` for the other workers (`--cluster-timeout`): a worker that is stuck is
 * counted until its heartbeats have been missing for 10 s. The adapter's module is imported here, on
 * first use: a process without `--workers` never loads it.
 */
export async function createWorkersCluster(timeoutMs: number, log: Logger): Promise<Cluster> {
  const { createAdapter } = await import('@socket.io/cluster-adapter');
  const perNamespace = createAdapter();
  // Each namespace's adapter listens to the primary with a `message` listener on `process`, by the adapter's
  // design: the limit grows with the namespaces, so that the eleventh does not warn of a leak. A function,
  // not an arrow: Socket.IO calls the adapter option with `new`.
  function adapter(nsp: Namespace): ReturnType<typeof perNamespace> {
    process.setMaxListeners(process.getMaxListeners() + 1);
    return perNamespace(nsp);
  }
  return {
    mode: 'workers',
    adapter,
    directory: clusterDirectory({ isReady: () => true, timeoutMs, log }),
    // The cluster adapter keeps no sessions: a dropped client reconnects (perhaps to another worker) afresh.
    recovers: false,
    recoveryOffset: () => undefined,
    isReady: () => true,
    canBroadcast: () => true,
    untilReady: () => Promise.resolve(),
    presence: new WorkerPresence(log),
    attach(hooks) {
      stampJoins(hooks);
    },
    close: () => Promise.resolve(),
  };
}
