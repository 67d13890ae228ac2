/** The runtime's interfaces other layers read (lib/http/ for `/readyz`, lib/metrics/ for its gauge). */

/**
 * What `GET /readyz` reports of a node:
 * - `starting`: it has not reached the cluster yet (with `--redis`: Redis never answered since start), so
 *   it has never been part of it: a load balancer should send it nobody (503).
 * - `ready`: serving, and in the cluster (always so without `--redis`).
 * - `degraded`: serving, but cut off from the cluster after it had joined it (a Redis outage): its own
 *   clients are served and what they broadcast is held for the other nodes. Still ready (200), unless
 *   `--strict-readiness`: a Redis outage must not take every node out of the load balancer at once.
 * - `draining`: shutting down after SIGTERM (503), so that the load balancer stops sending it clients.
 */
export type ReadinessState = 'starting' | 'ready' | 'degraded' | 'draining';

/** What `/readyz` and the metrics read of a node's readiness. */
export interface ReadinessSource {
  /** The node's state now. */
  state(): ReadinessState;
  /** Whether a load balancer should send this node new clients: what `/readyz`'s status says. */
  serving(): boolean;
}
