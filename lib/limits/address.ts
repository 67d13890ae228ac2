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
 * proxies forwarded in its `X-Forwarded-For`, as {@link clientAddress} finds it. For namespace middlewares,
 * which cannot use the request: lib/engine/ trims a connection's request to the fields Socket.IO reads, its
 * TCP socket gone. proxy-addr's walk: from the peer back along the forwarded hops, the first hop not trusted.
 */
export function handshakeAddress(handshake: { address: string; headers: IncomingHttpHeaders }, trust: TrustFunction): string {
  const peer = handshake.address || 'unknown';
  const forwarded = handshake.headers['x-forwarded-for'];
  if (forwarded === undefined) return peer;
  const list = Array.isArray(forwarded) ? forwarded.join(',') : forwarded;
  const hops = [
    peer,
    ...list
      .split(',')
      .map((hop) => hop.trim())
      .reverse(),
  ];
  for (let hop = 0; hop < hops.length - 1; hop++) {
    const address = hops[hop];
    if (address === undefined || !trust(address, hop)) return address || 'unknown';
  }
  return hops[hops.length - 1] || 'unknown';
}
