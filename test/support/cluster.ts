import { READY_DEADLINE_MS } from './deadlines.js';
import type { AppDependencies } from '../../lib/app.js';
import type { ServiceOptions } from '../../lib/config/options.js';
import { startServer, type ClientOptions, type TestServer } from './server.js';
import { randomPrefix, type TestRedis } from './redis.js';
import { withDeadline } from './wait.js';

/**
 * Starts `count` nodes of one cluster in this process, each with its own Redis clients, sharing a random key
 * prefix on `redis` and `options` (node i with `deps[i]`, e.g. a recording logger); resolves once every node
 * is ready. They are closed after the current test.
 */
export async function startNodes(
  redis: TestRedis,
  count = 2,
  prefix = randomPrefix(),
  options: Partial<ServiceOptions> = {},
  deps: readonly AppDependencies[] = [],
): Promise<TestServer[]> {
  const nodes: TestServer[] = [];
  for (let i = 0; i < count; i++) {
    const node = await startServer({ ...options, redis: redis.options(prefix) }, deps[i]);
    await withDeadline(node.app.untilReady(), `node ${i} to be ready`, READY_DEADLINE_MS);
    nodes.push(node);
  }
  return nodes;
}

/** The namespaces {@link subscriptionsSettled} connects its probes to: `/do-probe<n>`. */
export const PROBE_NAMESPACE = '/do-probe';
let probes = 0;
/**
 * Resolves once Redis has processed every (un)subscription `node` has sent so far, on a node serving a
 * `do-` forwarding prefix: a client (with `options`, e.g. its credentials) connects to a fresh child, whose
 * adapter subscribes on the same connection as every earlier one, after them, and the node is ready again
 * only once that subscription is confirmed. (No command on the test's own connection is ordered after
 * another connection's.) Call it after the first socket of a child connects to a node, before another node
 * broadcasts to that child. The probe stays connected, so that its own removal is not one more
 * unsubscription in flight.
 */
export async function subscriptionsSettled(node: TestServer, options: ClientOptions): Promise<void> {
  await node.connect(`${PROBE_NAMESPACE}${probes++}`, options);
  await withDeadline(node.app.untilReady(), 'the probe namespace to be subscribed');
}
