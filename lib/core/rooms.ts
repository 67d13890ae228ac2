import type { Socket } from 'socket.io';
import { RequestError } from './errors.js';

/**
 * Socket.IO puts every socket in a room named after its id, so a client-chosen room name could
 * otherwise address another socket directly. Client rooms live under this prefix, which no socket
 * id (base64url) can contain.
 */
const ROOM_PREFIX = 'room:';

/** The adapter room that holds the members of client room `room`. */
export function roomKey(room: string): string {
  return ROOM_PREFIX + room;
}

/**
 * Throws `LIMIT` if joining `key` would put `socket` in more than `maxRooms` rooms. Re-joining a room it
 * is already in never fails. The socket's own id room is not counted.
 */
export function assertRoomCapacity(socket: Socket, key: string, maxRooms: number): void {
  if (socket.rooms.has(key)) return;
  if (socket.rooms.size - 1 >= maxRooms) {
    throw new RequestError('LIMIT', `a socket may be in at most ${maxRooms} rooms; leave one first`);
  }
}

/** Publishes to a layout-protocol namespace from outside Socket.IO (`POST /bus-message` to `/bus`). */
export interface RoomPublisher {
  /** Sends `EVENT {sender, room, message}` to every socket in client room `room`. */
  publish(room: string, sender: string, message: unknown): void;
}
