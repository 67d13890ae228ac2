/**
 * Forwarding namespaces (`/sharedsocket`, `/do-<name>`): every event a client sends is the application's own
 * and is re-emitted to the namespace. The service adds the do-socket-service's controller/view model: a
 * socket may declare itself a `controller` or a `view` in its handshake; `__count__` asks how many views the
 * namespace has, and every socket hears `__connect__` / `__disconnect__` when a view comes or goes.
 */
import Type, { type Static } from 'typebox';
import { eventNames, type AckCallback, type ErrorEvent } from './common.js';

/** The socket types of the controller/view model; a socket that gives none is untyped. */
export const SOCKET_TYPES = ['controller', 'view'] as const;

/**
 * Schema of a forwarding socket's `type`, from `auth.type` (v4 clients) or `?type=` (legacy clients, which
 * cannot send `auth`). Any other value refuses the handshake (`BAD_REQUEST`): a misspelt type would
 * otherwise connect as an untyped socket that is silently never counted.
 */
export const SocketTypeSchema = Type.Union(SOCKET_TYPES.map((type) => Type.Literal(type)));

/** `controller` or `view`. */
export type SocketType = Static<typeof SocketTypeSchema>;

/** The request that asks for the number of views, answered by the service and never forwarded. */
export const COUNT_EVENT = '__count__';
/** Sent to every other socket of the namespace when a view connects. */
export const VIEW_CONNECT_EVENT = '__connect__';
/** Sent to every other socket of the namespace when a view is gone. */
export const VIEW_DISCONNECT_EVENT = '__disconnect__';

/** Schema of `__connect__` and `__disconnect__`: the view's socket id. */
export const ViewPeerSchema = Type.Object({ id: Type.String() });

/** `{ id }` of a view that came or went. */
export type ViewPeer = Static<typeof ViewPeerSchema>;

/**
 * Schema of `__count__`'s ack result (besides `ok: true`): the views of the namespace on every node;
 * `partial: true` when some node did not answer within `--cluster-timeout`, whose views are then missing.
 */
export const ViewCountSchema = Type.Object({ count: Type.Integer({ minimum: 0 }), partial: Type.Optional(Type.Literal(true)) });

/** The fields of `__count__`'s ack. */
export type ViewCount = Static<typeof ViewCountSchema>;

/** The events a forwarding client may emit besides its own (which are any other names, relayed). */
export interface ForwardingClientToServerEvents {
  /** With an ack: `{ ok: true, count }`; without one the asker alone receives `__count__ <count>`. */
  __count__: (ack?: AckCallback<ViewCount>) => void;
}

/** The events the service itself sends on a forwarding namespace (besides the relayed ones). */
export interface ForwardingServerToClientEvents {
  /** The answer to a `__count__` without an ack: the number of views, as the do-socket-service sent it. */
  __count__: (count: number) => void;
  __connect__: (view: ViewPeer) => void;
  __disconnect__: (view: ViewPeer) => void;
  ERROR: (event: ErrorEvent) => void;
}

/** The service's own event names on a forwarding namespace in each direction, as values (the maps above are types only). */
export const ForwardingEvents = {
  clientToServer: eventNames<ForwardingClientToServerEvents>()(['__count__']),
  serverToClient: eventNames<ForwardingServerToClientEvents>()(['__count__', '__connect__', '__disconnect__', 'ERROR']),
} as const;
