import type { Logger } from 'pino';
import type { LimitHit, ServiceHooks } from '../core/types.js';

/**
 * One debug line per connect and disconnect, on every namespace. Subscribed only when debug is on: a
 * disconnect subscriber costs each socket a listener, which counts at tens of thousands of connections.
 */
export function logConnections(hooks: ServiceHooks, log: Logger): void {
  if (!log.isLevelEnabled('debug')) return;
  hooks.on('connection', (socket) =>
    log.debug({ nsp: socket.nsp.name, socketId: socket.id, transport: socket.conn.transport.name }, 'connected'),
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
