import type { Socket } from 'socket.io';
import { RequestError } from './errors.js';
import type { Cluster } from '../cluster/types.js';
import type { HookDispatcher } from './hooks.js';

/**
 * Socket.IO puts every socket in a room named after its id, so a client-chosen room name could
 * otherwise address another socket directly. Client rooms live under this prefix, which no socket
 * id (base64url) can contain.
 */
export const ROOM_PREFIX = 'room:';

/** The adapter room that holds the members of client room `room`. */
export function roomKey(room: string): string {
  return ROOM_PREFIX + room;
}

/** The client room of adapter room `key`, or undefined for an adapter room that is none (a socket's id room). */
export function clientRoomOf(key: string): string | undefined {
  return key.startsWith(ROOM_PREFIX) ? key.slice(ROOM_PREFIX.length) : undefined;
}

/** Joins client room `room`, telling the join hook first (a subscriber sees whether it is a first join). */
export function joinRoom(hooks: HookDispatcher, socket: Socket, room: string): void {
  const key = roomKey(room);
  hooks.joining(socket, room, key);
  void socket.join(key);
}

/** Joins several client rooms at once (the rooms an auth backend grants). */
export function joinRooms(hooks: HookDispatcher, socket: Socket, rooms: readonly string[]): void {
  const keys = rooms.map(roomKey);
  rooms.forEach((room, i) => hooks.joining(socket, room, keys[i] ?? roomKey(room)));
  void socket.join(keys);
}

/** Leaves client room `room`, then tells the leave hook. */
export function leaveRoom(hooks: HookDispatcher, socket: Socket, room: string): void {
  const key = roomKey(room);
  void socket.leave(key);
  hooks.left(socket, room, key);
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
  /**
   * Sends `EVENT {sender, room, message}` to every socket in client room `room`; throws a RequestError
   * (`UNAVAILABLE`) when the broadcast would not reach the other nodes.
   */
  publish(room: string, sender: string, message: unknown): void;
}

/**
 * Throws `UNAVAILABLE` when a broadcast made now would not reach the other nodes (Redis unreachable and the
 * outage buffer full: lib/cluster/stream-outbox.ts). Called before anything is delivered, so that a refused
 * request had no effect and an acked one is not dropped.
 */
export function assertBroadcastable(cluster: Pick<Cluster, 'canBroadcast'>): void {
  if (!cluster.canBroadcast()) {
    throw new RequestError('UNAVAILABLE', "Redis is unreachable and this node's outage buffer is full: nothing was sent; retry later");
  }
}
