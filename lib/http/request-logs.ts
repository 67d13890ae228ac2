import { LogController, type FastifyReply, type FastifyRequest } from 'fastify';

/** Per-request lines at info would flood the log under bus traffic: request logs go to debug. */
export class DebugRequestLogs extends LogController {
  override incomingRequest(request: FastifyRequest): void {
    request.log.debug({ method: request.method, url: withoutApiKey(request.url) }, 'incoming request');
  }
  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    request.log.debug({ statusCode: reply.statusCode, responseTime: reply.elapsedTime, err: error ?? undefined }, 'request completed');
  }
  override routeNotFound(request: FastifyRequest): void {
    request.log.debug({ method: request.method, url: withoutApiKey(request.url) }, 'route not found');
  }
}

/** `POST /send?apiKey=…` carries a secret in its URL: request logs show it redacted. */
export function withoutApiKey(url: string): string {
  return url.replace(/([?&]apiKey=)[^&]*/gi, '$1[redacted]');
}
