/**
 * The interfaces of the per-client limits that have more than one implementation, and nothing else:
 * implementations live beside this file (memory) and in lib/cluster/ (Redis); lib/app.ts chooses.
 */
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'socket.io';
import type { ErrorBody } from '../../protocol/index.js';

/**
 * A per-address count of authentication attempts in the current minute. An attempt is taken before the
 * check and given back when the check did not fail, so that only failures are left counted. Taking first
 * (rather than counting failures once they are known) is what bounds attempts in flight: 50 wrong passwords
 * sent at once cost at most the budget's worth of password hashes, not 50.
 */
export interface AuthFailureBudget {
  /**
   * Takes one attempt for `address`; false when its budget for this minute is spent (refuse without
   * checking). Never rejects: a store that cannot answer falls back to this node's own count.
   */
  take(address: string): Promise<boolean>;
  /** Gives back an attempt {@link take} allowed whose check succeeded (or failed through no fault of the client). Never rejects. */
  refund(address: string): Promise<void>;
  /** Releases the store's connections. Idempotent. */
  close(): Promise<void>;
}

/**
 * The failed-auth budget as the auth modes and the push API use it: by request or socket (the client address
 * honouring `--trust-proxy`), reporting each refusal as a `limited` hit `{ limit: 'auth-failures', action: 'refused' }`.
 */
export interface AuthFailureGuard {
  /**
   * Undefined when the client of HTTP request `request` may attempt to authenticate now (the attempt then
   * counts as a failure until {@link refund}); otherwise the `RATE_LIMITED` refusal to answer with.
   */
  admit(request: IncomingMessage): Promise<ErrorBody | undefined>;
  /** {@link admit} for the handshake of a Socket.IO socket (or a token refresh it sends). */
  admitSocket(socket: Socket): Promise<ErrorBody | undefined>;
  /** The attempt {@link admit} allowed did not fail: it does not count against the client. */
  refund(request: IncomingMessage): void;
  /** {@link refund} for {@link admitSocket}. */
  refundSocket(socket: Socket): void;
}
