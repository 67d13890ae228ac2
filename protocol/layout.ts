/**
 * `/layout` and `/bus`: rooms with named members. `/bus` speaks exactly this protocol on its own rooms
 * and additionally receives HTTP-published messages (`sender: "POST"`).
 */
import Type, { type Static } from 'typebox';
import { DEFAULT_LIMITS, eventNames, Identifier, type AckCallback, type ErrorEvent, type ProtocolLimits, type Wire } from './common.js';
import type { PresenceEvent } from './presence.js';

/** Builds the client-to-server request schemas for the given limits. */
export function layoutRequestSchemas(limits: ProtocolLimits = DEFAULT_LIMITS) {
  const room = Identifier(limits);
  return {
    JOIN: Type.Object({ room, name: Identifier(limits) }),
    LEAVE: Type.Object({ room }),
    NOTIFY: Type.Object({ room, message: Type.Unknown() }),
    CLIENTS: Type.Object({ room }),
  };
}

/** The request schemas with the default limits. */
export const LayoutRequestSchemas = layoutRequestSchemas();

/** `JOIN {room, name}`: join `room` under display name `name`. */
export type LayoutJoin = Static<typeof LayoutRequestSchemas.JOIN>;
/** `LEAVE {room}`. */
export type LayoutLeave = Static<typeof LayoutRequestSchemas.LEAVE>;
/** `NOTIFY {room, message}`: `message` is any JSON value, delivered unchanged. */
export type LayoutNotify = Static<typeof LayoutRequestSchemas.NOTIFY>;
/** `CLIENTS {room}`: ask for the names of the room's current members. */
export type LayoutClientsRequest = Static<typeof LayoutRequestSchemas.CLIENTS>;

/**
 * Schema of the path parameters of `POST /bus-message/:room`, which publishes its JSON body to `room` on
 * `/bus` as `EVENT { sender: "POST", room, message: <body> }`. The room is held to the same rules as on the
 * sockets.
 */
export function busMessageParamsSchema(limits: ProtocolLimits = DEFAULT_LIMITS) {
  return Type.Object({ room: Identifier(limits) });
}

/** `{ room }`: the decoded path parameter of `POST /bus-message/:room`. */
export type BusMessageParams = Static<ReturnType<typeof busMessageParamsSchema>>;

/** Server-to-client event schemas. */
export const LayoutEventSchemas = {
  EVENT: Type.Object({ sender: Type.String(), room: Type.String(), message: Type.Unknown() }),
  CLIENTS: Type.Object({ room: Type.String(), clients: Type.Array(Type.String()), partial: Type.Optional(Type.Literal(true)) }),
};

/** `EVENT {sender, room, message}`: a NOTIFY (or, on `/bus`, an HTTP POST) from someone else. */
export type LayoutEvent = Static<typeof LayoutEventSchemas.EVENT>;
/**
 * `CLIENTS {room, clients}`: member names in join order; also the CLIENTS ack's result. `partial: true`
 * (absent otherwise) when some node of a cluster did not answer in time: `clients` lists the members on the
 * nodes that did, and may lack that node's. Ask again later for the full list.
 */
export type LayoutClients = Static<typeof LayoutEventSchemas.CLIENTS>;

/** Events a `/layout` or `/bus` client may emit, typed for `socket.io-client`'s `Socket<Listen, Emit>`. */
export interface LayoutClientToServerEvents {
  JOIN: (request: Wire<LayoutJoin>, ack: AckCallback) => void;
  LEAVE: (request: Wire<LayoutLeave>, ack: AckCallback) => void;
  NOTIFY: (request: Wire<LayoutNotify>, ack: AckCallback) => void;
  CLIENTS: (request: Wire<LayoutClientsRequest>, ack: AckCallback<LayoutClients>) => void;
}

/** Events a `/layout` or `/bus` client receives. */
export interface LayoutServerToClientEvents {
  EVENT: (event: LayoutEvent) => void;
  CLIENTS: (event: LayoutClients) => void;
  /** Only with `--presence` naming the namespace: another member joined, left or was renamed. */
  PRESENCE: (event: PresenceEvent) => void;
  ERROR: (event: ErrorEvent) => void;
}

/** The event names of `/layout` and `/bus` in each direction, as values (the maps above are types only). */
export const LayoutEvents = {
  clientToServer: eventNames<LayoutClientToServerEvents>()(['JOIN', 'LEAVE', 'NOTIFY', 'CLIENTS']),
  serverToClient: eventNames<LayoutServerToClientEvents>()(['EVENT', 'CLIENTS', 'PRESENCE', 'ERROR']),
} as const;
