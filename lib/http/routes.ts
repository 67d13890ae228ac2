import type { FastifyInstance } from 'fastify';
import { busMessageParamsSchema } from '../../protocol/index.js';
import { RequestError } from '../core/errors.js';
import type { RoomPublisher } from '../core/rooms.js';
import type { ServiceLimits } from '../core/types.js';
import { compileValidator } from '../core/validate.js';
import type { MetricsSource } from '../metrics/types.js';
import type { ReadinessSource, ReadinessState } from '../runtime/types.js';
import { verifySecret, type Secret } from '../config/secrets.js';
import type { AuthFailureGuard } from '../limits/types.js';
import { bearerToken } from './bearer.js';
import { BODY_REQUIRED, registerErrorHandlers, sendError } from './errors.js';

/** The body of a 200 `/readyz`, or the message of a 503, per state. */
const READINESS_TEXT: Readonly<Record<ReadinessState, string>> = {
  ready: 'READY',
  degraded: "READY (degraded): cut off from Redis; serving this node's clients and holding their broadcasts for the other nodes",
  starting: 'not ready: starting; the cluster adapter has not reached Redis yet',
  draining: 'not ready: draining; the node is shutting down',
};
/** The 503 message of a degraded node under `--strict-readiness`. */
const STRICT_DEGRADED = 'not ready: the cluster adapter is not connected to Redis (--strict-readiness)';

/** Sender name of bus messages published over HTTP. */
const HTTP_SENDER = 'POST';

/** What the HTTP routes need from the rest of the service. */
export interface HttpRoutesConfig {
  /** The `/bus` namespace, for `POST /bus-message/:room`. */
  readonly bus: RoomPublisher;
  readonly limits: ServiceLimits;
  /** Readiness for `GET /readyz` (lib/runtime/readiness.ts); without it the node is always ready. */
  readonly readiness?: ReadinessSource;
  /** The metrics `GET /metrics` serves; without it the route does not exist. */
  readonly metrics?: MetricsSource;
  /** The token `GET /metrics` requires as `Authorization: Bearer`; without it the metrics are open. */
  readonly metricsToken?: Secret;
  /** The failed-auth budget a wrong metrics token counts against (as a wrong API key does); none without it. */
  readonly authFailures?: AuthFailureGuard;
}

/** The 401 message of `GET /metrics` without the right token. */
const METRICS_UNAUTHORIZED = 'the metrics need a valid token: Authorization: Bearer <METRICS_TOKEN>';

/**
 * Registers the HTTP side of the service: `GET /healthcheck`, `GET /readyz`, `GET /metrics`, `POST /bus-message/:room`, and
 * the JSON error bodies of lib/http/errors.ts.
 */
export async function registerHttpRoutes(app: FastifyInstance, config: HttpRoutesConfig): Promise<void> {
  const validateParams = compileValidator(busMessageParamsSchema(config.limits));

  registerErrorHandlers(app);

  app.get('/healthcheck', async (_request, reply) => reply.type('text/plain').send('OK'));
  // Liveness above, readiness here: whether a load balancer should send this node new clients.
  const readiness = config.readiness ?? { state: () => 'ready', serving: () => true };
  // 503, not INTERNAL's 500: load balancers and orchestrators read "not ready" from that status alone.
  app.get('/readyz', async (_request, reply) => {
    const state = readiness.state();
    if (readiness.serving()) return reply.type('text/plain').send(READINESS_TEXT[state]);
    const message = state === 'degraded' ? STRICT_DEGRADED : READINESS_TEXT[state];
    return sendError(reply, { code: 'INTERNAL', message }, 503);
  });

  const { metrics, metricsToken, authFailures } = config;
  if (metrics) {
    app.get('/metrics', async (request, reply) => {
      if (metricsToken !== undefined) {
        // Before the token's hash, as on POST /send: guessing tokens is refused without costing an scrypt each.
        const refusal = await authFailures?.admit(request.raw);
        if (refusal) throw new RequestError(refusal.code, refusal.message);
        const token = bearerToken(request);
        if (token === undefined || !(await verifySecret(metricsToken, token))) throw new RequestError('UNAUTHORIZED', METRICS_UNAUTHORIZED);
        authFailures?.refund(request.raw);
      }
      return reply.type(metrics.contentType).send(await metrics.text());
    });
  }

  // Publishers of the original service posted JSON with whatever content type their HTTP client chose
  // (curl -d sends form-urlencoded), so on this route every body is parsed as JSON, whatever its type.
  await app.register((scope, _options, done) => {
    scope.removeAllContentTypeParsers();
    // `__proto__` keys are relayed as plain data, as they are over the sockets: the body is never merged.
    scope.addContentTypeParser('*', { parseAs: 'string' }, scope.getDefaultJsonParser('ignore', 'ignore'));
    // A RequestError thrown here is answered by the error handler, with its code's status.
    scope.post('/bus-message/:room', async (request, reply) => {
      // `/bus-message/` routes here with an empty room: rooms are validated exactly as on the sockets.
      const { room } = validateParams(request.params);
      if (request.body === undefined) throw new RequestError('BAD_REQUEST', BODY_REQUIRED);
      config.bus.publish(room, HTTP_SENDER, request.body);
      return reply.send({ ok: true });
    });
    done();
  });
}
