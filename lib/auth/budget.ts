import type { ExtendedError } from 'socket.io';
import type { AuthFailureGuard } from '../limits/types.js';
import { authError } from './handshake.js';
import type { AuthMiddleware } from './types.js';

/**
 * An auth mode's middleware behind the failed-auth budget: an address that has spent its budget is refused
 * with `RATE_LIMITED` before the mode hashes a password, calls its backend or verifies a token. Only the
 * client's own failures (`UNAUTHORIZED`) stay counted; a success, a backend that is down or an internal
 * error gives its attempt back.
 */
export function budgeted(middleware: AuthMiddleware, gate: AuthFailureGuard): AuthMiddleware {
  return (socket, next) => {
    void gate.admitSocket(socket).then((refusal) => {
      if (refusal) {
        next(authError(refusal));
        return;
      }
      middleware(socket, (err) => {
        if (!isClientFailure(err)) gate.refundSocket(socket);
        next(err);
      });
    });
  };
}

/** Whether a mode refused the handshake for the client's credentials (rather than its backend's failure). */
function isClientFailure(err: ExtendedError | undefined): boolean {
  const data: unknown = err?.data;
  return typeof data === 'object' && data !== null && 'code' in data && data.code === 'UNAUTHORIZED';
}
