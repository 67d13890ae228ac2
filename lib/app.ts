import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { Logger } from 'pino';
import type { Server } from 'socket.io';
import { Namespaces } from '../protocol/index.js';
import { createCluster, RECOVERY_MAX_SESSIONS, RedisAuthFailureBudget, type Cluster, type RecoveryBounds } from './cluster/index.js';
import { sendFrameworkError } from './http/errors.js';
import { DebugRequestLogs } from './http/request-logs.js';
import { registerHttpRoutes } from './http/routes.js';
import { registerClientScripts } from './http/client-script.js';
import { bindHostOrAll, serviceUrls } from './runtime/listen.js';
import { createLogger } from './runtime/logger.js';
import { mountLayout, type LayoutNamespace } from './namespaces/layout.js';
import { mountLobby, type LobbyNamespace } from './namespaces/lobby.js';
import { mountTrigger, type TriggerNamespace } from './namespaces/trigger.js';
import { DEFAULT_OPTIONS, RECOVERY_MAX_PACKETS, type ServiceOptions } from './config/options.js';
import { recoveringNamespaces, recoveryOption, sendStartOffsets } from './delivery/recovery.js';
import { mountForwarding } from './namespaces/forwarding.js';
import { registerPushRoutes } from './sites/push.js';
import { registerRosterRoutes, type RosterNamespace } from './http/roster.js';
import { registerAsyncApiRoute } from './http/asyncapi.js';
import { registerWebPages } from './http/web-pages.js';
import { packageManifest, packageRoot } from './runtime/package.js';
import { recordUsers } from './auth/user-data.js';
import { guardBuiltins, mountSites, type MountedSite } from './sites/mount.js';
import { withLog, type ServiceContext } from './core/context.js';
import { HookDispatcher } from './core/hooks.js';
import { limitsOf } from './core/limits.js';
import type { ServiceHooks } from './core/types.js';
import { logConnections, logEngineRefusals, logLimits } from './runtime/connection-logs.js';
import { clientAddress, trustFunction } from './limits/address.js';
import { createMetrics } from './metrics/registry.js';
import { Readiness } from './runtime/readiness.js';
import type { ReadinessState } from './runtime/types.js';
import { AUTH_FAILURE_WINDOW_S, AuthFailureGate, UNLIMITED_AUTH_FAILURES } from './limits/auth-failures.js';
import { MemoryAuthFailureBudget } from './limits/auth-failures-memory.js';
import type { AuthFailureBudget } from './limits/types.js';
import { httpsOptions, loadTls } from './config/tls.js';
import { connectionAddress, createSocketServer, onBroadcast } from './engine/index.js';
import { limitConnections } from './limits/connections.js';
import { engineCors } from './http/engine-cors.js';
import { limitEventRate } from './limits/event-rate.js';
import { limitHttpRate } from './limits/http-rate.js';
import { boundedParser } from './limits/parser.js';
import type { DeviceQueue } from './delivery/device-queue.js';
import { createDeviceQueue } from './delivery/device-queue-factory.js';
import { ADMIN_NAMESPACE, mountAdmin } from './admin/namespace.js';
import { registerAdminUi } from './http/admin-ui.js';

// The package's `realtime-rooms/server` export: what embedders and the --workers processes use besides createApp.
export { enginePatches, type EnginePatches, type PatchStatus } from './engine/index.js';
export { serviceUrls } from './runtime/listen.js';
export type { ServiceOptions } from './config/options.js';
export type { HookEvents, HookScope, InboundMiddleware, LostMember, ServiceHooks, ServiceLimits } from './core/types.js';
export type { ReadinessState } from './runtime/types.js';

