import type { Logger } from 'pino';
import type { Socket } from 'socket.io';
import { dummySecret, verifyAgainst } from '../config/secrets.js';
import type { AuthConfig } from '../config/access.js';
import { RequestError } from '../core/errors.js';
import { authError } from './handshake.js';
import type { AuthMiddleware } from './types.js';

type CredentialsAuth = Extract<AuthConfig, { mode: 'credentials' }>;

/**
 * Mode credentials: `auth: { username, password }` in the handshake, checked against the configured users
 * (passwords kept only as hashes, compared in constant time). Refusals are `UNAUTHORIZED` without saying
 * whether the user or the password was wrong. Only the handshake's `auth` is read, never the query: a
 * password in a URL ends up in proxies' logs.
 */
export function credentialsAuth(auth: CredentialsAuth, log: Logger): AuthMiddleware {
  // An unknown user costs the same hash as a wrong password: user names cannot be probed by timing.
  const nobody = dummySecret(auth.users.values());
  return (socket: Socket, next) => {
    const { username, password } = credentialsOf(socket);
    if (username === undefined || password === undefined) {
      next(authError(new RequestError('UNAUTHORIZED', 'credentials are required: connect with auth: { username, password }')));
      return;
    }
    const secret = auth.users.get(username);
    verifyAgainst(secret, password, nobody).then(
      (valid) => {
        if (valid) {
          log.debug({ socketId: socket.id, user: username }, 'credentials accepted');
          next();
          return;
        }
        log.debug({ socketId: socket.id }, 'credentials refused');
        next(authError(new RequestError('UNAUTHORIZED', 'wrong username or password')));
      },
      (err: unknown) => {
        log.error({ socketId: socket.id, err }, 'credentials check failed');
        next(authError(new RequestError('INTERNAL', 'internal error')));
      },
    );
  };
}

function credentialsOf(socket: Socket): { username: string | undefined; password: string | undefined } {
  const auth: unknown = socket.handshake.auth;
  if (typeof auth !== 'object' || auth === null) return { username: undefined, password: undefined };
  const username = 'username' in auth && typeof auth.username === 'string' && auth.username !== '' ? auth.username : undefined;
  const password = 'password' in auth && typeof auth.password === 'string' ? auth.password : undefined;
  return { username, password };
}
