import type { Namespace, Server } from 'socket.io';
import { Namespaces } from '../../protocol/index.js';
import { authMiddleware } from '../auth/index.js';
import { REFRESH_EVENT } from '../auth/jwt.js';
import type { AccessConfig, AuthConfig, BuiltinName, SiteConfig } from '../config/access.js';
import { withLog, type ServiceContext } from '../core/context.js';
import { unknownEventListener } from '../core/reply.js';
import type { DeviceQueue } from '../delivery/device-queue.js';
import { mountDevices, type SiteDelivery } from './devices.js';
import { serveSitePresence } from './site-presence.js';
import { notifyUserPresence } from './user-notify.js';

/** A site's configuration with the namespace serving it. */
export interface MountedSite {
  readonly config: SiteConfig;
  readonly nsp: Namespace;
  /** Reliable delivery, on a site with a `userRoomPrefix` when the service has a device queue. */
  readonly delivery: SiteDelivery | undefined;
}

/** What reliable delivery needs for every site with a `userRoomPrefix`. */
export interface SiteDeliveryConfig {
  /** The device queue; undefined turns reliable delivery off (`--workers` without `--redis`). */
  readonly queue: DeviceQueue | undefined;
  /** `--device-ttl`, in seconds: a site's own `deviceTtl` overrides it. */
  readonly deviceTtl: number;
  /** `--device-queue`: the queue's message cap, also each socket's bound on messages awaiting an ack. */
  readonly maxMessages: number;
}

const NO_EVENTS: ReadonlySet<string> = new Set();
/** AUTH is answered by the jwt mode's own listener; listed so that it is not also answered as unknown. */
const JWT_EVENTS: ReadonlySet<string> = new Set([REFRESH_EVENT]);

/**
 * Mounts one namespace per site, guarded by the site's auth. A site namespace serves no client requests:
 * its clients talk to their site's own backend, which reaches them through `POST /send`.
 */
export function mountSites(
  io: Server,
  access: AccessConfig,
  context: ServiceContext,
  delivery: SiteDeliveryConfig,
): Map<string, MountedSite> {
  const mounted = new Map<string, MountedSite>();
  for (const site of access.sites) {
    const nsp = io.of(site.namespace);
    const siteContext = withLog(context, context.log.child({ site: site.name, nsp: site.namespace }));
    const middleware = authMiddleware(site.auth, siteContext, true);
    if (middleware) nsp.use(middleware);
    // After the auth, whose identity names the device's user.
    const siteDelivery =
      site.userRoomPrefix !== undefined && delivery.queue !== undefined
        ? mountDevices(site, nsp, delivery.queue, siteContext, {
            ttlSeconds: site.deviceTtl ?? delivery.deviceTtl,
            maxMessages: delivery.maxMessages,
          })
        : undefined;
    // Every event is unknown here, but an ack is still answered (BAD_REQUEST), never left hanging.
    const onUnknown = unknownEventListener(site.auth.mode === 'jwt' ? JWT_EVENTS : NO_EVENTS, siteContext);
    nsp.on('connection', (socket) => {
      socket.onAny(onUnknown);
      context.hooks.connected(socket);
    });
    notifyUserPresence(site, siteContext);
    if (site.presence === true) serveSitePresence(site, nsp, siteContext);
    mounted.set(site.name, { config: site, nsp, delivery: siteDelivery });
  }
  return mounted;
}

/** Puts the configured auth in front of the built-in namespaces; those not configured stay open. */
export function guardBuiltins(io: Server, access: AccessConfig, context: ServiceContext): void {
  for (const [name, auth] of Object.entries(access.builtins) as [BuiltinName, AuthConfig][]) {
    const middleware = authMiddleware(auth, withLog(context, context.log.child({ nsp: Namespaces[name] })), false);
    if (middleware) io.of(Namespaces[name]).use(middleware);
  }
}
