import type { ServiceHooks } from '../core/types.js';
import { identityOf, userIdOf } from './identity.js';

/**
 * The user an auth mode found, kept in `socket.data`: unlike the identity (a WeakMap of this process),
 * socket data travels with a cluster lookup's answer, so that another node can tell whose socket it is
 * (the roster API's `userId`). The same field as the device data of lib/sites/devices.ts, which sets it
 * earlier (in its middleware) on sites with a `userRoomPrefix`.
 */
export interface UserData {
  user?: string;
}

/**
 * Records each authenticated socket's user in its data (see {@link UserData}) once its handshake is done,
 * on every namespace: `prefixes` gives the `userRoomPrefix` of the namespaces that have one (sites), by
 * namespace name; elsewhere only a mode's own user (jwt's user claim) names it. Sockets without an
 * identity (no auth, `credentials`) are left alone: a string per authenticated socket is all it costs.
 */
export function recordUsers(hooks: ServiceHooks, prefixes: ReadonlyMap<string, string>): void {
  hooks.on('connection', (socket) => {
    const data = socket.data as UserData;
    if (data.user !== undefined) return;
    const identity = identityOf(socket);
    const user = identity && userIdOf(identity, prefixes.get(socket.nsp.name));
    if (user !== undefined) data.user = user;
  });
}
