import { READY_DEADLINE_MS } from './deadlines.js';
import type { AppDependencies } from '../../lib/app.js';
import type { ServiceOptions } from '../../lib/config/options.js';
import { startServer, type TestServer } from './server.js';
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
