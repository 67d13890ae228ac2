import type { FastifyInstance } from 'fastify';
import { ASYNCAPI_PATH, asyncApiJson, type AsyncApiInfo } from './asyncapi-document.js';

/**
 * Registers `GET /asyncapi.json`: the protocol's AsyncAPI document. It is built once, at the first request
 * (not at start, which it would slow for a document few ask for), from the same module as the repository's
 * docs/asyncapi.json, so that it describes this build's protocol even where the file is stale or not
 * shipped; every request answers the same serialised bytes.
 */
export function registerAsyncApiRoute(app: FastifyInstance, info: AsyncApiInfo): void {
  let body: string | undefined;
  app.get(ASYNCAPI_PATH, async (_request, reply) => {
    body ??= asyncApiJson(info);
    return reply.type('application/json; charset=utf-8').send(body);
  });
}
