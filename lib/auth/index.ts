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
  return middleware && budgeted(middleware, context.authFailures);
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