/** A running (or ready to listen) service. */
export interface App {
  /** The fastify instance serving the HTTP routes; Socket.IO is attached to its server. */
  readonly http: FastifyInstance;
  /** The Socket.IO server with the protocol namespaces mounted. */
  readonly io: Server;
  readonly log: Logger;
  /**
   * The service's hooks: subscribe to connections, joins, leaves and disconnects, or add a step to the
   * inbound-event chain (e.g. an embedder's own rate limit). Subscribe before `listen()`.
   */
  readonly hooks: ServiceHooks;
  /** Whether the cluster adapter is connected, reading and subscribed (always true without `--redis`). */
  isReady(): boolean;
  /** What `GET /readyz` reports: starting, ready, degraded (cut off from Redis after joining) or draining. */
  readiness(): ReadinessState;
  /**
   * Resolves when {@link isReady} equals `ready` (default true), at once if it does now. Until a node is
   * first ready, broadcasts from other nodes may be missed. Never rejects: bound it with a deadline.
   */
  untilReady(ready?: boolean): Promise<void>;
  /** Starts listening; resolves with the bound port and the URLs to reach it by. */
  listen(): Promise<{ port: number; urls: string[] }>;
  /**
   * Drains (`/readyz` answers 503 from now on), waits `drainDelay` ms while still serving, then disconnects
   * every client, stops accepting connections and releases the port. Idempotent.
   */
  close(): Promise<void>;
}

/** Extra wiring for embedders and tests. */
export interface AppDependencies {
  /** Logger to use instead of one built from the options. */
  readonly log?: Logger;
  /** Scale-out backend to use instead of the one the options choose (the `--workers` processes pass theirs). */
  readonly cluster?: Cluster;
  /** Reliable delivery's device queue instead of the one the options choose (tests pass one with their own clock). */
  readonly deviceQueue?: DeviceQueue;
  /** A `--workers` worker: `GET /metrics` answers the whole machine's, which the primary aggregates. */
  readonly workerMetrics?: boolean;
  /** The browser bundle `GET /client.js` serves instead of the built dist/client.browser.js. */
  readonly clientBundle?: string;
}

/**
 * fastify's schema compilers, for routes that declare a `schema`: none of this service's do (they validate
 * with protocol/'s TypeBox schemas, lib/core/validate.ts). fastify's own (ajv and fast-json-stringify, some
 * 130 modules) were loaded by every start for nothing, about a tenth of the time before the port opens. A
 * route added with a schema fails at start with this message.
 */
type SchemaCompilers = NonNullable<NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']>;
const NO_ROUTE_SCHEMAS: SchemaCompilers = {
  buildValidator: () => {
    throw new Error('routes take no fastify schema here: validate with TypeBox (lib/core/validate.ts)');
  },
  buildSerializer: () => {
    throw new Error('routes take no fastify response schema here');
  },
};

/**
 * Builds the service: fastify for HTTP, Socket.IO attached to the same server, and the `/layout`,
 * `/bus`, `/lobby` and `/trigger` namespaces. Reads no argv or env and never exits the process.
 *
 * @example
 * ```ts
 * const app = await createApp({ ...DEFAULT_OPTIONS, port: 0 });
 * const { urls } = await app.listen();
 * // ...
 * await app.close();
 * ```
 */
