import type { FastifyInstance } from 'fastify';
import { ASYNCAPI_PATH, asyncApiJson, type AsyncApiInfo } from './asyncapi-document.js';

/**
 * Registers `GET /asyncapi.json`: the protocol's AsyncAPI document. It is built here once, from the same
 * module as the repository's docs/asyncapi.json, so that it describes this build's protocol even where the
 * file is stale or not shipped; every request answers the same serialised bytes.
 */
export function registerAsyncApiRoute(app: FastifyInstance, info: AsyncApiInfo): void {
  const body = asyncApiJson(info);
  app.get(ASYNCAPI_PATH, async (_request, reply) => reply.type('application/json; charset=utf-8').send(body));
}
