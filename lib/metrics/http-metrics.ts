import type { FastifyInstance } from 'fastify';
import { Counter, type Registry } from 'prom-client';

/** The push API's route: the only one counted, so that a scan of random paths adds no series. */
const PUSH_ROUTE = '/send';

/**
 * Counts the push API's answers by HTTP status code (a closed set: the codes of lib/http/errors.ts and 200),
 * refusals included: the hook is the root instance's, so it sees the push scope's `onRequest` refusals too.
 */
export function countPushCalls(http: Pick<FastifyInstance, 'addHook'>, registry: Registry, prefix: string): void {
  const calls = new Counter({
    name: `${prefix}push_requests_total`,
    help: 'Calls of the push API (POST /send), by HTTP status code.',
    labelNames: ['status'] as const,
    registers: [registry],
  });
  http.addHook('onResponse', (request, reply, done) => {
    if (request.routeOptions.url === PUSH_ROUTE) calls.inc({ status: String(reply.statusCode) });
    done();
  });
}
