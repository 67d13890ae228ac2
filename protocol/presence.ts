/**
 * `PRESENCE`: who comes, goes and changes name in a room, on the namespaces that turn it on (`--presence`
 * for `/layout` and `/bus`, `presence: true` for a site). Off by default: a namespace without it never sends one.
 */
import Type, { type Static } from 'typebox';
import { PeerId } from './common.js';

/** The event's name. */
export const PRESENCE_EVENT = 'PRESENCE';

/** What happened: a socket joined the room, left it (LEAVE or disconnect), or changed its display name. */
export const PresenceChangeSchema = Type.Union([Type.Literal('joined'), Type.Literal('left'), Type.Literal('renamed')]);

/** `'joined' | 'left' | 'renamed'`. */
export type PresenceChange = Static<typeof PresenceChangeSchema>;

/**
 * Schema of `PRESENCE { room, event, id, name, userId }`, sent to the room's *other* members. `id` is the
 * socket's id; `name` its display name (the new one for `renamed`), `null` on a namespace without names
 * (a site); `userId` the user its auth found (jwt's user claim, or a site's `userRoomPrefix` room), `null`
 * for an anonymous socket. Both are always present.
 */
export const PresenceEventSchema = Type.Object({
  room: Type.String(),
  event: PresenceChangeSchema,
  id: PeerId,
  name: Type.Union([Type.String(), Type.Null()]),
  userId: Type.Union([Type.String(), Type.Null()]),
});

/** `PRESENCE { room, event, id, name, userId }`. */
export type PresenceEvent = Static<typeof PresenceEventSchema>;
