/**
 * `/trigger`: a room broadcast channel used by timeline services. Data is relayed untouched to the
 * other members of the room.
 */
import type { AckCallback, ErrorEvent } from './common.js';

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
  JOIN: (room: string, ack: AckCallback) => void;
  LEAVE: (room: string, ack: AckCallback) => void;
  BROADCAST_EVENTS: (room: string, data: unknown, ack: AckCallback) => void;
  BROADCAST_UPDATES: (room: string, data: unknown, ack: AckCallback) => void;
  BROADCAST_STATUS: (room: string, data: unknown, ack: AckCallback) => void;
}

/** Events a `/trigger` client receives: the `data` of another member's broadcast, unchanged. */
export interface TriggerServerToClientEvents {
  EVENTS: (data: unknown) => void;
  UPDATES: (data: unknown) => void;
  STATUS: (data: unknown) => void;
  ERROR: (event: ErrorEvent) => void;
}
