import type { Logger } from 'pino';
import type { ServiceHooks } from '../core/types.js';

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
