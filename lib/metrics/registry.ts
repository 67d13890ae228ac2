import type { FastifyInstance } from 'fastify';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { AccessConfig } from '../config/access.js';
import type { LimitHit, ServiceHooks } from '../core/types.js';
import type { ReadinessSource } from '../runtime/types.js';
import { machineMetrics } from './cluster-metrics.js';
import { countPushCalls } from './http-metrics.js';
import { NamespaceLabels } from './labels.js';
import { countSockets, type BroadcastSource } from './socket-metrics.js';
import type { MetricsSource } from './types.js';

/** The prefix of every metric the service exports, so that a shared Prometheus tells them apart. */
export const METRIC_PREFIX = 'realtime_rooms_';

/** Engine.IO's refusal reasons (its `errorMessages`), the closed set of the refusals metric's label; any other is `other`. */
const ENGINE_REFUSALS: ReadonlySet<string> = new Set([
  'Transport unknown',
  'Session ID unknown',
  'Bad handshake method',
  'Bad request',
  'Forbidden',
  'Unsupported protocol version',
]);

/** What the metrics read besides the hooks. */
export interface MetricsSources {
  readonly readiness?: ReadinessSource;
  /** The Engine.IO server, whose refused requests are counted. */
  readonly engine?: { on(event: 'connection_error', listener: (refusal: { message: string }) => void): unknown };
  /** The namespaces served, whose names are the namespace label's closed set; without it only the limits are counted. */
  readonly access?: Pick<AccessConfig, 'sites' | 'forwarding'>;
  /** Where broadcasts are reported, for events out and fan-out; without it they are not counted. */
  readonly broadcasts?: BroadcastSource;
  /** In a `--workers` worker: `/metrics` answers the whole machine's, aggregated in the primary. */
  readonly worker?: boolean;
  /** The HTTP server, whose push API calls are counted. */
  readonly http?: Pick<FastifyInstance, 'addHook'>;
}

/**
 * The service's Prometheus metrics, in a registry of its own (several services in one process, as in the
 * tests, never share counters): the process's own metrics (memory, CPU, event-loop lag, handles) and
 * what the hooks report (limit hits, connections, events in, errors, recoveries), the push API's calls,
 * the node's readiness, Engine.IO's refusals and the broadcasts' fan-out. Subscribes through the hooks and
 * `sources` only, so a metric never touches a namespace's code.
 */
export function createMetrics(
  hooks: ServiceHooks,
  { readiness, engine, access, http, broadcasts, worker }: MetricsSources = {},
): MetricsSource {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: METRIC_PREFIX });
  // Labels are the closed sets of LimitName and LimitAction: never an address, a room or a socket id.
  const limitHits = new Counter({
    name: `${METRIC_PREFIX}limit_hits_total`,
    help: 'Clients that hit a limit, by limit and by what was done (refused, dropped, disconnected).',
    labelNames: ['limit', 'action'] as const,
    registers: [registry],
  });
  hooks.on('limited', (hit: LimitHit) => limitHits.inc({ limit: hit.limit, action: hit.action }));
  if (access) countSockets(hooks, new NamespaceLabels(access), registry, METRIC_PREFIX, broadcasts);
  if (http) countPushCalls(http, registry, METRIC_PREFIX);
  if (engine) {
    const refusals = new Counter({
      name: `${METRIC_PREFIX}engine_refusals_total`,
      help: 'HTTP requests Engine.IO refused, by reason (Session ID unknown: polling without sticky sessions).',
      labelNames: ['reason'] as const,
      registers: [registry],
    });
    engine.on('connection_error', (refusal) => refusals.inc({ reason: ENGINE_REFUSALS.has(refusal.message) ? refusal.message : 'other' }));
  }
  if (readiness) {
    // Read at scrape time: one series, labelled with the state the node is in (lib/runtime/types.ts).
    new Gauge({
      name: `${METRIC_PREFIX}readiness`,
      help: "The node's readiness state (starting, ready, degraded: cut off from Redis, draining): 1 for the current one.",
      labelNames: ['state'] as const,
      registers: [registry],
      collect() {
        this.reset();
        this.set({ state: readiness.state() }, 1);
      },
    });
  }
  if (worker) return { contentType: registry.contentType, text: machineMetrics(registry) };
  return { contentType: registry.contentType, text: () => registry.metrics() };
}
