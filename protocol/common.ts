import Type, { type Static, type TSchema } from 'typebox';
import { ErrorBodySchema } from './errors.js';

/** Default upper bound on the length of room, lobby and display-name identifiers. */
export const DEFAULT_MAX_ID_LENGTH = 256;

/** Limits that shape the schemas; the server may configure them, clients use the defaults. */
export interface ProtocolLimits {
  /** Longest accepted room id, lobby id or display name, in UTF-16 code units. */
  readonly maxIdLength: number;
}

/** The limits a server uses unless configured otherwise. */
export const DEFAULT_LIMITS: ProtocolLimits = { maxIdLength: DEFAULT_MAX_ID_LENGTH };

/** The limits of a list of rooms (those an auth backend grants, those a push addresses). */
export interface RoomListLimits extends ProtocolLimits {
  /** How many rooms one socket may be in at once; also the longest room list a request may name. */
  readonly maxRoomsPerSocket: number;
}

/**
 * A room id, lobby id or display name: a non-empty string of bounded length. Numbers are never coerced.
 */
export function Identifier(limits: ProtocolLimits = DEFAULT_LIMITS) {
  return Type.String({ minLength: 1, maxLength: limits.maxIdLength });
}

/**
 * A socket id as the server assigns it (20 characters; `/<namespace>#<id>` for Engine.IO 3 clients). Not
 * bounded by the configurable identifier limit, which is for ids that clients choose.
 */
export const PeerId = Type.String({ minLength: 1, maxLength: DEFAULT_MAX_ID_LENGTH });

/**
 * A payload as it may travel: the object itself, or a JSON string of it (what legacy clients send).
 */
export type Wire<T> = T | string;

/** Schema of a failed acknowledgement. */
export const AckFailureSchema = Type.Object({ ok: Type.Literal(false), error: ErrorBodySchema });

/** `{ ok: false, error: { code, message } }`. */
export type AckFailure = Static<typeof AckFailureSchema>;

/** Schema of a successful acknowledgement carrying `result`'s fields next to `ok: true`. */
export function AckSuccessSchema<T extends TSchema>(result: T) {
  return Type.Intersect([Type.Object({ ok: Type.Literal(true) }), result]);
}

/** Success `{ ok: true, ...R }` or failure `{ ok: false, error }`; discriminate on `ok`. */
export type Ack<R extends object = object> = ({ ok: true } & R) | AckFailure;

/**
 * The callback a client passes as the last argument to receive an {@link Ack}. The event maps declare it
 * as a required parameter so that socket.io-client's `emitWithAck` resolves to the typed {@link Ack}; the
 * server itself never requires it (legacy clients send none and get `ERROR` events instead).
 */
export type AckCallback<R extends object = object> = (response: Ack<R>) => void;

/** Schema of the `ERROR` event a socket receives when a request without an ack fails. */
export const ErrorEventSchema = Type.Intersect([Type.Object({ event: Type.String() }), ErrorBodySchema]);

/** `ERROR { event, code, message }`: the failure of the named request. */
export type ErrorEvent = Static<typeof ErrorEventSchema>;

type MissingNames<Map, Names extends readonly PropertyKey[]> = Exclude<keyof Map, Names[number]>;
type AllNames<Map, Names extends readonly PropertyKey[]> = [MissingNames<Map, Names>] extends [never]
  ? Names
  : { readonly missing: MissingNames<Map, Names> };

/**
 * Lists the event names of an event map (an interface, which has no runtime form) as a value, for docs and
 * tools. The compiler checks the list against the map both ways: a name the map lacks, or a name of the
 * map left out, does not compile.
 *
 * @example
 * ```ts
 * const names = eventNames<LayoutServerToClientEvents>()(['EVENT', 'CLIENTS', 'ERROR']);
 * ```
 */
export function eventNames<Map>() {
  return <const Names extends readonly (keyof Map & string)[]>(names: Names & AllNames<Map, Names>): Names => names;
}

/**
 * The event that gives a new session its first connection-state recovery offset, right after it connects
 * (Socket.IO v4 clients of the namespaces that recover sessions). socket.io-client keeps the last string
 * argument of every event as its offset by itself; listening to this event is never needed.
 */
export const OFFSET_EVENT = '_offset';

/**
 * What a namespace that recovers sessions sends besides its own events. With recovery on, every other event
 * also carries its offset as one more, last argument, which listeners that take fewer arguments ignore.
 */
export interface RecoveryServerToClientEvents {
  [OFFSET_EVENT]: (offset: string) => void;
}

/** The recovery event's name as a value, for docs and tools (the map above is a type only). */
export const RecoveryEvents = {
  serverToClient: eventNames<RecoveryServerToClientEvents>()([OFFSET_EVENT]),
} as const;
