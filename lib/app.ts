import type { AddressInfo } from 'node:net';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { Server } from 'socket.io';
import { Namespaces } from '../protocol/index.js';
import { createCluster, type Cluster } from './cluster.js';
import { errorBody, registerHttpRoutes } from './http.js';
import { createLogger } from './logger.js';
import { mountLayout, type LayoutNamespace } from './namespaces/layout.js';
import { mountLobby, type LobbyNamespace } from './namespaces/lobby.js';
import { mountTrigger, type TriggerNamespace } from './namespaces/trigger.js';
import { DEFAULT_OPTIONS, type ServiceOptions } from './options.js';
import { mountForwarding } from './forwarding.js';
import { registerPushRoutes } from './push.js';
import { guardBuiltins, mountSites } from './sites.js';
import { roomKey } from './rooms.js';
import { loadTls } from './tls.js';
import { installWriteCoalescing } from './write-coalescing.js';
import { installConnectionFootprint } from './connection-footprint.js';
import { installFastBroadcast } from './fast-broadcast.js';

/** A running (or ready to listen) service. */
export interface App {
  /** The fastify instance serving the HTTP routes; Socket.IO is attached to its server. */
  readonly http: FastifyInstance;
  /** The Socket.IO server with the protocol namespaces mounted. */
  readonly io: Server;
  readonly log: Logger;
  /** Whether the cluster adapter is connected, reading and subscribed (always true without `--redis`); drives `GET /readyz`. */
  isReady(): boolean;
  /**
   * Resolves when {@link isReady} equals `ready` (default true), at once if it does now. Until a node is
   * first ready, broadcasts from other nodes may be missed. Never rejects: bound it with a deadline.
   */
  untilReady(ready?: boolean): Promise<void>;
  /** Starts listening; resolves with the bound port and the URLs to reach it by. */
  listen(): Promise<{ port: number; urls: string[] }>;
  /** Disconnects every client, stops accepting connections and releases the port. Idempotent. */
  close(): Promise<void>;
}

/** Extra wiring for embedders and tests. */
export interface AppDependencies {
  /** Logger to use instead of one built from the options. */
  readonly log?: Logger;
  /** Scale-out backend to use instead of the one the options choose (the `--workers` processes pass theirs). */
  readonly cluster?: Cluster;
}

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
  const log = deps.log ?? createLogger({ level: config.logLevel, pretty: config.prettyLogs });
  const tls = config.tls ? await loadTls(config.tls, log) : undefined;

  const httpLog: FastifyBaseLogger = log.child({ component: 'http' });
  const http = Fastify({
    loggerInstance: httpLog,
    logController: new DebugRequestLogs(),
    frameworkErrors: sendFrameworkError,
    bodyLimit: config.maxPayload,
    forceCloseConnections: true,
    ...(tls ? { https: { key: tls.key, cert: tls.cert } } : {}),
  });

  installWriteCoalescing();
  installFastBroadcast();
  const cluster = deps.cluster ?? createCluster(config.redis, log);
  const io = new Server(http.server, {
    // Set here, before any namespace exists: a namespace takes the adapter it is created with.
    ...(cluster.adapter ? { adapter: cluster.adapter } : {}),
    // Socket.IO 1.x/2.x clients speak Engine.IO protocol 3; the original service's clients are such.
    allowEIO3: true,
    maxHttpBufferSize: config.maxPayload,
    // The original (Socket.IO 2) answered every origin; '*' keeps that, a list restricts it.
    cors: { origin: config.corsOrigin === '*' ? true : [...config.corsOrigin], credentials: true },
  });
  installConnectionFootprint(io);

  const socketLog = log.child({ component: 'socket' });
  const layoutConfig = { maxIdLength: config.maxIdLength, maxRoomsPerSocket: config.maxRoomsPerSocket };
  const namespaces = [Namespaces.layout, Namespaces.bus, Namespaces.lobby, Namespaces.trigger];
  for (const name of namespaces) {
    const nsp = io.of(name);
    const nspLog = socketLog.child({ nsp: name });
    // Only at debug: a disconnect listener per socket costs memory at scale.
    if (!nspLog.isLevelEnabled('debug')) continue;
    nsp.on('connection', (socket) => {
      nspLog.debug({ socketId: socket.id, transport: socket.conn.transport.name }, 'connected');
      socket.on('disconnect', (reason) => nspLog.debug({ socketId: socket.id, reason }, 'disconnected'));
    });
  }
  guardBuiltins(io, config.access, layoutConfig, socketLog);
  const sites = mountSites(io, config.access, layoutConfig, socketLog);
  const forwarding = mountForwarding(io, config.access.forwarding ?? [], layoutConfig, socketLog);
  const { directory } = cluster;
  mountLayout(io.of(Namespaces.layout) as LayoutNamespace, layoutConfig, socketLog.child({ nsp: Namespaces.layout }), directory);
  const bus = mountLayout(io.of(Namespaces.bus) as LayoutNamespace, layoutConfig, socketLog.child({ nsp: Namespaces.bus }), directory);
  mountLobby(io.of(Namespaces.lobby) as LobbyNamespace, layoutConfig, socketLog.child({ nsp: Namespaces.lobby }), directory);
  mountTrigger(io.of(Namespaces.trigger) as TriggerNamespace, layoutConfig, socketLog.child({ nsp: Namespaces.trigger }));

  // A node that dies cannot say LEFT for its lobby sockets: the others do it for it (cluster mode).
  const lobbyNsp = io.of(Namespaces.lobby) as LobbyNamespace;
  cluster.onLostLobbySocket((socketId, lobby) => lobbyNsp.to(roomKey(lobby)).emit('LEFT', socketId));

  await registerHttpRoutes(http, { bus, maxIdLength: config.maxIdLength, isReady: () => cluster.isReady() });
  await registerPushRoutes(http, { sites, ...layoutConfig });

  let closing: Promise<void> | undefined;
  return {
    http,
    io,
    log,
    isReady: () => cluster.isReady(),
    untilReady: (ready = true) => cluster.untilReady(ready),
    async listen() {
      const port = await listenWithFallback(http, config);
      const urls = serviceUrls(tls !== undefined, config.host, port);
      log.info(
        { urls, bind: config.host ?? 'all interfaces', namespaces, sites: [...sites.keys()], forwarding, maxPayload: config.maxPayload, adapter: cluster.mode },
        `listening on ${urls.join(', ')}`,
      );
      return { port, urls };
    },
    close() {
      // Socket.IO disconnects its clients and closes the engine; fastify destroys the remaining HTTP
      // connections so that the port is released without waiting for keep-alive timeouts.
      // The Redis connections go last: closing the namespaces' adapters still talks to Redis.
      closing ??= Promise.all([io.close(), http.close()]).then(() => cluster.close());
      return closing;
    },
  };
}

