/**
 * The typed client SDK of realtime-rooms (`realtime-rooms/client`): one `connect…` function per namespace,
 * requests that resolve on their ack, rooms rejoined after a reconnect the service did not recover, and
 * reliable delivery on sites. It imports nothing but protocol/ and socket.io-client, so that it runs in
 * browsers (`GET /client.js` serves it bundled) and in Node.
 *
 * @example
 * ```ts
 * import { connectLayout, ProtocolError } from 'realtime-rooms/client';
 *
 * const tv = connectLayout('http://localhost:3000');
 * tv.on('EVENT', ({ sender, message }) => console.log(sender, message));
 * await tv.join('living-room', 'tv');
 * ```
 */
export { ProtocolError, TimeoutError } from './errors.js';
export { DEFAULT_TIMEOUT_MS, type ClientOptions } from './options.js';
export type { ConnectionEvents } from './connection.js';
export { connectLayout, connectBus, type LayoutClient, type LayoutClientEvents } from './layout.js';
export { connectLobby, type LobbyClient, type LobbyClientEvents } from './lobby.js';
export { connectTrigger, type TriggerClient, type TriggerClientEvents, type TriggerKind } from './trigger.js';
export { connectSite, type SiteClient, type SiteClientEvents, type SiteHandler, type SiteOptions, type SiteServiceEvents } from './site.js';
export { DEFAULT_DEDUPE_WINDOW } from './recent-ids.js';
