import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { LimitHit, ServiceHooks } from '../core/types.js';
import type { ReadinessSource } from '../runtime/types.js';
import type { MetricsSource } from './types.js';

/** The prefix of every metric the service exports, so that a shared Prometheus tells them apart. */
export const METRIC_PREFIX = 'realtime_rooms_';

/**
 * The service's Prometheus metrics, in a registry of its own (several services in one process, as in the
 * tests, never share counters): the process's own metrics (memory, CPU, event-loop lag, handles) and
 * what the hooks report. Subscribes through the hooks only, so a metric never touches a namespace's code.
 */
export function createMetrics(hooks: ServiceHooks, readiness?: ReadinessSource): MetricsSource {
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
  return { contentType: registry.contentType, text: () => registry.metrics() };
}
