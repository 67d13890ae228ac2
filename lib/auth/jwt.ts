import type * as JoseModule from 'jose';
import type { JWTPayload } from 'jose';
import type { Socket } from 'socket.io';
import { Compile } from 'typebox/compile';
import { AuthRefreshSchema, grantedRoomsSchema, type AuthRefreshResult, type SiteClientToServerEvents } from '../../protocol/index.js';
import type { AuthConfig } from '../config/access.js';
import type { ServiceContext } from '../core/context.js';
import { RequestError } from '../core/errors.js';
import { requestListener } from '../core/reply.js';
import { idOrObjectPayload } from '../core/validate.js';
import { setIdentity } from './identity.js';
import { authError, handshakeToken } from './handshake.js';
import type { AuthMiddleware, JoinRooms, LeaveRooms } from './types.js';

type JwtAuth = Extract<AuthConfig, { mode: 'jwt' }>;

/** The client event that replaces a socket's token before it expires: `AUTH { token }` or `AUTH token`. */
export const REFRESH_EVENT = 'AUTH' satisfies keyof SiteClientToServerEvents;

/** Longest delay `setTimeout` takes (about 24.8 days); later expiries are re-armed in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** What a verified token grants. */
interface Grant {
  readonly rooms: readonly string[];
  readonly user: string | undefined;
  /** Seconds since the epoch, or undefined for a token without `exp`. */
  readonly exp: number | undefined;
}

/** Per-socket state of a jwt namespace: what the current token granted, and its expiry timer. */
interface Session {
  grant: Grant;
  timer: NodeJS.Timeout | undefined;
}

type Jose = typeof JoseModule;
let joseModule: Promise<Jose> | undefined;
/**
 * `jose`, imported on the first token to verify: some 46 modules that a service without a jwt site never
 * needs at start-up; the first handshake of a jwt site pays for it once.
 */
const loadJose = (): Promise<Jose> => (joseModule ??= import('jose'));

/**
 * Mode jwt: the handshake token is verified locally (HS256, RS256 or ES256, with `jose`); the rooms and the
 * user id come from its claims. A token with `exp` disconnects the socket when it expires, after an
 * `ERROR { event: "AUTH", code: "UNAUTHORIZED" }` saying so, unless the client sends `AUTH { token }` with a
 * fresh token for the same user first (acked `{ ok: true, expiresAt }`). `refreshable` is false on the
 * built-in namespaces, whose own handlers answer every event they do not know (AUTH included) as unknown.
 * AUTH is answered through the reply path of lib/core/reply.ts, like any request: the inbound-event chain
 * runs first, and the ack or `ERROR` is the same as for every other request.
 */
