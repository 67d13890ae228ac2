import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import proxyAddr from '@fastify/proxy-addr';
import type { TrustProxy } from '../config/options.js';

/** Whether the proxy at `address`, `hop` steps from the service (0: the peer), is believed. */
export type TrustFunction = (address: string, hop: number) => boolean;

/**
 * The trust function of `--trust-proxy`, for proxy-addr and for fastify's `trustProxy` (given the same
 * function, so that HTTP routes and sockets see the same client address). A hop count believes that many
 * proxies whoever they are: a client that reaches the service directly can then claim any address, so a
 * list of the proxies' addresses is the safer choice.
 */
export function trustFunction(trust: TrustProxy | undefined): TrustFunction {
  if (trust === undefined) return () => false;
  if (typeof trust === 'number') return (_address, hop) => hop < trust;
  return proxyAddr.compile([...trust]);
}

/**
 * Where a request comes from: the peer address, or the address the trusted proxies forwarded in
 * `X-Forwarded-For`. Never empty (a destroyed socket has no address: `unknown`).
 */
export function clientAddress(request: IncomingMessage, trust: TrustFunction): string {
  if (request.headers['x-forwarded-for'] === undefined) return request.socket.remoteAddress ?? 'unknown';
  return proxyAddr(request, trust) || 'unknown';
}

/**
 * The client address of a Socket.IO handshake: its peer address (`handshake.address`) or the one the trusted
 * proxies forwarded in its `X-Forwarded-For`, found by the same proxy-addr walk as {@link clientAddress}.
 * For namespace middlewares, which cannot use the request: lib/engine/ trims a connection's request to the
 * fields Socket.IO reads, its TCP socket gone. proxy-addr reads only these two fields of a request.
 */
export function handshakeAddress(handshake: { address: string; headers: IncomingHttpHeaders }, trust: TrustFunction): string {
  const request = { headers: handshake.headers, socket: { remoteAddress: handshake.address || 'unknown' } };
  return clientAddress(request as unknown as IncomingMessage, trust);
}
