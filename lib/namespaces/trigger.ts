import type { Logger } from 'pino';
import type { Namespace, Socket } from 'socket.io';
import Type from 'typebox';
import {
  Identifier,
  TriggerBroadcasts,
  type ProtocolLimits,
  type TriggerClientToServerEvents,
  type TriggerServerToClientEvents,
} from '../../protocol/index.js';
import { requestListener, requireArgs, unknownEventListener, type RequestHandler } from '../reply.js';
import { assertRoomCapacity, roomKey, type Untrusted } from '../rooms.js';
import { compileValidator, idOrObjectPayload } from '../validate.js';

/** The server's typed `/trigger` namespace. */
export type TriggerNamespace = Namespace<Untrusted<TriggerClientToServerEvents>, TriggerServerToClientEvents>;
type TriggerSocket = Socket<Untrusted<TriggerClientToServerEvents>, TriggerServerToClientEvents>;

/** What the trigger handlers need from the service configuration. */
export interface TriggerConfig extends ProtocolLimits {
  readonly maxRoomsPerSocket: number;
}

/**
 * Mounts the `/trigger` protocol on `nsp`: JOIN/LEAVE a room, and BROADCAST_EVENTS / _UPDATES / _STATUS
 * `(room, data)` that relay `data` unchanged to the other members as EVENTS / UPDATES / STATUS.
 */
export function mountTrigger(nsp: TriggerNamespace, config: TriggerConfig, log: Logger): void {
  const validateRoom = compileValidator(Type.Object({ room: Identifier(config) }));
  const roomOf = (payload: unknown): string => validateRoom(idOrObjectPayload(payload, 'room')).room;

  const broadcast = (event: (typeof TriggerBroadcasts)[keyof typeof TriggerBroadcasts]): RequestHandler<TriggerSocket> =>
    function relay(socket, args) {
      requireArgs(args, 1, 'room');
      const room = roomOf(args[0]);
      requireArgs(args, 2, 'data');
      socket.to(roomKey(room)).emit(event, args[1]);
    };

  const handlers: Record<keyof TriggerClientToServerEvents, RequestHandler<TriggerSocket>> = {
    JOIN(socket, args) {
      requireArgs(args, 1, 'room');
      const key = roomKey(roomOf(args[0]));
      assertRoomCapacity(socket, key, config.maxRoomsPerSocket);
      void socket.join(key);
    },
    LEAVE(socket, args) {
      requireArgs(args, 1, 'room');
      void socket.leave(roomKey(roomOf(args[0])));
    },
    BROADCAST_EVENTS: broadcast(TriggerBroadcasts.BROADCAST_EVENTS),
    BROADCAST_UPDATES: broadcast(TriggerBroadcasts.BROADCAST_UPDATES),
    BROADCAST_STATUS: broadcast(TriggerBroadcasts.BROADCAST_STATUS),
  };

  const listeners = Object.entries(handlers).map(
    ([event, handler]) => [event, requestListener(event, handler, log)] as const,
  );
  const onUnknown = unknownEventListener<TriggerSocket>(new Set(Object.keys(handlers)), log);

  nsp.on('connection', (socket) => {
    for (const [event, listener] of listeners) socket.on(event as keyof TriggerClientToServerEvents, listener);
    socket.onAny(onUnknown);
  });
}
