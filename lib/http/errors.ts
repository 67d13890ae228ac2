import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ErrorBody } from '../../protocol/index.js';

/** The answer to a bus-message POST without a body. */
export const BODY_REQUIRED = 'body is required: a JSON value to publish';

/**
 * fastify's JSON parser says "content-type is set to 'application/json'", which misleads a publisher that
 * sent text/plain or form-urlencoded (as `curl -d` does): every bus-message body is read as JSON.
 */
const BODY_ERRORS: Readonly<Record<string, string>> = {
  FST_ERR_CTP_EMPTY_JSON_BODY: BODY_REQUIRED,
  FST_ERR_CTP_INVALID_JSON_BODY: 'body is not valid JSON',
};

/** An HTTP error body in the ack envelope's shape. */
export function errorBody(code: ErrorBody['code'], message: string) {
  return { ok: false, error: { code, message } };
}

/**
 * JSON error bodies `{ ok: false, error: { code, message } }` for 404, 400, 413 and 5xx. Register before any
 * route plugin: plugins registered later inherit these handlers.
 */
export function registerErrorHandlers(app: FastifyInstance): void {
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
}

/** Errors fastify raises before routing (a malformed URL) get the same JSON body as every other 400. */
export function sendFrameworkError(error: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  void reply.code(400).send(errorBody('BAD_REQUEST', error.message));
}