export async function createApp(options: Partial<ServiceOptions> = {}, deps: AppDependencies = {}): Promise<App> {
  const config: ServiceOptions = { ...DEFAULT_OPTIONS, ...options };
  const log = deps.log ?? (await createLogger({ level: config.logLevel, pretty: config.prettyLogs }));
  const tls = config.tls ? await loadTls(config.tls, log) : undefined;

  const trust = trustFunction(config.trustProxy);
  const httpLog: FastifyBaseLogger = log.child({ component: 'http' });
  const http = Fastify({
    loggerInstance: httpLog,
    logController: new DebugRequestLogs(),
    frameworkErrors: sendFrameworkError,
    bodyLimit: config.maxPayload,
    forceCloseConnections: true,
    // A room in a path (`/bus-message/:room`, the roster API) may be --max-id-length UTF-16 units, each at
    // most 9 characters percent-encoded; fastify's default of 100 refused longer rooms before validation.
    routerOptions: { maxParamLength: config.maxIdLength * 9 },
    // The same trust as the sockets' (lib/limits/address.ts): one client address for routes and sockets alike.
    trustProxy: trust,
    schemaController: { compilersFactory: NO_ROUTE_SCHEMAS },
    ...(tls ? { https: httpsOptions(tls) } : {}),
  });

  const hooks = new HookDispatcher(log.child({ component: 'hooks' }));
  const recovering = recoveringNamespaces(config.access);
  const cluster =
    deps.cluster ??
    (await createCluster(
      config.redis
        ? { mode: 'redis', redis: config.redis, timeoutMs: config.clusterTimeout, recovers: recovering }
        : { mode: 'memory', ...(config.recoveryWindow > 0 ? { recovery: recoveryBounds(config, recovering) } : {}) },
      log,
    ));
  const recovery = recoveryOption(config.recoveryWindow, cluster, log);
  const parser = boundedParser({ maxBytes: config.maxPayload, timeoutMs: config.attachmentTimeout }, (conn) =>
    hooks.limited({ limit: 'attachments', action: 'disconnected', address: connectionAddress(conn), socketId: conn.id }),
  );
  // The patches of lib/engine/ (or none, with fastPath off) are installed here, for this server only.
  const io: Server = createSocketServer(
    http.server,
    {
      // Set here, before any namespace exists: a namespace takes the adapter it is created with.
      ...(cluster.adapter ? { adapter: cluster.adapter } : {}),
      // Socket.IO 1.x/2.x clients speak Engine.IO protocol 3; the original service's clients are such.
      allowEIO3: true,
      maxHttpBufferSize: config.maxPayload,
      parser: parser.parser,
      ...(recovery ? { connectionStateRecovery: recovery } : {}),
    },
    {
      fastPath: config.fastPath,
      log: log.child({ component: 'engine' }),
      bounds: {
        maxOutbound: config.maxOutbound,
        limited: (hit) => hooks.limited(hit),
        addressOf: (req) => clientAddress(req, trust),
        // A dynamic namespace's name is an id like a room's: the same bound (lib/engine/namespace-names.ts).
        maxNamespaceLength: config.maxIdLength,
      },
    },
  );

  parser.bindTo(io);
  engineCors(io, config.corsOrigin);
  const limitsLog = log.child({ component: 'limits' });
  // Before any namespace is served: a handshake is admitted, and a connection given its budget, first.
  limitConnections(io, hooks, config, limitsLog);
  limitEventRate(io, hooks, config, trust);
  const authFailures = new AuthFailureGate(await authFailureBudget(config, limitsLog), trust, (hit) => hooks.limited(hit));

  const releases: (() => Promise<void>)[] = [];
  const context: ServiceContext = {
    limits: limitsOf(config),
    log: log.child({ component: 'socket' }),
    cluster,
    hooks,
    authFailures,
    // The address the connection's bounds found at its handshake (lib/engine/connection-guard.ts), not parsed again.
    clientAddress: (socket) => connectionAddress(socket.conn),
    onClose: (release) => releases.push(release),
    recoveryWindow: recovery ? config.recoveryWindow : 0,
  };
  const nspContext = (name: string): ServiceContext => withLog(context, context.log.child({ nsp: name }));
  // Subscribers first: a connection reaches them in the order they subscribed.
  logConnections(hooks, context.log);
  logLimits(hooks, limitsLog);
  if (recovery) sendStartOffsets(hooks, cluster, recovering);
  const readiness = new Readiness(cluster, config.strictReadiness);
  const metrics = config.metrics
    ? createMetrics(hooks, {
        readiness,
        engine: io.engine,
        access: config.access,
        http,
        broadcasts: (listener) => onBroadcast(io, listener),
        worker: deps.workerMetrics === true,
      })
    : undefined;
  logEngineRefusals(io.engine, log.child({ component: 'engine' }), (req) => clientAddress(req, trust));
  cluster.attach(hooks, (members) => hooks.lost(members));
  // Whose socket it is, in its data, so that a roster on any node can say (the sites' prefixes by namespace).
  recordUsers(
    hooks,
    new Map(
      config.access.sites.flatMap((site) => (site.userRoomPrefix === undefined ? [] : [[site.namespace, site.userRoomPrefix] as const])),
    ),
  );

  const deviceQueue = await chooseDeviceQueue(config, cluster, deps, log);
  const namespaces = [Namespaces.layout, Namespaces.bus, Namespaces.lobby, Namespaces.trigger];
  guardBuiltins(io, config.access, context);
  const sites = mountSites(io, config.access, context, {
    queue: deviceQueue,
    deviceTtl: config.deviceTtl,
    maxMessages: config.deviceQueue,
  });
  const forwarding = mountForwarding(io, config.access.forwarding ?? [], context);
  mountLayout(io.of(Namespaces.layout) as LayoutNamespace, nspContext(Namespaces.layout), {
    presence: config.presence.includes('layout'),
  });
  const bus = mountLayout(io.of(Namespaces.bus) as LayoutNamespace, nspContext(Namespaces.bus), {
    presence: config.presence.includes('bus'),
  });
  mountLobby(io.of(Namespaces.lobby) as LobbyNamespace, nspContext(Namespaces.lobby));
  mountTrigger(io.of(Namespaces.trigger) as TriggerNamespace, nspContext(Namespaces.trigger));
  // Last: admin-ui registers its listeners on the namespaces that exist then (and on those created later).
  const admin = config.adminPassword
    ? await mountAdmin(
        io,
        { username: config.adminUsername, password: config.adminPassword, writable: config.adminWritable, mode: config.adminMode },
        nspContext(ADMIN_NAMESPACE),
      )
    : undefined;

  // Before the routes: the hook then covers every route, the 404s and the push scope (which skips it).
  limitHttpRate(http, hooks, config.httpRate);
  await registerHttpRoutes(http, {
    bus,
    limits: context.limits,
    readiness,
    ...(metrics ? { metrics } : {}),
    ...(config.metricsToken ? { metricsToken: config.metricsToken } : {}),
    authFailures,
  });
  if (admin) registerAdminUi(http);
  registerClientScripts(http, deps.clientBundle === undefined ? {} : { bundle: deps.clientBundle });
  await registerPushRoutes(http, { sites, limits: context.limits, authFailures, cluster });
  registerRosterRoutes(http, {
    namespaces: rosterNamespaces(io, sites),
    operatorToken: config.apiToken,
    limits: context.limits,
    authFailures,
    directory: cluster.directory,
    clusterTimeoutMs: config.clusterTimeout,
  });
  registerAsyncApiRoute(http, packageManifest);
  registerWebPages(http, join(packageRoot, 'web'));

  let closing: Promise<void> | undefined;
  return {
    http,
    io,
    log,
    hooks,
    isReady: () => cluster.isReady(),
    readiness: () => readiness.state(),
    // The device queue has a Redis connection of its own: a push before it is up would be refused.
    untilReady: (ready = true) =>
      ready ? Promise.all([cluster.untilReady(true), deviceQueue?.untilReady()]).then(() => undefined) : cluster.untilReady(false),
    async listen() {
      const port = await listenWithFallback(http, config);
      const urls = serviceUrls(tls !== undefined, config.host, port);
      log.info(
        {
          urls,
          bind: config.host ?? 'all interfaces',
          namespaces,
          sites: [...sites.keys()],
          forwarding,
          maxPayload: config.maxPayload,
          adapter: cluster.mode,
          fastPath: config.fastPath,
        },
        `listening on ${urls.join(', ')}`,
      );
      return { port, urls };
    },
    close() {
      // Socket.IO disconnects its clients and closes the engine; fastify destroys the remaining HTTP
      // connections so that the port is released without waiting for keep-alive timeouts.
      // The Redis connections go last: closing the namespaces' adapters still talks to Redis.
      readiness.drain();
      closing ??= drained(config.drainDelay)
        .then(() => Promise.all([io.close(), http.close()]))
        .then(() => admin?.())
        .then(() => Promise.all([cluster.close(), authFailures.close(), deviceQueue?.close(), ...releases.map((release) => release())]))
        .then(() => undefined);
      return closing;
    },
  };
}

