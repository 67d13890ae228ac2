import type { IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import { connectionAddress } from '../engine/index.js';
import type { LimitHit, ServiceHooks } from '../core/types.js';

/**
 * One debug line per connect and disconnect, on every namespace. Subscribed only when debug is on: a
 * disconnect subscriber costs each socket a listener, which counts at tens of thousands of connections.
 */
export function logConnections(hooks: ServiceHooks, log: Logger): void {
  if (!log.isLevelEnabled('debug')) return;
  hooks.on('connection', (socket) =>
    log.debug(
      {
        nsp: socket.nsp.name,
        socketId: socket.id,
        address: connectionAddress(socket.conn),
        transport: socket.conn.transport.name,
        // A recovered session keeps its socket id: this tells its second 'connected' from the first.
        ...(socket.recovered ? { recovered: true } : {}),
      },
      'connected',
    ),
  );
  hooks.on('disconnect', (socket, reason) => log.debug({ nsp: socket.nsp.name, socketId: socket.id, reason }, 'disconnected'));
}

/**
 * One line per limit hit: `info` when a client was cut off (an operator wants to know who and why),
 * `debug` for a refused or dropped message, which a flood repeats thousands of times a second.
 */
export function logLimits(hooks: ServiceHooks, log: Logger): void {
  const debug = log.isLevelEnabled('debug');
  hooks.on('limited', (hit: LimitHit) => {
    if (hit.action === 'disconnected') log.info(hit, `disconnected: ${hit.limit} limit`);
    else if (debug) log.debug(hit, `${hit.action}: ${hit.limit} limit`);
  });
}

/** What Engine.IO reports of a request it refused (its `connection_error` event). */
export interface EngineRefusal {
  readonly req: IncomingMessage;
  readonly code: number;
  readonly message: string;
  readonly context?: unknown;
}

/** The part of the Engine.IO server that reports refused requests. */
export interface RefusalSource {
  on(event: 'connection_error', listener: (refusal: EngineRefusal) => void): unknown;
}

/**
 * One debug line per request Engine.IO refused, with its reason and the client's address: a polling client
 * behind a load balancer without sticky sessions is refused `Session ID unknown` on every request, and
 * nothing else would show it. (Counted by reason in the metrics, lib/metrics/registry.ts.)
 */
export function logEngineRefusals(engine: RefusalSource, log: Logger, addressOf: (req: IncomingMessage) => string): void {
  if (!log.isLevelEnabled('debug')) return;
  engine.on('connection_error', (refusal) => {
    const sid = new URL(refusal.req.url ?? '/', 'http://service').searchParams.get('sid') ?? undefined;
    log.debug(
      { address: addressOf(refusal.req), method: refusal.req.method, sid, code: refusal.code, reason: refusal.message },
      `engine.io refused a request: ${refusal.message}`,
    );
  });
}
