/**
 * Sites (`/<site>` namespaces, from the sites file) and the auth modes: what a handshake carries, the rooms
 * an auth backend grants, the `AUTH` token refresh of jwt sites, and the `POST /send` push API through which
 * a site's backend reaches its clients. A site namespace serves no other request: its events are the site's
 * own, pushed by its backend.
 */
import Type, { type Static } from 'typebox';
import { AckSuccessSchema, eventNames, Identifier, type AckCallback, type ErrorEvent, type RoomListLimits, type Wire } from './common.js';

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
}

/** The event names of a site namespace in each direction, as values (the maps above are types only). */
export const SiteEvents = {
  clientToServer: eventNames<SiteClientToServerEvents>()(['AUTH']),
  serverToClient: eventNames<SiteServerToClientEvents>()(['ERROR']),
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
  });
}

/** `{ rooms, event, args? }`: the body of a push. */
export type PushRequest = Static<ReturnType<typeof pushRequestSchema>>;

/** Schema of a push's answer: how many sockets it reached (a socket in several of the rooms counts once). */
export const PushResultSchema = AckSuccessSchema(
  Type.Object({ delivered: Type.Integer({ minimum: 0 }), partial: Type.Optional(Type.Literal(true)) }),
);

/**
 * `{ ok: true, delivered }`: how many sockets the push reached, counted on every node; with `partial: true`
 * when some node did not answer within `--cluster-timeout` (its sockets were sent the push but not counted).
 */
export type PushResult = Static<typeof PushResultSchema>;