/** The URLs to reach a service bound to `host` (undefined: all interfaces) and `port` by, for the start line. */
export function serviceUrls(https: boolean, host: string | undefined, port: number): string[] {
  const scheme = https ? 'https' : 'http';
  const hosts = host === undefined || host === '::' || host === '0.0.0.0' ? ['localhost'] : [host];
  return hosts.map((name) => `${scheme}://${name.includes(':') ? `[${name}]` : name}:${port}`);
}

/** Errors fastify raises before routing (a malformed URL) get the same JSON body as every other 400. */
function sendFrameworkError(error: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  void reply.code(400).send(errorBody('BAD_REQUEST', error.message));
}

/** Per-request lines at info would flood the log under bus traffic: request logs go to debug. */
class DebugRequestLogs extends LogController {
  override incomingRequest(request: FastifyRequest): void {
    request.log.debug({ method: request.method, url: withoutApiKey(request.url) }, 'incoming request');
  }
  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    request.log.debug({ statusCode: reply.statusCode, responseTime: reply.elapsedTime, err: error ?? undefined }, 'request completed');
  }
  override routeNotFound(request: FastifyRequest): void {
    request.log.debug({ method: request.method, url: withoutApiKey(request.url) }, 'route not found');
  }
}

/** `POST /send?apiKey=…` carries a secret in its URL: request logs show it redacted. */
function withoutApiKey(url: string): string {
  return url.replace(/([?&]apiKey=)[^&]*/gi, '$1[redacted]');
}

/** fastify logs each bound address; worded so that it reads as the detail of the service's own start line. */
const listenTextResolver = (address: string): string => `bound to ${address}`;

/**
 * Binds `host`, or when none is given all interfaces: dual-stack `::`, falling back to IPv4 `0.0.0.0` on
 * machines without IPv6 (as Node itself does; fastify alone would bind only localhost).
 */
async function listenWithFallback(http: FastifyInstance, config: ServiceOptions): Promise<number> {
  if (config.host !== undefined) {
    await http.listen({ port: config.port, host: config.host, listenTextResolver });
  } else {
    try {
      await http.listen({ port: config.port, host: '::', listenTextResolver });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'EAFNOSUPPORT' && code !== 'EADDRNOTAVAIL') throw err;
      await http.listen({ port: config.port, host: '0.0.0.0', listenTextResolver });
    }
  }
  return (http.server.address() as AddressInfo).port;
}
