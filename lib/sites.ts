import type { Logger } from 'pino';
import type { Namespace, Server } from 'socket.io';
import { Namespaces } from '../protocol/index.js';
import { tokenUrlAuth, type AuthLimits, type AuthMiddleware, type JoinRooms } from './auth/token-url.js';
import { unknownEventListener } from './reply.js';
import { roomKey } from './rooms.js';
import type { AccessConfig, AuthConfig, BuiltinName, SiteConfig } from './sites-config.js';

/** A site's configuration with the namespace serving it. */
export interface MountedSite {
  readonly config: SiteConfig;
  readonly nsp: Namespace;
}

const NO_EVENTS: ReadonlySet<string> = new Set();

/** Rooms granted by an auth backend are adapter rooms under the same prefix as rooms clients join. */
const joinGrantedRooms: JoinRooms = (socket, rooms) => {
  void socket.join(rooms.map(roomKey));
};

/** The handshake middleware of an auth mode, or undefined for mode none. */
export function authMiddleware(auth: AuthConfig, limits: AuthLimits, log: Logger): AuthMiddleware | undefined {
  switch (auth.mode) {
    case 'none':
      return undefined;
    case 'token-url':
      return tokenUrlAuth(auth, limits, joinGrantedRooms, log);
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
    const middleware = authMiddleware(site.auth, limits, log.child({ site: site.name }));
    if (middleware) nsp.use(middleware);
    // Every event is unknown here, but an ack is still answered (BAD_REQUEST), never left hanging.
    const onUnknown = unknownEventListener(NO_EVENTS, log);
    nsp.on('connection', (socket) => socket.onAny(onUnknown));
    mounted.set(site.name, { config: site, nsp });
  }
  return mounted;
}

/** Puts the configured auth in front of the built-in namespaces; those not configured stay open. */
export function guardBuiltins(io: Server, access: AccessConfig, limits: AuthLimits, log: Logger): void {
  for (const [name, auth] of Object.entries(access.builtins) as [BuiltinName, AuthConfig][]) {
    const middleware = authMiddleware(auth, limits, log.child({ nsp: Namespaces[name] }));
    if (middleware) io.of(Namespaces[name]).use(middleware);
  }
}
