import type * as StreamsAdapter from '@socket.io/redis-streams-adapter';
import { lazyPackage } from '../core/lazy-package.js';
import type { Logger } from 'pino';
import { DEFAULT_OUTAGE_BUFFER, type RedisOptions } from '../config/options.js';
import { clusterDirectory, stampJoins } from './directory.js';
import { channelPrefixOf, databaseOf, newClient, redactedUrl } from './redis-client.js';
import { NodeRegistry } from './node-registry.js';
import { ChannelRelease } from './redis-channels.js';
import { RedisPresence } from './presence-redis.js';
import { watchAdapterClients } from './redis-readiness.js';
import { StreamOffsets } from './stream-offsets.js';
import { StreamOutbox } from './stream-outbox.js';
import type { Cluster } from './types.js';

/**
 * How long an idle stream read blocks. Short, because a closing node's reader only notices the close when
 * its read returns; a read returns at once when there is something to read, so this costs no latency.
 */
const READ_BLOCK_MS = 1000;

const streamsAdapter = lazyPackage<typeof StreamsAdapter>('@socket.io/redis-streams-adapter');

/**
 * Redis backend: `@socket.io/redis-streams-adapter` (broadcasts through one Redis stream, requests such as
 * fetchSockets through pub/sub). Chosen over `@socket.io/redis-adapter` because it is the only official
 * adapter that supports connection state recovery across nodes (which reliable delivery will need), and
 * because a stream read resumes from its last offset after a reconnect, so a Redis restart loses no
 * subscription. See README "Scaling out".
 *
 * The client connects in the background and reconnects forever: a node whose Redis is down serves its
 * local clients and joins (or rejoins) the cluster when Redis comes up; /readyz says starting (503) until
 * it first has, degraded (200) during a later outage (lib/runtime/readiness.ts).
 * Lookups wait at most `timeoutMs` for the other nodes (`--cluster-timeout`, lib/cluster/directory.ts).
 */
export function createRedisCluster(
  options: RedisOptions,
  timeoutMs: number,
  log: Logger,
  recovers: (namespace: string) => boolean = () => true,
): Cluster {
  const client = newClient(options);
  const where = redactedUrl(options.url);
  // One line per outage: node-redis emits an error per failed reconnect attempt, with changing messages.
  let outageLogged = false;
  client.on('ready', () => {
    outageLogged = false;
    log.info({ redis: where }, 'redis connected');
  });
  client.on('error', (err: Error) => {
    if (outageLogged) return;
    outageLogged = true;
    log.error({ redis: where, err: err.message }, "redis unavailable: serving this node's clients only, reconnecting");
  });
  let closed = false;
  client.connect().catch((err: unknown) => {
    if (!closed) log.error({ redis: where, err }, 'redis client gave up');
  });

  const streamName = `${options.prefix}:stream`;
  // A closed namespace's adapter keeps its channels subscribed upstream: released here (lib/cluster/redis-channels.ts).
  const channelPrefix = channelPrefixOf(options);
  const release = new ChannelRelease(channelPrefix);
  const readiness = watchAdapterClients(client, streamName, release);
  // Before the adapter exists: every XADD of its stream goes through the outbox.
  const outbox = new StreamOutbox(client, streamName, options.outageBuffer ?? DEFAULT_OUTAGE_BUFFER, log);
  const offsets = new StreamOffsets(client, streamName, log);
  const adapter = release.adapters(
    offsets.adapters(
      streamsAdapter().createAdapter(client, {
        streamName,
        channelPrefix,
        sessionKeyPrefix: `${options.prefix}:session:`,
        blockTimeInMs: READ_BLOCK_MS,
      }),
      recovers,
    ),
  );

  // Ready once it can also give new sessions a recovery offset: a client that connects then can be recovered.
  const isReady = (): boolean => client.isReady && readiness.live() && offsets.newest() !== undefined;
  const registry = new NodeRegistry(client, options.prefix, log);
  const presence = new RedisPresence(client, options.prefix, registry.nodeId, log.child({ component: 'presence' }));
  registry.onGone((nodeId) => presence.reap(nodeId));
  // After the others may have taken this node for dead (it was cut off or frozen past NODE_TTL_MS).
  registry.onRejoin(() => void presence.reconcile());
  void announceReadiness(
    readiness,
    () => closed,
    (ready) => {
      if (ready)
        log.info(
          { redis: where, database: databaseOf(options), prefix: options.prefix },
          'cluster ready: reading the stream and subscribed',
        );
      else log.warn({ redis: where }, 'cluster degraded: cut off from the other nodes until Redis is back');
    },
  );
  let closing: Promise<void> | undefined;
  return {
    mode: 'redis',
    adapter,
    directory: clusterDirectory({ isReady, timeoutMs, log, registry }),
    // Cluster-wide: a user with sockets on two nodes is online until the last one goes (lib/cluster/presence-redis.ts).
    presence,
    // The streams adapter restores sessions from the stream (the session itself is a Redis key): any node can.
    recovers: true,
    recoveryOffset: () => offsets.newest(),
    attach(hooks, reportLost) {
      stampJoins(hooks);
      registry.start(reportLost);
      // Registered at once on (re)connect, so that a node that dies a moment after it came up is still found.
      client.on('ready', () => {
        // First the counts this node kept while Redis was down, then (if its key expired) the rejoin's again.
        void presence.reconcile();
        void registry.sweep();
      });
    },
    isReady,
    canBroadcast: () => outbox.accepting(),
    untilReady: (ready = true) => (ready ? readiness.until(true).then(() => offsets.known()) : readiness.until(false)),
    close() {
      // After io.close(): the adapter has stopped using the connections; the stream reader's blocking read
      // and any connection still trying to reach a Redis that is down would otherwise keep the process up.
      closing ??= presence
        .release()
        .then(() => registry.stop())
        .then(() => {
          closed = true;
          readiness.destroy();
        });
      return closing;
    },
  };
}

/**
 * Reports every change of readiness, from the first time the node is ready on: each Redis outage and each
 * recovery, until `closed`. (The waiters of a destroyed readiness never resolve: the loop is then dropped.)
 */
async function announceReadiness(
  readiness: { until(ready: boolean): Promise<void> },
  closed: () => boolean,
  report: (ready: boolean) => void,
): Promise<void> {
  for (let ready = true; ; ready = !ready) {
    await readiness.until(ready);
    if (closed()) return;
    report(ready);
  }
}