export function jwtAuth(auth: JwtAuth, context: ServiceContext, join: JoinRooms, leave: LeaveRooms, refreshable: boolean): AuthMiddleware {
  const { limits, log, authFailures } = context;
  const checkRooms = Compile(grantedRoomsSchema(limits));
  const checkRefresh = Compile(AuthRefreshSchema);
  const options = { algorithms: [...auth.algorithms], issuer: auth.issuer, audience: auth.audience };

  const verify = async (token: string): Promise<Grant> => {
    const jose = await loadJose();
    const { errors } = jose;
    let payload: JWTPayload;
    try {
      ({ payload } = await jose.jwtVerify(token, ({ alg }: { alg: string }) => keyFor(jose, auth, alg), options));
    } catch (err) {
      if (err instanceof errors.JWTExpired) throw new RequestError('UNAUTHORIZED', 'the token has expired');
      if (err instanceof errors.JOSEError) throw new RequestError('UNAUTHORIZED', `invalid token (${err.code}): ${err.message}`);
      throw err;
    }
    const rooms = payload[auth.roomsClaim] ?? [];
    if (!checkRooms.Check(rooms)) {
      throw new RequestError('UNAUTHORIZED', `claim ${auth.roomsClaim} must be an array of at most ${limits.maxRoomsPerSocket} room names`);
    }
    const user = payload[auth.userClaim];
    return { rooms, user: typeof user === 'string' ? user : undefined, exp: payload.exp };
  };

  const expire = (socket: Socket): void => {
    // Not a reply to a request, so not through lib/core/reply.ts: the errors metric is told here.
    context.hooks.failed(socket, 'UNAUTHORIZED');
    socket.emit('ERROR', {
      event: REFRESH_EVENT,
      code: 'UNAUTHORIZED',
      message: 'the token has expired: send AUTH with a fresh token before it does, or reconnect',
    });
    log.debug({ socketId: socket.id }, 'token expired: disconnecting');
    socket.disconnect();
  };

  const arm = (socket: Socket, session: Session): void => {
    clearTimeout(session.timer);
    session.timer = undefined;
    const { exp } = session.grant;
    if (exp === undefined) return;
    const delay = exp * 1000 - Date.now();
    session.timer = setTimeout(
      () => (delay > MAX_TIMER_MS ? arm(socket, session) : expire(socket)),
      Math.min(Math.max(delay, 0), MAX_TIMER_MS),
    );
    session.timer.unref();
  };

  const refresh = async (socket: Socket, session: Session, payload: unknown): Promise<AuthRefreshResult> => {
    const body = idOrObjectPayload(payload, 'token');
    // One message for every malformed AUTH: the client needs to learn the form, not which check failed.
    if (!checkRefresh.Check(body)) throw new RequestError('BAD_REQUEST', 'token is required: AUTH { token }');
    // A refresh verifies a token like a handshake does: behind the same failed-auth budget.
    const refusal = await authFailures.admitSocket(socket);
    if (refusal) throw new RequestError(refusal.code, refusal.message);
    let grant: Grant;
    try {
      grant = await verify(body.token);
    } catch (err) {
      if (!(err instanceof RequestError && err.code === 'UNAUTHORIZED')) authFailures.refundSocket(socket);
      throw err;
    }
    if (grant.user !== session.grant.user) throw new RequestError('UNAUTHORIZED', 'the token is for another user');
    authFailures.refundSocket(socket);
    leave(
      socket,
      session.grant.rooms.filter((room) => !grant.rooms.includes(room)),
    );
    join(socket, grant.rooms);
    session.grant = grant;
    arm(socket, session);
    return { expiresAt: grant.exp === undefined ? null : new Date(grant.exp * 1000).toISOString() };
  };

  // Sessions by socket, so that one AUTH listener serves every socket of the namespace.
  const sessions = new WeakMap<Socket, Session>();
  const onRefresh = requestListener<Socket>(
    REFRESH_EVENT,
    (socket, args) => {
      const session = sessions.get(socket);
      if (!session) throw new Error('AUTH from a socket without a jwt session');
      return refresh(socket, session, args[0]);
    },
    context,
  );

  return (socket, next) => {
    const token = handshakeToken(socket);
    if (token === undefined) {
      next(authError(new RequestError('UNAUTHORIZED', 'a token is required: connect with auth: { token } or ?token=…')));
      return;
    }
    verify(token).then(
      (grant) => {
        join(socket, grant.rooms);
        setIdentity(socket, { user: grant.user, rooms: grant.rooms, authorization: `Bearer ${token}` });
        const session: Session = { grant, timer: undefined };
        arm(socket, session);
        socket.once('disconnect', () => clearTimeout(session.timer));
        if (refreshable) {
          sessions.set(socket, session);
          socket.on(REFRESH_EVENT, onRefresh);
        }
        next();
      },
      (err: unknown) => {
        if (err instanceof RequestError) {
          log.debug({ socketId: socket.id }, err.message);
          next(authError(err));
        } else {
          log.error({ socketId: socket.id, err }, 'token verification failed');
          next(authError(new RequestError('INTERNAL', 'internal error')));
        }
      },
    );
  };
}

function keyFor({ errors }: Jose, auth: JwtAuth, alg: string) {
  const key = alg === 'HS256' ? auth.hmacKey : auth.publicKey;
  // Unreachable: `algorithms` restricts alg, and the config requires the key of every listed algorithm.
  if (!key) throw new errors.JOSEAlgNotAllowed(`no key for ${alg}`);
  return key;
}
