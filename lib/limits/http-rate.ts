import type { FastifyInstance } from 'fastify';
import type { HookDispatcher } from '../core/hooks.js';
import { AddressRates } from './address-rates.js';

/** The one route the HTTP rate does not count: it is authenticated by an API key, its failures by `--max-auth-failures`. */
const EXEMPT_ROUTE = '/send';

/**
 * Limits the HTTP requests one client address may make to the service's routes: `rate` per second, bursts
 * up to as many, per node, with addresses as fastify sees them (`request.ip`, which honours `--trust-proxy`
 * exactly as the sockets' limits do). An open route such as `POST /bus-message/:room` fans one request out
 * to a whole room, and `GET /metrics` renders every metric: without a limit one client looping over them
 * slows everyone. `POST /send` is not counted: a site's backend pushes as fast as its users need, with its
 * API key, and its wrong keys are bounded by the failed-auth budget. Unknown paths count like the others.
 *
 * Over the rate the request is answered 429 `RATE_LIMITED` with `Retry-After`, before its body is parsed,
 * and reported as a `limited` hit. Socket.IO's own path never reaches fastify: its handshakes are limited
 * by `--connect-rate`. A rate of 0 installs nothing.
 */
export function limitHttpRate(http: FastifyInstance, hooks: HookDispatcher, rate: number): void {
  if (rate <= 0) return;
  const rates = new AddressRates(rate);
  http.addHook('onRequest', async (request, reply) => {
    if (request.routeOptions.url === EXEMPT_ROUTE) return;
    const wait = rates.admit(request.ip, performance.now());
    if (wait === undefined) return;
    hooks.limited({ limit: 'http-rate', action: 'refused', address: request.ip });
    // Returned after send: fastify then runs neither the route nor the later hooks.
    return reply
      .code(429)
      .header('retry-after', Math.max(1, Math.ceil(wait / 1000)))
      .send({ ok: false, error: { code: 'RATE_LIMITED', message: `too many requests from ${request.ip}: at most ${rate} per second` } });
  });
}
