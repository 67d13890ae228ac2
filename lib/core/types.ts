/**
 * The interfaces of the seam every cross-cutting feature plugs into: the limits, the hooks a subscriber
 * registers on, the inbound-event chain. Interfaces only (lib/core/hooks.ts implements them), so that any
 * folder may import them without importing an implementation.
 */
import type { Socket } from 'socket.io';
import type { ErrorCode, ProtocolLimits } from '../../protocol/index.js';

/** The limits every namespace, auth mode and HTTP route holds clients to: one object, configured once. */
export interface ServiceLimits extends ProtocolLimits {
  /** Largest Socket.IO message or HTTP body, in bytes. A socket that sends more is disconnected. */
  readonly maxPayload: number;
  /** Longest room id, lobby id or display name (also for rooms an auth backend grants), and dynamic namespace name. */
  readonly maxIdLength: number;
  /** How many rooms one socket may be in at once (its own id room not counted). */
  readonly maxRoomsPerSocket: number;
  /** Longest event name a client may send; a longer one is refused with `BAD_REQUEST` before anything else. */
  readonly maxEventNameLength: number;
  /** How many sockets one lobby may hold (cluster-wide); a JOIN past it fails with `LIMIT`. */
  readonly maxLobbyMembers: number;
}

/**
 * The limits that bound what one client may cost the service, each reported through the `limited` hook
 * when it is hit (for the log line and the metric):
 *
 * - `outbound`: a connection's unsent outbound bytes passed the bound (a reader that stalls);
 * - `liveness`: a connection answered no ping in time (pongs it sent unasked do not count);
 * - `event-rate`: a connection sent events faster than its token bucket allows;
 * - `connections-per-address`: an address holds as many connections as it may;
 * - `connect-rate`: an address opened connections faster than it may;
 * - `auth-failures`: an address failed authentication (handshake or push API key) too often;
 * - `attachments`: a binary packet's attachments were too large or did not all arrive in time;
 * - `event-name`: an event name longer than allowed;
 * - `lobby-members`: a lobby is full;
 * - `namespace-name`: a dynamic namespace name longer than allowed.
 */
export type LimitName =
  | 'outbound'
  | 'liveness'
  | 'event-rate'
  | 'connections-per-address'
  | 'connect-rate'
  | 'http-rate'
  | 'auth-failures'
  | 'attachments'
  | 'event-name'
  | 'lobby-members'
  | 'namespace-name';

/** What the service did about a client that hit a limit. */
export type LimitAction = 'refused' | 'disconnected' | 'dropped';

/** One hit of a limit: which, by whom, and what was done about it. */
export interface LimitHit {
  readonly limit: LimitName;
  readonly action: LimitAction;
  /** The client's address: the peer's, or the one the trusted proxies forwarded (`--trust-proxy`). */
  readonly address: string;
  /** The namespace, when the hit is a namespace socket's. */
  readonly namespace?: string;
  /** The Socket.IO socket id, or the Engine.IO session id for a connection-level limit. */
  readonly socketId?: string;
}

/** A member of a room on a node that went away without saying so (killed, lost): its peers must be told. */
export interface LostMember {
  /** The namespace the socket was on, e.g. `/lobby`. */
  readonly namespace: string;
  readonly socketId: string;
  /** The client room (not the adapter key) it was tracked in. */
  readonly room: string;
}

/**
 * A step of the inbound-event chain: it sees every event a client sends on a namespace the service serves,
 * before the payload is validated. It lets the event through by returning and refuses it by throwing a
 * `RequestError` (e.g. `RATE_LIMITED`), which the reply path turns into the ack or `ERROR` as for any failed
 * request. Synchronous on purpose: it runs for every message.
 */
export type InboundMiddleware = (socket: Socket, event: string, args: readonly unknown[]) => void;

/** What each hook's subscribers receive. */
export interface HookEvents {
  /** A socket finished its handshake (auth included) on a namespace the service serves. */
  connection: (socket: Socket) => void;
  /** A socket is about to join client room `room` (adapter room `key`): it is not in it yet if this is its first join. */
  join: (socket: Socket, room: string, key: string) => void;
  /** A socket has left client room `room` (adapter room `key`). */
  leave: (socket: Socket, room: string, key: string) => void;
  /** A socket disconnected, for `reason` (Socket.IO's disconnect reasons). */
  disconnect: (socket: Socket, reason: string) => void;
  /** Members of another node that died without shutting down (cluster mode); one surviving node gets each. */
  lostMembers: (members: readonly LostMember[]) => void;
  /** A client hit a limit (every namespace's, and the connection-level ones that have no namespace). */
  limited: (hit: LimitHit) => void;
  /** A request failed: its ack or `ERROR` carries `code` (the reply path's, lib/core/reply.ts). */
  failure: (socket: Socket, code: ErrorCode) => void;
}

/** Which sockets a subscription is for. */
export interface HookScope {
  /** Only sockets of the namespace with this name; every namespace when absent. */
  readonly namespace?: string;
}

/**
 * Where cross-cutting features subscribe (the way hocuspocus extensions do), instead of each adding its own
 * `connection` listener or an edit to the composition root. Subscribers run in the order they subscribed;
 * a subscriber that throws is logged and does not stop the others.
 */
export interface ServiceHooks {
  /** Subscribes `listener` to hook `event`, for every socket or for those of `scope.namespace`. */
  on<E extends keyof HookEvents>(event: E, listener: HookEvents[E], scope?: HookScope): void;
  /** Appends a step to the inbound-event chain. */
  use(middleware: InboundMiddleware): void;
}
