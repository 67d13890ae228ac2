import { Compile } from 'typebox/compile';
import { grantedRoomsSchema } from '../../protocol/index.js';
import type { AuthConfig } from '../config/access.js';
import type { ServiceContext } from '../core/context.js';
import { RequestError } from '../core/errors.js';
import { setIdentity } from './identity.js';
import { authError, handshakeToken } from './handshake.js';
import { TokenBackend } from './token-backend.js';
import type { AuthLimits, AuthMiddleware, JoinRooms } from './types.js';

/**
 * Mode token-url: the service asks the site's `url` with `Authorization: <scheme> <token>` and joins the JSON
 * array of room names it answers. The request has a deadline, so a slow backend fails the handshake with
 * `AUTH_UNAVAILABLE` instead of holding the connection open; a 401/403 is `UNAUTHORIZED`. The backend is
 * called through a keep-alive pool with a cap on connections, its redirects are refused and its answer's
 * size is capped (lib/auth/token-backend.ts).
 */
export function tokenUrlAuth(auth: Extract<AuthConfig, { mode: 'token-url' }>, context: ServiceContext, join: JoinRooms): AuthMiddleware {
  const { limits, log } = context;
  const checkRooms = Compile(grantedRoomsSchema(limits));
  const backend = new TokenBackend(auth);
  context.onClose(() => backend.close());
  return (socket, next) => {
    const token = handshakeToken(socket);
    if (token === undefined) {
      next(authError(new RequestError('UNAUTHORIZED', 'a token is required: connect with ?token=… or auth: { token }')));
      return;
    }
    fetchRooms(backend, token, checkRooms.Check.bind(checkRooms), limits).then(
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
  backend: TokenBackend,
  token: string,
  isRoomList: (value: unknown) => value is string[],
  limits: AuthLimits,
): Promise<string[]> {
  const { status, body } = await backend.ask(token);
  if (status === 401 || status === 403) throw new RequestError('UNAUTHORIZED', `the site rejected the token (HTTP ${status})`);
  if (status >= 300 && status <= 399) {
    throw new RequestError('AUTH_UNAVAILABLE', `the auth backend answered HTTP ${status}: redirects are not followed`);
  }
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