/** What one process keeps for recovery without Redis. */
function recoveryBounds(config: ServiceOptions, covers: (name: string) => boolean): RecoveryBounds {
  return {
    windowMs: config.recoveryWindow,
    maxBytes: config.recoveryBuffer,
    budget: { bytes: 0 },
    covers,
    maxPackets: RECOVERY_MAX_PACKETS,
    maxSessions: RECOVERY_MAX_SESSIONS,
  };
}

/** Resolves after the drain delay: at once for 0, so that a node without one stops without a turn of the loop. */
function drained(ms: number): Promise<void> {
  if (ms === 0) return Promise.resolve();
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * The namespaces of the roster API, by name without the slash: the built-ins behind the operator token,
 * each site behind its API key. Forwarding namespaces are not served (their rooms are not client rooms).
 */
function rosterNamespaces(io: Server, sites: ReadonlyMap<string, MountedSite>): Map<string, RosterNamespace> {
  const namespaces = new Map<string, RosterNamespace>();
  for (const name of Object.values(Namespaces)) namespaces.set(name.slice(1), { nsp: io.of(name), guard: { kind: 'operator' } });
  for (const site of sites.values()) {
    namespaces.set(site.nsp.name.slice(1), { nsp: site.nsp, guard: { kind: 'site', apiKey: site.config.apiKey } });
  }
  return namespaces;
}

/**
 * The one place that chooses the failed-auth budget's store: none for 0, Redis in cluster mode (so that the
 * budget holds across nodes), this process's memory otherwise.
 */
async function authFailureBudget(config: ServiceOptions, log: Logger): Promise<AuthFailureBudget> {
  if (config.maxAuthFailures === 0) return UNLIMITED_AUTH_FAILURES;
  if (config.redis) return RedisAuthFailureBudget.open(config.maxAuthFailures, AUTH_FAILURE_WINDOW_S, config.redis, log);
  return new MemoryAuthFailureBudget(config.maxAuthFailures);
}

/**
 * The one place that chooses reliable delivery's device queue: none without a site with a `userRoomPrefix`,
 * Redis with `--redis`, this process's memory in one process. `--workers` without `--redis` has none (each
 * worker's memory would hold the queues of its own sockets only): those sites push at most once, as the
 * start log says.
 */
async function chooseDeviceQueue(
  config: ServiceOptions,
  cluster: Cluster,
  deps: AppDependencies,
  log: Logger,
): Promise<DeviceQueue | undefined> {
  if (!config.access.sites.some((site) => site.userRoomPrefix !== undefined)) return undefined;
  if (deps.deviceQueue) return deps.deviceQueue;
  const limits = { maxMessages: config.deviceQueue, maxBytes: Math.floor(config.maxOutbound / 2), maxDevices: config.maxDevices };
  if (config.redis) return createDeviceQueue({ mode: 'redis', redis: config.redis }, limits, log);
  if (cluster.mode === 'memory') return createDeviceQueue({ mode: 'memory' }, limits, log);
  log.warn('reliable delivery needs --redis with --workers: sites with a userRoomPrefix push at most once');
  return undefined;
}

/** fastify logs each bound address; worded so that it reads as the detail of the service's own start line. */
const listenTextResolver = (address: string): string => `bound to ${address}`;

/** Binds the configured host, or all interfaces; resolves with the bound port. */
async function listenWithFallback(http: FastifyInstance, config: ServiceOptions): Promise<number> {
  await bindHostOrAll(config.host, async (host) => {
    await http.listen({ port: config.port, host, listenTextResolver });
  });
  return (http.server.address() as AddressInfo).port;
}
