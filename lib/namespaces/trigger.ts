import {
  TriggerBroadcasts,
  triggerRequestSchemas,
  type TriggerClientToServerEvents,
  type TriggerServerToClientEvents,
} from '../../protocol/index.js';
import { requireArgs, type RequestHandler } from '../core/reply.js';
import type { ServiceContext } from '../core/context.js';
import { assertBroadcastable, assertRoomCapacity, joinRoom, leaveRoom, roomKey } from '../core/rooms.js';
import { compileValidator, idOrObjectPayload } from '../core/validate.js';
import { serveRequests, type ProtocolNamespace, type ProtocolSocket } from './serve.js';

/** The server's typed `/trigger` namespace. */
export type TriggerNamespace = ProtocolNamespace<TriggerClientToServerEvents, TriggerServerToClientEvents>;
type TriggerSocket = ProtocolSocket<TriggerClientToServerEvents, TriggerServerToClientEvents>;

/**
 * Mounts the `/trigger` protocol on `nsp`: JOIN/LEAVE a room, and BROADCAST_EVENTS / _UPDATES / _STATUS
 * `(room, data)` that relay `data` unchanged to the other members as EVENTS / UPDATES / STATUS.
 */
export function mountTrigger(nsp: TriggerNamespace, context: ServiceContext): void {
  const { limits, hooks } = context;
  const validateRoom = compileValidator(triggerRequestSchemas(limits).ROOM);
  const roomOf = (payload: unknown): string => validateRoom(idOrObjectPayload(payload, 'room')).room;

  const broadcast = (event: (typeof TriggerBroadcasts)[keyof typeof TriggerBroadcasts]): RequestHandler<TriggerSocket> =>
    function relay(socket, args) {
      requireArgs(args, 1, 'room');
      const room = roomOf(args[0]);
      requireArgs(args, 2, 'data');
      assertBroadcastable(context.cluster);
      socket.to(roomKey(room)).emit(event, args[1]);
    };

  const handlers: Record<keyof TriggerClientToServerEvents, RequestHandler<TriggerSocket>> = {
    JOIN(socket, args) {
      requireArgs(args, 1, 'room');
      const room = roomOf(args[0]);
      assertRoomCapacity(socket, roomKey(room), limits.maxRoomsPerSocket);
      joinRoom(hooks, socket, room);
    },
    LEAVE(socket, args) {
      requireArgs(args, 1, 'room');
      leaveRoom(hooks, socket, roomOf(args[0]));
    },
    BROADCAST_EVENTS: broadcast(TriggerBroadcasts.BROADCAST_EVENTS),
    BROADCAST_UPDATES: broadcast(TriggerBroadcasts.BROADCAST_UPDATES),
    BROADCAST_STATUS: broadcast(TriggerBroadcasts.BROADCAST_STATUS),
  };

  serveRequests(nsp, handlers, context);
}
