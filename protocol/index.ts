/**
 * The wire contract of the service: schemas, the types derived from them, the Socket.IO event maps
 * and the error catalog. Importable by browser and Node clients; it contains no server code.
 *
 * @example
 * ```ts
 * import { io, type Socket } from 'socket.io-client';
 * import type { LayoutServerToClientEvents, LayoutClientToServerEvents } from 'realtime-rooms/protocol';
 *
 * const layout: Socket<LayoutServerToClientEvents, LayoutClientToServerEvents> = io('http://localhost:3000/layout');
 * const res = await layout.emitWithAck('JOIN', { room: 'r1', name: 'tv' });
 * if (!res.ok) console.error(res.error.code, res.error.message);
 * ```
 */
import { LayoutEvents } from './layout.js';
import { LobbyEvents } from './lobby.js';
import { TriggerEvents } from './trigger.js';

export * from './errors.js';
export * from './common.js';
export * from './layout.js';
export * from './lobby.js';
export * from './trigger.js';
export * from './forwarding.js';
export * from './sites.js';
export * from './roster.js';
export * from './presence.js';

/** The namespaces the service always serves. */
export const Namespaces = {
  layout: '/layout',
  bus: '/bus',
  lobby: '/lobby',
  trigger: '/trigger',
} as const;

/**
 * The event names of each built-in namespace in each direction (`/bus` speaks `/layout`'s protocol). Site
 * namespaces have {@link SiteEvents}.
 */
export const NamespaceEvents = {
  [Namespaces.layout]: LayoutEvents,
  [Namespaces.bus]: LayoutEvents,
  [Namespaces.lobby]: LobbyEvents,
  [Namespaces.trigger]: TriggerEvents,
} as const;
