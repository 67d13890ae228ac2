import type { Logger } from 'pino';
import type { AuthConfig } from '../config/access.js';
import { roomKey } from '../core/rooms.js';
import { credentialsAuth } from './credentials.js';
import { jwtAuth } from './jwt.js';
import { tokenUrlAuth } from './token-url.js';
import type { AuthLimits, AuthMiddleware, JoinRooms, LeaveRooms } from './types.js';

/** Rooms granted by an auth backend are adapter rooms under the same prefix as rooms clients join. */
const joinGrantedRooms: JoinRooms = (socket, rooms) => {
  void socket.join(rooms.map(roomKey));
};

const leaveGrantedRooms: LeaveRooms = (socket, rooms) => {
  for (const room of rooms) void socket.leave(roomKey(room));
};

/** The handshake middleware of an auth mode, or undefined for mode none. */
export function authMiddleware(auth: AuthConfig, limits: AuthLimits, log: Logger, refreshable: boolean): AuthMiddleware | undefined {
  switch (auth.mode) {
    case 'none':
      return undefined;
    case 'token-url':
      return tokenUrlAuth(auth, limits, joinGrantedRooms, log);
    case 'jwt':
      return jwtAuth(auth, limits, joinGrantedRooms, leaveGrantedRooms, log, refreshable);
    case 'credentials':
      return credentialsAuth(auth, log);
  }
}
