import type { IncomingMessage } from 'node:http';
import type { Logger } from 'pino';

/** Once per process: a deployment behind a proxy sends the header with every request. */
let warned = false;

/**
 * Warns, once per process, when a request carries `X-Forwarded-For` but `--trust-proxy` is not set: the
 * service then takes the proxy's address for the client's, so that every client behind it shares one
 * address's per-address limits. Not believing the header is right (a client could claim any address); the
 * warning is for the operator who forgot the option.
 */
export function warnUntrustedProxy(request: IncomingMessage, trustConfigured: boolean, log: Logger): void {
  if (warned || trustConfigured || request.headers['x-forwarded-for'] === undefined) return;
  warned = true;
  log.warn(
    { peer: request.socket.remoteAddress },
    "a request carries X-Forwarded-For but --trust-proxy is not set: the per-address limits count the proxy as one client; set --trust-proxy to the proxies' addresses",
  );
}
