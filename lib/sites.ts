import type { Logger } from 'pino';
import type { Namespace, Server } from 'socket.io';
import { Namespaces } from '../protocol/index.js';
import { credentialsAuth } from './auth/credentials.js';
import { jwtAuth, REFRESH_EVENT, type LeaveRooms } from './auth/jwt.js';
import { tokenUrlAuth, type AuthLimits, type AuthMiddleware, type JoinRooms } from './auth/token-url.js';
import { unknownEventListener } from './reply.js';
import { roomKey } from './rooms.js';
import { notifyUserPresence } from './user-notify.js';
import type { AccessConfig, AuthConfig, BuiltinName, SiteConfig } from './sites-config.js';

/** A site's configuration with the namespace serving it. */
export interface MountedSite {
  readonly config: SiteConfig;
  readonly nsp: Namespace;
}

const NO_EVENTS: ReadonlySet<string> = new Set();
/** AUTH is answered by the jwt mode's own listener; listed so that it is not also answered as unknown. */
const JWT_EVENTS: ReadonlySet<string> = new Set([REFRESH_EVENT]);

/** Rooms granted by an auth backend are adapter rooms under the same prefix as rooms clients join. */
const joinGrantedRooms: JoinRooms = (socket, rooms) => {
  void socket.join(rooms.map(roomKey));
};

const leaveGrantedRooms: LeaveRooms = (socket, rooms) => {
  for (const room of rooms) void socket.leave(roomKey(room));
};

/** The handshake middleware of an auth mode, or undefined for mode none. */
export function authMiddleware(auth: AuthConfig, limits: AuthLimits, log: Logger, refreshable: boolean): AuthMiddleware | undefined {
  switch (auth.mode) {
    case 'none':
      return undefined;
    case 'token-url':
      return tokenUrlAuth(auth, limits, joinGrantedRooms, log);
    case 'jwt':
      return jwtAuth(auth, limits, joinGrantedRooms, leaveGrantedRooms, log, refreshable);
    case 'credentials':
      return credentialsAuth(auth, log);
  }
}

/**
 * Mounts one namespace per site, guarded by the site's auth. A site namespace serves no client requests:
 * its clients talk to their site's own backend, which reaches them through `POST /send`.
 */
export function mountSites(io: Server, access: AccessConfig, limits: AuthLimits, log: Logger): Map<string, MountedSite> {
  const mounted = new Map<string, MountedSite>();
  for (const site of access.sites) {
    const nsp = io.of(site.namespace);
    const middleware = authMiddleware(site.auth, limits, log.child({ site: site.name }), true);
    if (middleware) nsp.use(middleware);
    // Every event is unknown here, but an ack is still answered (BAD_REQUEST), never left hanging.
    const onUnknown = unknownEventListener(site.auth.mode === 'jwt' ? JWT_EVENTS : NO_EVENTS, log);
    nsp.on('connection', (socket) => socket.onAny(onUnknown));
    notifyUserPresence(nsp, site, log);
    mounted.set(site.name, { config: site, nsp });
  }
  return mounted;
}

/** Puts the configured auth in front of the built-in namespaces; those not configured stay open. */
export function guardBuiltins(io: Server, access: AccessConfig, limits: AuthLimits, log: Logger): void {
  for (const [name, auth] of Object.entries(access.builtins) as [BuiltinName, AuthConfig][]) {
    const middleware = authMiddleware(auth, limits, log.child({ nsp: Namespaces[name] }), false);
    if (middleware) io.of(Namespaces[name]).use(middleware);
  }
}
