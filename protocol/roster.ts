import Type, { type Static } from 'typebox';
import { AckSuccessSchema, DEFAULT_LIMITS, Identifier, type ProtocolLimits } from './common.js';

/**
 * The longest `:ns` a roster path may name: a namespace name without its slash. Site and forwarding
 * namespaces are at most 64 characters (the sites file's pattern); anything longer is no namespace.
 */
export const MAX_ROSTER_NAMESPACE_LENGTH = 64;

/** How many rooms `GET /api/namespaces/:ns/rooms` lists at most; past it the answer says `truncated: true`. */
export const MAX_LISTED_ROOMS = 1000;

/** `:ns` of a roster path: the namespace without its leading slash (`layout`, `lobby`, a site's name). */
function RosterNamespace() {
  return Type.String({ minLength: 1, maxLength: MAX_ROSTER_NAMESPACE_LENGTH });
}

/**
 * Schema of the decoded path parameters of `GET /api/namespaces/:ns/rooms/:room/clients`. The room is a
 * client room id, held to the same rules as on the sockets.
 */
export function rosterParamsSchema(limits: ProtocolLimits = DEFAULT_LIMITS) {
  return Type.Object({ ns: RosterNamespace(), room: Identifier(limits) });
}

/** `{ ns, room }` of a roster request. */
export type RosterParams = Static<ReturnType<typeof rosterParamsSchema>>;

/** Schema of the decoded path parameter of `GET /api/namespaces/:ns/rooms`. */
export const RoomCountParamsSchema = Type.Object({ ns: RosterNamespace() });

/** `{ ns }` of a room-count request. */
export type RoomCountParams = Static<typeof RoomCountParamsSchema>;

/** One socket of a roster. */
export const RosterClientSchema = Type.Object({
  /** The socket id (what `/lobby` peers know each other by). */
  id: Type.String(),
  /** The display name of the socket's last JOIN on `/layout` and `/bus`; null elsewhere or before a JOIN with a name. */
  name: Type.Union([Type.String(), Type.Null()]),
  /** The user its auth found (a jwt's user claim, or the granted `userRoomPrefix` room's user); null when none. */
  userId: Type.Union([Type.String(), Type.Null()]),
});

/** `{ id, name, userId }`: one socket of a roster. */
export type RosterClient = Static<typeof RosterClientSchema>;

/**
 * Schema of a roster's answer: every socket in the room on every node, in join order. Never partial: when
 * some node did not answer within `--cluster-timeout` the request is answered `UNAVAILABLE` (503) instead.
 */
export const RosterResultSchema = AckSuccessSchema(
  Type.Object({
    /** `:ns` as requested (without the slash). */
    namespace: Type.String(),
    room: Type.String(),
    clients: Type.Array(RosterClientSchema),
  }),
);

/** `{ ok: true, namespace, room, clients }`: the roster of one room. */
export type RosterResult = Static<typeof RosterResultSchema>;

/** One room of a room count: its client room id and how many sockets are in it, cluster-wide. */
export const RoomCountSchema = Type.Object({ room: Type.String(), clients: Type.Integer({ minimum: 1 }) });

/** `{ room, clients }`: one room of a room count. */
export type RoomCount = Static<typeof RoomCountSchema>;

/**
 * Schema of a room count's answer: the namespace's non-empty client rooms, most clients first (ties by room
 * id), at most {@link MAX_LISTED_ROOMS}; `total` is how many there are, and `truncated: true` says some
 * were left out. Like a roster, never partial.
 */
export const RoomCountResultSchema = AckSuccessSchema(
  Type.Object({
    namespace: Type.String(),
    rooms: Type.Array(RoomCountSchema),
    total: Type.Integer({ minimum: 0 }),
    truncated: Type.Optional(Type.Literal(true)),
  }),
);

/** `{ ok: true, namespace, rooms, total, truncated? }`: the rooms of a namespace and their sizes. */
export type RoomCountResult = Static<typeof RoomCountResultSchema>;
