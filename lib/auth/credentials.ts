import type { Logger } from 'pino';
import type { Socket } from 'socket.io';
import { verifySecret, type Secret } from '../config/secrets.js';
import type { AuthConfig } from '../config/access.js';
import { RequestError } from '../core/errors.js';
import { authError } from './handshake.js';
import type { AuthMiddleware } from './types.js';

type CredentialsAuth = Extract<AuthConfig, { mode: 'credentials' }>;

/**
 * Compared against when the user name is unknown, so that an unknown user costs the same scrypt work as a
 * wrong password and user names cannot be probed by timing. Its clear text is never accepted: a digest
 * is compared against the SHA-256 of the candidate, and no string hashes to all zeros.
 */
const NOBODY: Secret = { kind: 'digest', digest: Buffer.alloc(32) };

/**
 * Mode credentials: `auth: { username, password }` in the handshake, checked against the configured users
 * (passwords kept only as hashes, compared in constant time). Refusals are `UNAUTHORIZED` without saying
 * whether the user or the password was wrong. Only the handshake's `auth` is read, never the query: a
 * password in a URL ends up in proxies' logs.
 */
export function credentialsAuth(auth: CredentialsAuth, log: Logger): AuthMiddleware {
  return (socket: Socket, next) => {
    const { username, password } = credentialsOf(socket);
    if (username === undefined || password === undefined) {
      next(authError(new RequestError('UNAUTHORIZED', 'credentials are required: connect with auth: { username, password }')));
      return;
    }
    const secret = auth.users.get(username);
    verifySecret(secret ?? NOBODY, password).then(
      (valid) => {
        if (valid && secret) {
          log.debug({ socketId: socket.id, user: username }, 'credentials accepted');
          next();
          return;
        }
        log.info({ socketId: socket.id, nsp: socket.nsp.name }, 'credentials refused');
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
