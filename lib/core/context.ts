import type { Logger } from 'pino';
import type { Socket } from 'socket.io';
import type { Cluster } from '../cluster/types.js';
import type { AuthFailureGuard } from '../limits/types.js';
import type { HookDispatcher } from './hooks.js';
import type { ServiceLimits } from './types.js';

/**
 * What every mount of the service is given: one object instead of positional arguments, so that a new
 * cross-cutting concern adds a field here (or a hook subscriber) rather than a parameter to every mount.
 */
export interface ServiceContext {
  readonly limits: ServiceLimits;
  /** The logger of the mount's component; mounts narrow it with `child` for their namespace or site. */
  readonly log: Logger;
  /** The scale-out backend: cluster-wide room lookups, presence, the adapter. */
  readonly cluster: Cluster;
  /** Where features subscribe and where the mounts report connections, joins, leaves and inbound events. */
  readonly hooks: HookDispatcher;
  /** The failed-auth budget every auth mode and the push API take an attempt from before checking anything. */
  readonly authFailures: AuthFailureGuard;
  /** The client address of a socket's connection, as the per-address limits count it (`--trust-proxy` applied). */
  readonly clientAddress: (socket: Socket) => string;
  /**
   * How long (ms) a socket whose connection dropped may come back with its session recovered (Socket.IO's
   * connection-state recovery); 0 when recovery is off or the backend keeps no sessions.
   */
  readonly recoveryWindow: number;
  /** Registers what the service must release when it closes (an auth backend's connection pool). */
  readonly onClose: (release: () => Promise<void>) => void;
}

/** The same context with a narrower logger (a namespace's, a site's). */
export function withLog(context: ServiceContext, log: Logger): ServiceContext {
  return { ...context, log };
}
