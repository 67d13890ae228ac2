import type { Namespace } from 'socket.io';
import type { SiteConfig } from '../config/access.js';
import type { ServiceContext } from '../core/context.js';
import { RoomPresence } from '../delivery/room-presence.js';

/**
 * `PRESENCE` on a site with `presence: true`. A site's sockets do not JOIN: their auth grants their rooms
 * during the handshake, before they are connected, so each granted room is announced `joined` once the
 * socket has connected (a handshake refused later never is), and rooms granted or taken away afterwards (a
 * jwt `AUTH` refresh) as it happens. `name` is null (site sockets have none); `userId` is the user of the
 * jwt claim or the `userRoomPrefix` room.
 */
export function serveSitePresence(site: SiteConfig, nsp: Namespace, context: ServiceContext): void {
  const presence = new RoomPresence(nsp, context, site.userRoomPrefix);
  const scope = { namespace: site.namespace };
  context.hooks.on('connection', (socket) => presence.watch(socket), scope);
  context.hooks.on(
    'join',
    (socket, room, key) => {
      if (socket.connected && !socket.rooms.has(key)) presence.joined(socket, room);
    },
    scope,
  );
  context.hooks.on(
    'leave',
    (socket, room) => {
      if (socket.connected) presence.left(socket, room);
    },
    scope,
  );
}
