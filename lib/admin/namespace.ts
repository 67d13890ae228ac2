/**
 * The `/admin` namespace of the official Socket.IO Admin UI (`@socket.io/admin-ui`), behind the service's own
 * login check: admin-ui's `basic` auth takes a bcrypt hash only, while the service's secrets are clear text,
 * `env:`/`file:` references or scrypt hashes (lib/config/secrets.ts), so the namespace takes the credentials
 * auth mode of the sites (one user) and admin-ui runs with `auth: false` behind it.
 */
import { hostname } from 'node:os';
import type * as AdminUi from '@socket.io/admin-ui';
import { lazyPackage } from '../core/lazy-package.js';
import type { Namespace, Server } from 'socket.io';
import { budgeted } from '../auth/budget.js';
import { credentialsAuth } from '../auth/credentials.js';
import type { Secret } from '../config/secrets.js';
import type { ServiceContext } from '../core/context.js';

const adminUi = lazyPackage<typeof AdminUi>('@socket.io/admin-ui');

/** The namespace admin-ui serves and its page connects to. */
export const ADMIN_NAMESPACE = '/admin';

/** How the Admin UI is configured (the `--admin-*` options). */
export interface AdminConfig {
  readonly username: string;
  readonly password: Secret;
  /** Whether the UI may disconnect sockets, make them join or leave rooms, and emit to them. */
  readonly writable: boolean;
  readonly mode: 'production' | 'development';
}

/**
 * Mounts admin-ui's namespace on `io`: the login behind the failed-auth budget, the inbound-event chain (the
 * event rate) on every event the page sends, and the service's connection hooks. Call after every other
 * namespace is mounted. Returns what `close()` must call: admin-ui's stats timer has no handle to clear.
 */
export function mountAdmin(io: Server, config: AdminConfig, context: ServiceContext): () => void {
  // A site or forwarding namespace of that name would be served by admin-ui's listeners too.
  if (io._nsps.has(ADMIN_NAMESPACE))
    throw new Error(`the Admin UI needs the namespace ${ADMIN_NAMESPACE}, which a site or forwarding entry already has`);
  const nsp = io.of(ADMIN_NAMESPACE);
  const login = credentialsAuth({ mode: 'credentials', users: new Map([[config.username, config.password]]) }, context.log);
  nsp.use(budgeted(login, context.authFailures));
  nsp.on('connection', (socket) => {
    socket.use(([event, ...args], next) => {
      // A refused event is dropped (admin-ui answers none of its events with an ack).
      try {
        context.hooks.inbound(socket, String(event), args);
      } catch {
        return;
      }
      next();
    });
    context.hooks.connected(socket);
  });
  adminUi().instrument(io, {
    namespaceName: ADMIN_NAMESPACE,
    auth: false,
    readonly: !config.writable,
    mode: config.mode,
    // admin-ui names a process by its host alone unless it is a node:cluster worker: two nodes on one host
    // would be one server in the page. The pid tells them apart, as in admin-ui's own worker names.
    serverId: `${hostname()}#${process.pid}`,
  });
  return () => silence(nsp);
}

/**
 * Stops admin-ui's broadcasts once the service closes: its 2-second stats timer (unref'd, never cleared)
 * would otherwise go on publishing through an adapter whose Redis connection is gone.
 */
function silence(nsp: Namespace): void {
  nsp.emit = () => true;
}
