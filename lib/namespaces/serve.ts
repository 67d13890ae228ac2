import type { Namespace, Socket } from 'socket.io';
import type { ErrorEvent } from '../../protocol/index.js';
import { slimSocket } from '../engine/connection-footprint.js';
import type { ServiceContext } from '../core/context.js';
import { requestListener, unknownEventListener, type RequestHandler } from '../core/reply.js';

/**
 * The server-side view of a client's event map: every argument is untrusted until validated, so the
 * server registers listeners that take `unknown`, while clients keep the precise types.
 */
export type Untrusted<Events> = { [Event in keyof Events]: (...args: unknown[]) => void };

/** Server-to-client events every protocol namespace has. */
interface ErrorEvents {
  ERROR: (event: ErrorEvent) => void;
}

/** A protocol namespace as the server types it: untrusted requests in, typed events out, typed socket data. */
export type ProtocolNamespace<ClientEvents, ServerEvents extends ErrorEvents, Data = unknown> = Namespace<
  Untrusted<ClientEvents>,
  ServerEvents,
  Record<string, never>,
  Data
>;

/** A socket of a {@link ProtocolNamespace}. */
export type ProtocolSocket<ClientEvents, ServerEvents extends ErrorEvents, Data = unknown> = Socket<
  Untrusted<ClientEvents>,
  ServerEvents,
  Record<string, never>,
  Data
>;

/** The two registration calls this module makes, on a socket whose event names are already checked. */
interface ListenerRegistry {
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  onAny(listener: (event: unknown, ...args: unknown[]) => void): unknown;
}

/**
 * Serves `handlers` on `nsp`: each becomes one listener shared by every socket (see `requestListener`),
 * and any other event is answered by the unknown-event listener. On each connection the connection hook
 * runs once the listeners are in place, then `onConnect`, for per-connection work such as joining a lobby
 * named in the handshake.
 */
export function serveRequests<ClientEvents, ServerEvents extends ErrorEvents, Data>(
  nsp: ProtocolNamespace<ClientEvents, ServerEvents, Data>,
  handlers: Record<keyof ClientEvents & string, RequestHandler<ProtocolSocket<ClientEvents, ServerEvents, Data>>>,
  context: ServiceContext,
  onConnect?: (socket: ProtocolSocket<ClientEvents, ServerEvents, Data>) => void,
): void {
  type S = ProtocolSocket<ClientEvents, ServerEvents, Data>;
  const entries = Object.entries<RequestHandler<S>>(handlers);
  const listeners = entries.map(([event, handler]) => [event, requestListener(event, handler, context)] as const);
  const onUnknown = unknownEventListener<S>(new Set(entries.map(([event]) => event)), context);

  nsp.on('connection', (socket) => {
    // The keys of `handlers` are exactly the client event names, which Socket.IO's generic `on` cannot see
    // through a mapped type; registering through this narrow view is the one unchecked step.
    const registry = socket as unknown as ListenerRegistry;
    for (const [event, listener] of listeners) registry.on(event, listener);
    registry.onAny(onUnknown);
    context.hooks.connected(socket);
    onConnect?.(socket);
    slimSocket(socket);
  });
}
