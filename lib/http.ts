import type { FastifyError, FastifyInstance } from 'fastify';
import type { ErrorBody } from '../protocol/index.js';
import type { LayoutChannel } from './namespaces/layout.js';

/** What the HTTP routes need from the rest of the service. */
export interface HttpRoutesConfig {
  /** The `/bus` namespace, for `POST /bus-message/:room`. */
  readonly bus: LayoutChannel;
  readonly maxIdLength: number;
}

/** Sender name of bus messages published over HTTP. */
const HTTP_SENDER = 'POST';

/**
 * Registers the HTTP side of the service: `GET /healthcheck`, `POST /bus-message/:room`, and JSON
 * error bodies `{ ok: false, error: { code, message } }` for 400, 404, 413 and 5xx.
 */
export async function registerHttpRoutes(app: FastifyInstance, config: HttpRoutesConfig): Promise<void> {
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
    return reply.code(status).send(errorBody(status === 413 ? 'LIMIT' : 'BAD_REQUEST', error.message));
  });

  app.get('/healthcheck', async (_request, reply) => reply.type('text/plain').send('OK'));

  // Publishers of the original service posted JSON with whatever content type their HTTP client chose
  // (curl -d sends form-urlencoded), so on this route every body is parsed as JSON, whatever its type.
  await app.register((scope, _options, done) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'string' }, scope.getDefaultJsonParser('error', 'error'));
    scope.post<{ Params: { room: string } }>('/bus-message/:room', async (request, reply) => {
      const { room } = request.params;
      if (room.length > config.maxIdLength) {
        return reply.code(400).send(errorBody('BAD_REQUEST', `room must be at most ${config.maxIdLength} characters`));
      }
      if (request.body === undefined) {
        return reply.code(400).send(errorBody('BAD_REQUEST', 'body is required: a JSON value to publish'));
      }
      config.bus.publish(room, HTTP_SENDER, request.body);
      return { ok: true };
    });
    done();
  });

}

function errorBody(code: ErrorBody['code'], message: string) {
  return { ok: false, error: { code, message } };
}
