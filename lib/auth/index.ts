import type { AuthConfig } from '../config/access.js';
import type { ServiceContext } from '../core/context.js';
import { joinRooms, leaveRoom } from '../core/rooms.js';
import { budgeted } from './budget.js';
import { credentialsAuth } from './credentials.js';
import { jwtAuth } from './jwt.js';
import { tokenUrlAuth } from './token-url.js';
import type { AuthMiddleware, JoinRooms, LeaveRooms } from './types.js';

/**
 * The handshake middleware of an auth mode, or undefined for mode none. Rooms an auth backend grants are
 * joined like rooms a client joins (same adapter rooms, same join and leave hooks). Every mode sits behind the
 * failed-auth budget (lib/auth/budget.ts). `refreshable`: whether
 * a jwt socket may send `AUTH` to replace its token (the built-in namespaces answer AUTH as unknown).
 */
export function authMiddleware(auth: AuthConfig, context: ServiceContext, refreshable: boolean): AuthMiddleware | undefined {
  const middleware = modeMiddleware(auth, context, refreshable);
  return middleware && logRefusals(budgeted(middleware, context.authFailures), context);
}

/**
 * One line per refused handshake, with the client's address (behind `--trust-proxy`, the forwarded one)
 * and the code: `info`, as an operator looks for who failed to log in; `debug` for `RATE_LIMITED`, which an
 * attacker repeats as fast as it can (the budget's own hit is logged once, by lib/runtime/connection-logs.ts).
 */
function logRefusals(middleware: AuthMiddleware, context: ServiceContext): AuthMiddleware {
  const { log } = context;
  return (socket, next) =>
    middleware(socket, (err) => {
      if (err) {
        const code = (err.data as { code?: unknown } | undefined)?.code;
        const fields = { socketId: socket.id, address: context.clientAddress(socket), code };
        if (code === 'RATE_LIMITED') log.debug(fields, `handshake refused: ${err.message}`);
        else log.info(fields, `handshake refused: ${err.message}`);
      }
      next(err);
    });
}

function modeMiddleware(auth: AuthConfig, context: ServiceContext, refreshable: boolean): AuthMiddleware | undefined {
  const { log, hooks } = context;
  const joinGrantedRooms: JoinRooms = (socket, rooms) => joinRooms(hooks, socket, rooms);
  const leaveGrantedRooms: LeaveRooms = (socket, rooms) => {
    for (const room of rooms) leaveRoom(hooks, socket, room);
  };
  switch (auth.mode) {
    case 'none':
      return undefined;
    case 'token-url':
      return tokenUrlAuth(auth, context, joinGrantedRooms);
    case 'jwt':
      return jwtAuth(auth, context, joinGrantedRooms, leaveGrantedRooms, refreshable);
    case 'credentials':
      return credentialsAuth(auth, log);
  }
}
