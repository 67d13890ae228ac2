import {
  layoutRequestSchemas,
  type LayoutClients,
  type LayoutClientToServerEvents,
  type LayoutServerToClientEvents,
} from '../../protocol/index.js';
import type { JoinStamps } from '../cluster/types.js';
import type { ServiceContext } from '../core/context.js';
import { requireArgs, type RequestHandler } from '../core/reply.js';
import { assertBroadcastable, assertRoomCapacity, joinRoom, leaveRoom, roomKey, type RoomPublisher } from '../core/rooms.js';
import { compileValidator, parseWirePayload } from '../core/validate.js';
import { RoomPresence, type PresenceSocketData } from '../delivery/room-presence.js';
import { serveRequests, type ProtocolNamespace, type ProtocolSocket } from './serve.js';

/** Per-socket state on `/layout` and `/bus`: the display name from the last JOIN. */
export interface LayoutSocketData extends JoinStamps, PresenceSocketData {
  name?: string;
}

/** How {@link mountLayout} serves a namespace. */
export interface LayoutOptions {
  /** `PRESENCE` to the other members of a room on JOIN, LEAVE, a new name and disconnect (`--presence`). */
  readonly presence?: boolean;
}

/** The server's typed `/layout` (or `/bus`) namespace. */
export type LayoutNamespace = ProtocolNamespace<LayoutClientToServerEvents, LayoutServerToClientEvents, LayoutSocketData>;
type LayoutSocket = ProtocolSocket<LayoutClientToServerEvents, LayoutServerToClientEvents, LayoutSocketData>;

/** Display name used for senders that never JOINed with a name. */
const UNKNOWN_SENDER = 'unknown';

/**
 * Mounts the `/layout` protocol (JOIN, LEAVE, NOTIFY, CLIENTS → EVENT, and PRESENCE with `presence`) on
 * `nsp`. `/bus` mounts the same.
 */
export function mountLayout(nsp: LayoutNamespace, context: ServiceContext, options: LayoutOptions = {}): RoomPublisher {
  const { limits, hooks } = context;
  // Undefined when off: JOIN and LEAVE then test one variable, and NOTIFY nothing at all.
  const presence = options.presence === true ? new RoomPresence(nsp, context, undefined) : undefined;
  const { directory } = context.cluster;
  const schemas = layoutRequestSchemas(limits);
  const validate = {
    JOIN: compileValidator(schemas.JOIN),
    LEAVE: compileValidator(schemas.LEAVE),
    NOTIFY: compileValidator(schemas.NOTIFY),
    CLIENTS: compileValidator(schemas.CLIENTS),
  };

  const handlers: Record<keyof LayoutClientToServerEvents, RequestHandler<LayoutSocket>> = {
    JOIN(socket, args) {
      requireArgs(args, 1);
      const { room, name } = validate.JOIN(parseWirePayload(args[0]));
      const key = roomKey(room);
      assertRoomCapacity(socket, key, limits.maxRoomsPerSocket);
      const previous = socket.data.name;
      const member = socket.rooms.has(key);
      socket.data.name = name;
      joinRoom(hooks, socket, room);
      if (presence === undefined) return;
      if (!member) presence.joined(socket, room);
      // The name is the socket's, not the room's: every room it was already in hears the new one.
      if (previous !== name) presence.renamed(socket, member ? undefined : room);
    },
    LEAVE(socket, args) {
      requireArgs(args, 1);
      const { room } = validate.LEAVE(parseWirePayload(args[0]));
      const member = presence !== undefined && socket.rooms.has(roomKey(room));
      leaveRoom(hooks, socket, room);
      if (member) presence.left(socket, room);
    },
    NOTIFY(socket, args) {
      requireArgs(args, 1);
      const { room, message } = validate.NOTIFY(parseWirePayload(args[0]));
      assertBroadcastable(context.cluster);
      socket.to(roomKey(room)).emit('EVENT', { sender: socket.data.name ?? UNKNOWN_SENDER, room, message });
    },
    async CLIENTS(socket, args) {
      requireArgs(args, 1);
      const { room } = validate.CLIENTS(parseWirePayload(args[0]));
      const { members, complete } = await directory.members(nsp, roomKey(room));
      const clients: string[] = [];
      for (const member of members) if (member.data.name !== undefined) clients.push(member.data.name);
      // Some node did not answer in time: say so rather than pass the others' members off as the room.
      const answer: LayoutClients = complete ? { room, clients } : { room, clients, partial: true };
      socket.emit('CLIENTS', answer);
      return answer;
    },
  };

  serveRequests(nsp, handlers, context, presence && ((socket) => presence.watch(socket)));

  return {
    publish(room, sender, message) {
      assertBroadcastable(context.cluster);
      nsp.to(roomKey(room)).emit('EVENT', { sender, room, message });
    },
  };
}
