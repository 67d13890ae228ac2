import type { FastifyError, FastifyInstance } from 'fastify';
import Type from 'typebox';
import { Identifier, type ErrorBody } from '../protocol/index.js';
import { RequestError } from './errors.js';
import type { LayoutChannel } from './namespaces/layout.js';
import { compileValidator } from './validate.js';

/** What the HTTP routes need from the rest of the service. */
export interface HttpRoutesConfig {
  /** The `/bus` namespace, for `POST /bus-message/:room`. */
  readonly bus: LayoutChannel;
  readonly maxIdLength: number;
  /** Readiness for `GET /readyz`: whether the adapter reaches the cluster (always true in memory mode). */
  readonly isReady?: () => boolean;
}

/** Sender name of bus messages published over HTTP. */
const HTTP_SENDER = 'POST';

const BODY_REQUIRED = 'body is required: a JSON value to publish';

/**
 * fastify's JSON parser says "content-type is set to 'application/json'", which misleads a publisher that
 * sent text/plain or form-urlencoded (as `curl -d` does): every bus-message body is read as JSON.
 */
const BODY_ERRORS: Readonly<Record<string, string>> = {
  FST_ERR_CTP_EMPTY_JSON_BODY: BODY_REQUIRED,
  FST_ERR_CTP_INVALID_JSON_BODY: 'body is not valid JSON',
};

/**
 * Registers the HTTP side of the service: `GET /healthcheck`, `POST /bus-message/:room`, and JSON
 * error bodies `{ ok: false, error: { code, message } }` for 400, 404, 413 and 5xx.
 */
export async function registerHttpRoutes(app: FastifyInstance, config: HttpRoutesConfig): Promise<void> {
  const validateRoom = compileValidator(Type.Object({ room: Identifier(config) }));

  // Registered first: plugins registered below inherit these handlers.
  app.setNotFoundHandler(async (request, reply) =>
    reply.code(404).send(errorBody('NOT_FOUND', `${request.method} ${request.url.split('?')[0]} not found`)),
  );

  app.setErrorHandler(async (error: FastifyError, request, reply) => {
    const status = error.statusCode ?? 500;
    if (status >= 500) {
      request.log.error({ err: error }, 'HTTP request failed');
      return reply.code(500).send(errorBody('INTERNAL', 'internal error'));
    }
    request.log.debug({ err: error }, 'HTTP request rejected');
    return reply.code(status).send(errorBody(status === 413 ? 'LIMIT' : 'BAD_REQUEST', BODY_ERRORS[error.code] ?? error.message));
  });

  app.get('/healthcheck', async (_request, reply) => reply.type('text/plain').send('OK'));
  // Liveness above, readiness here: a node cut off from Redis is alive but must get no new clients.
  const isReady = config.isReady ?? (() => true);
  app.get('/readyz', async (_request, reply) =>
    isReady()
      ? reply.type('text/plain').send('READY')
      : reply.code(503).send(errorBody('INTERNAL', 'not ready: the cluster adapter is not connected to Redis')),
  );

  // Publishers of the original service posted JSON with whatever content type their HTTP client chose
  // (curl -d sends form-urlencoded), so on this route every body is parsed as JSON, whatever its type.
  await app.register((scope, _options, done) => {
    scope.removeAllContentTypeParsers();
    // `__proto__` keys are relayed as plain data, as they are over the sockets: the body is never merged.
    scope.addContentTypeParser('*', { parseAs: 'string' }, scope.getDefaultJsonParser('ignore', 'ignore'));
    scope.post<{ Params: { room: string } }>('/bus-message/:room', async (request, reply) => {
      let room: string;
      try {
        // `/bus-message/` routes here with an empty room: rooms are validated exactly as on the sockets.
        room = validateRoom(request.params).room;
      } catch (err) {
        if (!(err instanceof RequestError)) throw err;
        return reply.code(400).send(errorBody(err.code, err.message));
      }
      if (request.body === undefined) {
        return reply.code(400).send(errorBody('BAD_REQUEST', BODY_REQUIRED));
      }
      config.bus.publish(room, HTTP_SENDER, request.body);
      return { ok: true };
    });
    done();
  });
}

/** An HTTP error body in the ack envelope's shape. */
export function errorBody(code: ErrorBody['code'], message: string) {
  return { ok: false, error: { code, message } };
}
