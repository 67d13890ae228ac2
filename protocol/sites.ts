/**
 * Sites (`/<site>` namespaces, from the sites file) and the auth modes: what a handshake carries, the rooms
 * an auth backend grants, the `AUTH` token refresh of jwt sites, and the `POST /send` push API through which
 * a site's backend reaches its clients. A site namespace serves no other request: its events are the site's
 * own, pushed by its backend.
 */
import Type, { type Static } from 'typebox';
import {
  AckSuccessSchema,
  DEFAULT_LIMITS,
  eventNames,
  Identifier,
  type AckCallback,
  type ErrorEvent,
  type ProtocolLimits,
  type RoomListLimits,
  type Wire,
} from './common.js';
import type { PresenceEvent } from './presence.js';

/**
 * The rooms an auth backend grants a socket: token-url's JSON answer, jwt's rooms claim. At most
 * `maxRoomsPerSocket` room ids; a longer list fails the handshake rather than being cut.
 */
export function grantedRoomsSchema(limits: RoomListLimits) {
  return Type.Array(Identifier(limits), { maxItems: limits.maxRoomsPerSocket });
}

/** Handshake fields of the token modes (token-url, jwt), in `auth` or (legacy clients) the query. */
export interface TokenHandshake {
  token?: string;
}

/**
 * Schema of a site socket's device fields, in `auth` (v4 clients) or the query (every client, as in the
 * original). Read on sites with a `userRoomPrefix` only: a socket with a `deviceId` and a user gets reliable
 * delivery (pending messages queued per device, acked by the client); one without stays at most once.
 * `messageIds: true` (the query's `messageIds=true`) asks for each message's {@link MessageMeta} before the
 * ack callback; without it the arguments are exactly the seed service's.
 */
export function DeviceHandshakeSchema(limits: ProtocolLimits = DEFAULT_LIMITS) {
  return Type.Object({
    deviceId: Type.Optional(Identifier(limits)),
    messageIds: Type.Optional(Type.Boolean()),
  });
}

/** `{ deviceId?, messageIds? }`: the device a socket speaks for, and whether it wants message ids. */
export type DeviceHandshake = Static<ReturnType<typeof DeviceHandshakeSchema>>;

/** Schema of `_settings`, sent to every socket of a site with a `userRoomPrefix` right after it connects. */
export const SettingsSchema = Type.Object({
  /** Seconds a device may stay away before its pending messages are dropped; `0`: never. */
  device_ttl: Type.Integer({ minimum: 0 }),
});

/** `_settings { device_ttl }`. */
export type Settings = Static<typeof SettingsSchema>;

/**
 * Schema of the meta object a `messageIds` socket receives after a reliable message's arguments (and at
 * the end of each `_batch` entry): the message's id, the same on every device one push reached, so that a
 * client drops a message it already applied (delivery is at least once).
 */
export const MessageMetaSchema = Type.Object({ _id: Type.String({ minLength: 1, maxLength: 64 }) });

/** `{ _id }`: a reliable message's stable id. */
export type MessageMeta = Static<typeof MessageMetaSchema>;

/**
 * Schema of one `_batch` entry: `[event, ...args]`, with the {@link MessageMeta} last for `messageIds`
 * sockets. TypeBox has no "string, then anything" tuple: the first item is checked to be the event name.
 */
export const BatchEntrySchema = Type.Array(Type.Unknown(), { minItems: 1, prefixItems: [Type.String({ minLength: 1 })] });

/** `[event, ...args]` (or `[event, ...args, { _id }]`). */
export type BatchEntry = [event: string, ...args: unknown[]];

/** Schema of `_batch`'s first argument: the device's pending messages, oldest first. */
export const BatchSchema = Type.Array(BatchEntrySchema);

/** The acknowledgement of a reliable message or of a whole `_batch`: call it once the client has applied them. */
export type DeliveryAck = () => void;

/** Handshake fields of mode credentials, in `auth` only (never the query, which proxies log). */
export interface CredentialsHandshake {
  username: string;
  password: string;
}

/** Schema of `AUTH { token }` (or `AUTH token`): a fresh token for the same user. */
export const AuthRefreshSchema = Type.Object({ token: Type.String({ minLength: 1 }) });

/** `AUTH { token }`: replaces the socket's token; the socket's rooms follow the fresh token's claim. */
export type AuthRefresh = Static<typeof AuthRefreshSchema>;

