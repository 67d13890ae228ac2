import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ErrorCatalog, type ErrorBody } from '../../protocol/index.js';
import { RequestError } from '../core/errors.js';

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
function errorBody(code: ErrorBody['code'], message: string) {
  return { ok: false, error: { code, message } };
}

/**
 * Answers `error` with the error body and its code's HTTP status from the catalog, or with `status` where
 * the answer's status says something the code cannot (a readiness probe's 503, a framework's 415).
 */
export function sendError(reply: FastifyReply, error: ErrorBody, status: number = ErrorCatalog[error.code].status): FastifyReply {
  return reply.code(status).send(errorBody(error.code, error.message));
}

/**
 * JSON error bodies `{ ok: false, error: { code, message } }` for 404, for a {@link RequestError} a route or
 * hook throws (with its code's status), and for fastify's own 4xx and 5xx. Register before any route plugin:
 * plugins registered later inherit these handlers.
 */
export function registerErrorHandlers(app: FastifyInstance): void {
  app.setNotFoundHandler(async (request, reply) =>
    sendError(reply, { code: 'NOT_FOUND', message: `${request.method} ${request.url.split('?')[0]} not found` }),
  );

  app.setErrorHandler(async (error: FastifyError | RequestError, request, reply) => {
    if (error instanceof RequestError) {
      request.log.debug({ code: error.code }, error.message);
      return sendError(reply, error);
    }
    const status = error.statusCode ?? 500;
    if (status >= 500) {
      request.log.error({ err: error }, 'HTTP request failed');
      return sendError(reply, { code: 'INTERNAL', message: 'internal error' });
    }
    request.log.debug({ err: error }, 'HTTP request rejected');
    // fastify's own status is kept (a 415 stays a 415); only the code comes from the catalog's statuses.
    const code = status === ErrorCatalog.LIMIT.status ? 'LIMIT' : 'BAD_REQUEST';
    return sendError(reply, { code, message: BODY_ERRORS[error.code] ?? error.message }, status);
  });
}

/** Errors fastify raises before routing (a malformed URL) get the same JSON body as every other 400. */
export function sendFrameworkError(error: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  void sendError(reply, { code: 'BAD_REQUEST', message: error.message });
}
