/** What every auth mode reads of a handshake and how it refuses one. */
import type { ExtendedError, Socket } from 'socket.io';
import type { ErrorBody } from '../../protocol/index.js';

/**
 * The error a rejected handshake carries to the client, from the `RequestError` (or any `{ code, message }`)
 * an auth mode refused it with: `connect_error` with `err.message` and `err.data` `{ code, message }`. Typed
 * by shape rather than by class because an interface file imports nothing but protocol/ and other types.ts.
 */
export function authError(refusal: ErrorBody): ExtendedError {
  const err: ExtendedError = new Error(refusal.message);
  err.data = { code: refusal.code, message: refusal.message };
  return err;
}

/** The token of a handshake: `auth: { token }` (v4 clients) or `?token=` (every client, as in the original). */
export function handshakeToken(socket: Socket): string | undefined {
  const auth: unknown = socket.handshake.auth;
  if (typeof auth === 'object' && auth !== null && 'token' in auth && typeof auth.token === 'string' && auth.token !== '')
    return auth.token;
  const query = socket.handshake.query.token;
  return typeof query === 'string' && query !== '' ? query : undefined;
}
