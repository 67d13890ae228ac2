import type { Logger } from 'pino';
import { Compile } from 'typebox/compile';
import { grantedRoomsSchema } from '../../protocol/index.js';
import type { AuthConfig } from '../config/access.js';
import { RequestError } from '../core/errors.js';
import { setIdentity } from './identity.js';
import { authError, handshakeToken } from './handshake.js';
import type { AuthLimits, AuthMiddleware, JoinRooms } from './types.js';

/**
 * Mode token-url: the service asks the site's `url` with `Authorization: <scheme> <token>` and joins the JSON
 * array of room names it answers. The request has a deadline, so a slow backend fails the handshake with
 * `AUTH_UNAVAILABLE` instead of holding the connection open; a 401/403 is `UNAUTHORIZED`.
 */
export function tokenUrlAuth(
  auth: Extract<AuthConfig, { mode: 'token-url' }>,
  limits: AuthLimits,
  join: JoinRooms,
  log: Logger,
): AuthMiddleware {
  const checkRooms = Compile(grantedRoomsSchema(limits));
  return (socket, next) => {
    const token = handshakeToken(socket);
    if (token === undefined) {
      next(authError(new RequestError('UNAUTHORIZED', 'a token is required: connect with ?token=… or auth: { token }')));
      return;
    }
    fetchRooms(auth, token, checkRooms.Check.bind(checkRooms), limits).then(
      (rooms) => {
        join(socket, rooms);
        setIdentity(socket, { user: undefined, rooms, authorization: `${auth.scheme} ${token}` });
        log.debug({ socketId: socket.id, rooms: rooms.length }, 'token accepted');
        next();
      },
      (err: unknown) => {
        const failure = err instanceof RequestError ? err : new RequestError('AUTH_UNAVAILABLE', 'the auth backend failed');
        // A rejected token is the client's business; a failing backend is the operator's.
        if (failure.code === 'UNAUTHORIZED') log.debug({ socketId: socket.id }, failure.message);
        else log.warn({ socketId: socket.id, authUrl: auth.url, err }, failure.message);
        next(authError(failure));
      },
    );
  };
}

async function fetchRooms(
  auth: Extract<AuthConfig, { mode: 'token-url' }>,
  token: string,
  isRoomList: (value: unknown) => value is string[],
  limits: AuthLimits,
): Promise<string[]> {
  let body: string;
  let status: number;
  try {
    // One deadline for the headers and the body: a backend that trickles its answer fails too.
    const response = await fetch(auth.url, {
      headers: { authorization: `${auth.scheme} ${token}`, accept: 'application/json' },
      signal: AbortSignal.timeout(auth.timeoutMs),
    });
    status = response.status;
    body = await response.text();
  } catch (err) {
    if (err instanceof Error && err.name === 'TimeoutError') {
      throw new RequestError('AUTH_UNAVAILABLE', `the auth backend did not answer within ${auth.timeoutMs} ms`);
    }
    throw new RequestError('AUTH_UNAVAILABLE', 'cannot reach the auth backend');
  }
  if (status === 401 || status === 403) throw new RequestError('UNAUTHORIZED', `the site rejected the token (HTTP ${status})`);
  if (status < 200 || status > 299) throw new RequestError('AUTH_UNAVAILABLE', `the auth backend answered HTTP ${status}`);
  let rooms: unknown;
  try {
    rooms = JSON.parse(body);
  } catch {
    throw new RequestError('AUTH_UNAVAILABLE', 'the auth backend did not answer JSON');
  }
  if (!isRoomList(rooms)) {
    throw new RequestError(
      'AUTH_UNAVAILABLE',
      `the auth backend must answer a JSON array of at most ${limits.maxRoomsPerSocket} room names of 1 to ${limits.maxIdLength} characters`,
    );
  }
  return rooms;
}
