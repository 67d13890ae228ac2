import type { Logger } from 'pino';
import type { ServerOptions, Socket } from 'socket.io';
import type { Cluster } from '../cluster/types.js';
import type { ServiceHooks } from '../core/types.js';

/**
 * The event that gives a new session its first recovery offset. socket.io-client (v4) keeps the last string
 * argument of every event it receives as its offset and sends it back when it reconnects; a client that has
 * received nothing yet has none, and plain Socket.IO cannot recover it. This event (one string argument,
 * which listeners may ignore) gives it one at connect.
 */
export const OFFSET_EVENT = '_offset';

/**
 * Socket.IO's `connectionStateRecovery` option for a window of `windowMs` (0: off), or undefined when
 * recovery is off or `cluster` cannot recover sessions (then `log` says so once). Middlewares (the auth) run
 * again on a recovered connection: a revoked token is not recovered.
 */
export function recoveryOption(windowMs: number, cluster: Cluster, log: Logger): ServerOptions['connectionStateRecovery'] | undefined {
  if (windowMs === 0) return undefined;
  if (!cluster.recovers) {
    log.warn({ adapter: cluster.mode }, 'connection-state recovery is off: --workers without --redis keeps no sessions');
    return undefined;
  }
  return { maxDisconnectionDuration: windowMs, skipMiddlewares: false };
}

/**
 * Sends every new (not recovered) session of a Socket.IO v4 client its first offset, so that it can be
 * recovered even if its connection drops before it receives anything. Legacy clients (Engine.IO 3) cannot
 * recover and get nothing. A recovered session keeps the offset it had.
 */
export function sendStartOffsets(hooks: ServiceHooks, cluster: Cluster): void {
  hooks.on('connection', (socket: Socket) => {
    if (socket.recovered || socket.conn.protocol !== 4) return;
    const offset = cluster.recoveryOffset(socket.nsp.adapter);
    if (offset !== undefined) socket.emit(OFFSET_EVENT, offset);
  });
}
