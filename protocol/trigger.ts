/**
 * `/trigger`: a room broadcast channel used by timeline services. Data is relayed untouched to the
 * other members of the room.
 */
import Type, { type Static } from 'typebox';
import { DEFAULT_LIMITS, eventNames, Identifier, type AckCallback, type ErrorEvent, type ProtocolLimits, type Wire } from './common.js';

/** Builds the client-to-server request schemas for the given limits. */
export function triggerRequestSchemas(limits: ProtocolLimits = DEFAULT_LIMITS) {
  return {
    /**
     * The room of every request: JOIN and LEAVE take it alone, the broadcasts as their first argument. A bare
     * room id (or a JSON string of one) and `{ room }` both normalise to this object.
     */
    ROOM: Type.Object({ room: Identifier(limits) }),
  };
}

/** The request schemas with the default limits. */
export const TriggerRequestSchemas = triggerRequestSchemas();

/** `{ room }`: the object form of a `/trigger` room argument (a bare room id string is accepted too). */
export type TriggerRoomRef = Static<typeof TriggerRequestSchemas.ROOM>;

/** The three broadcast requests and the event each one produces at the other members. */
export const TriggerBroadcasts = {
  BROADCAST_EVENTS: 'EVENTS',
  BROADCAST_UPDATES: 'UPDATES',
  BROADCAST_STATUS: 'STATUS',
} as const;

/** `BROADCAST_EVENTS`, `BROADCAST_UPDATES` or `BROADCAST_STATUS`. */
export type TriggerBroadcastRequest = keyof typeof TriggerBroadcasts;

/** Events a `/trigger` client may emit. A room is a bare string (a JSON string of one, or `{ room }`, works too). */
export interface TriggerClientToServerEvents {
  JOIN: (room: Wire<TriggerRoomRef>, ack: AckCallback) => void;
  LEAVE: (room: Wire<TriggerRoomRef>, ack: AckCallback) => void;
  BROADCAST_EVENTS: (room: Wire<TriggerRoomRef>, data: unknown, ack: AckCallback) => void;
  BROADCAST_UPDATES: (room: Wire<TriggerRoomRef>, data: unknown, ack: AckCallback) => void;
  BROADCAST_STATUS: (room: Wire<TriggerRoomRef>, data: unknown, ack: AckCallback) => void;
}

/** Events a `/trigger` client receives: the `data` of another member's broadcast, unchanged. */
export interface TriggerServerToClientEvents {
  EVENTS: (data: unknown) => void;
  UPDATES: (data: unknown) => void;
  STATUS: (data: unknown) => void;
  ERROR: (event: ErrorEvent) => void;
}

/** The event names of `/trigger` in each direction, as values (the maps above are types only). */
export const TriggerEvents = {
  clientToServer: eventNames<TriggerClientToServerEvents>()(['JOIN', 'LEAVE', 'BROADCAST_EVENTS', 'BROADCAST_UPDATES', 'BROADCAST_STATUS']),
  serverToClient: eventNames<TriggerServerToClientEvents>()(['EVENTS', 'UPDATES', 'STATUS', 'ERROR']),
} as const;
