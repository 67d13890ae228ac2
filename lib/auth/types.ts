/** The types every auth mode shares: the middleware's shape, the room callbacks, the limits. */
import type { ExtendedError, Socket } from 'socket.io';
import type { ServiceLimits } from '../core/types.js';

/** A Socket.IO namespace middleware. */
export type AuthMiddleware = (socket: Socket, next: (err?: ExtendedError) => void) => void;

/** Limits the rooms an auth backend returns are held to, the same as rooms joined by a client. */
export type AuthLimits = Pick<ServiceLimits, 'maxIdLength' | 'maxRoomsPerSocket'>;

/** Joins the rooms of an authenticated socket: the caller decides how room names map to adapter rooms. */
export type JoinRooms = (socket: Socket, rooms: readonly string[]) => void;

/** Leaves rooms an earlier token granted and a fresh one no longer does. */
export type LeaveRooms = (socket: Socket, rooms: readonly string[]) => void;