/** Schema of the `AUTH` ack's result. */
export const AuthRefreshResultSchema = Type.Object({
  /** When the fresh token expires (ISO 8601), or null for a token without `exp`. */
  expiresAt: Type.Union([Type.String(), Type.Null()]),
});

/** The `AUTH` ack's result: `{ ok: true, expiresAt }`. */
export type AuthRefreshResult = Static<typeof AuthRefreshResultSchema>;

/**
 * Events a site client may emit. Only jwt sites answer `AUTH`; elsewhere every event is unknown (an ack gets
 * `BAD_REQUEST`), since the client talks to its site's backend, not to this service.
 */
export interface SiteClientToServerEvents {
  AUTH: (request: Wire<AuthRefresh>, ack: AckCallback<AuthRefreshResult>) => void;
}

/**
 * Events every site client may receive from the service itself. The site's own events come from its backend
 * through `POST /send`; type them next to these: `Socket<SiteServerToClientEvents & MyEvents, …>`.
 */
export interface SiteServerToClientEvents {
  /** A failed `AUTH` without an ack, and on a jwt site the token's expiry, just before the disconnect. */
  ERROR: (event: ErrorEvent) => void;
  /** Sites with a `userRoomPrefix`: right after the connect, to every socket. */
  _settings: (settings: Settings) => void;
  /** A device socket's pending messages, oldest first, right after `_settings`; one ack removes exactly these. */
  _batch: (entries: BatchEntry[], ack: DeliveryAck) => void;
  /** The device's queue was cleared (a `resync` push acked out of order, or its queue overflowed): resync in full. */
  _resync: () => void;
  /** Sites with `presence: true`: another socket joined one of this socket's rooms, or left it. */
  PRESENCE: (event: PresenceEvent) => void;
}

/** The event names of a site namespace in each direction, as values (the maps above are types only). */
export const SiteEvents = {
  clientToServer: eventNames<SiteClientToServerEvents>()(['AUTH']),
  serverToClient: eventNames<SiteServerToClientEvents>()(['ERROR', '_settings', '_batch', '_resync', 'PRESENCE']),
} as const;

/**
 * Schema of the `POST /send?site=<site>` body: emit `event` with `args` to every socket of the site in any of
 * `rooms`. The event is checked further by the server: `ERROR`, names starting with `_`, Socket.IO's own and
 * those socket.io-client 1.x/2.x handle themselves (`error`, `reconnect`, `ping`, …) are refused.
 */
export function pushRequestSchema(limits: RoomListLimits) {
  return Type.Object({
    rooms: Type.Array(Identifier(limits), { minItems: 1, maxItems: limits.maxRoomsPerSocket }),
    event: Type.String({ minLength: 1, maxLength: limits.maxIdLength }),
    args: Type.Optional(Type.Array(Type.Unknown())),
    /** Reliable delivery: an ack of this message out of order (for its event) clears the device's queue and sends `_resync`. */
    resync: Type.Optional(Type.Boolean()),
  });
}

/**
 * Schema of `POST /send`'s query besides `site` and `apiKey`: `resync=true|false` (also `1|0`), the seed
 * service's form of the body's `resync`. Anything else is `BAD_REQUEST`: the seed took `resync=false` for true.
 */
export const PushQuerySchema = Type.Object({
  resync: Type.Optional(Type.Union([Type.Literal('true'), Type.Literal('false'), Type.Literal('1'), Type.Literal('0')])),
});

/** `{ resync? }` of the push query. */
export type PushQuery = Static<typeof PushQuerySchema>;

/** `{ rooms, event, args? }`: the body of a push. */
export type PushRequest = Static<ReturnType<typeof pushRequestSchema>>;

/** Schema of a push's answer: how many sockets it reached (a socket in several of the rooms counts once). */
export const PushResultSchema = AckSuccessSchema(
  Type.Object({
    delivered: Type.Integer({ minimum: 0 }),
    partial: Type.Optional(Type.Literal(true)),
    /** Sites with a `userRoomPrefix`: how many devices the message was queued for (reliable delivery). */
    queued: Type.Optional(Type.Integer({ minimum: 0 })),
    /** Sites with a `userRoomPrefix`, when queued for some device: the message's id, as its clients see it (`_id`). */
    id: Type.Optional(Type.String()),
  }),
);

/**
 * `{ ok: true, delivered }`: how many sockets the push reached, counted on every node; with `partial: true`
 * when some node did not answer within `--cluster-timeout` (its sockets were sent the push but not counted).
 */
export type PushResult = Static<typeof PushResultSchema>;
