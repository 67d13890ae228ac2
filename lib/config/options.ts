import { DEFAULT_MAX_ID_LENGTH } from '../../protocol/index.js';
import type { ServiceLimits } from '../core/types.js';
import type { AccessConfig, PresenceBuiltin } from './access.js';
import type { Secret } from './secrets.js';

/** pino levels accepted by `--log-level`. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
/** One of {@link LOG_LEVELS}. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** How the service gets its TLS material when HTTPS is on. */
export type TlsSource =
  | { readonly kind: 'files'; readonly certFile: string; readonly keyFile: string }
  | { readonly kind: 'self-signed'; readonly cacheDir: string | undefined };

/**
 * Everything `createApp` needs. Built by the CLI from flags and env, or directly by embedders and tests.
 * Its {@link ServiceLimits} (payload, room and id limits) are documented there.
 */
export interface ServiceOptions extends ServiceLimits {
  /** TCP port; 0 picks a free one (see `listen()`'s result). */
  readonly port: number;
  /** Interface to bind; undefined binds all interfaces (IPv6 and IPv4 where available). */
  readonly host: string | undefined;
  /** Serve HTTPS instead of HTTP. */
  readonly tls: TlsSource | undefined;
  readonly logLevel: LogLevel;
  /** Pretty, human-readable logs instead of JSON lines. */
  readonly prettyLogs: boolean;
  /** Allowed browser origins for HTTP long-polling: `'*'` or a list. */
  readonly corsOrigin: '*' | readonly string[];
  /** Sites (namespaces with their own auth and API key) and the auth of the built-in namespaces. */
  readonly access: AccessConfig;
  /** Redis to scale out across processes and machines; undefined keeps the in-memory adapter (one process). */
  readonly redis: RedisOptions | undefined;
  /**
   * How long, in ms, a cluster-wide lookup (CLIENTS, lobby JOIN, RTCSIGNAL) waits for the other nodes
   * (Redis or `--workers`); then it answers from the nodes that answered and says the answer is partial.
   * Unused in one process.
   */
  readonly clusterTimeout: number;
  /**
   * Whether the fast paths of lib/engine/ (patches of Socket.IO, Engine.IO and ws internals) are installed.
   * Off runs everything on the libraries' own code paths: slower, with the same behaviour.
   */
  readonly fastPath: boolean;
  /**
   * Most bytes a connection may have written but not yet taken by its client (queued in Engine.IO, in the
   * long-polling buffer, or in its socket). Past it the connection is closed: one stalled reader costs at
   * most this much, whatever is sent to it.
   */
  readonly maxOutbound: number;
  /** How long, in ms, a binary packet's attachments may take to arrive after its header; then the connection is closed. 0: no deadline. */
  readonly attachmentTimeout: number;
  /** Events per second one connection may send on average (its token bucket's refill); 0 turns the limit off. */
  readonly eventRate: number;
  /** Events one connection may send at once, above the rate (its token bucket's size). */
  readonly eventBurst: number;
  /** Connections one client address may hold at once on this node; 0 turns the limit off. */
  readonly maxConnectionsPerAddress: number;
  /** New connections one client address may open per second (bursts up to that many); 0 turns the limit off. */
  readonly connectRate: number;
  /**
   * HTTP requests one client address may make per second (bursts up to that many) to the routes other than
   * the API-keyed `POST /send`; 0 turns the limit off.
   */
  readonly httpRate: number;
  /**
   * Failed authentications (handshakes, push API keys) one client address may have per minute, across the
   * cluster; past it the next attempt is refused with `RATE_LIMITED` before any password hash or backend
   * call. 0 turns the limit off.
   */
  readonly maxAuthFailures: number;
  /**
   * The operator token (`API_TOKEN`) that opens the roster API of the built-in namespaces; undefined turns
   * their rosters off (sites use their own `apiKey`).
   */
  readonly apiToken: Secret | undefined;
  /** Whether `GET /metrics` is served and counted; off, the hooks and broadcasts carry no metrics subscribers. */
  readonly metrics: boolean;
  /**
   * The bearer token `GET /metrics` requires, in any form {@link Secret} takes; undefined leaves the metrics
   * open (they name no room, user or socket, but do tell load and error rates).
   */
  readonly metricsToken: Secret | undefined;
  /** The Admin UI's password (lib/admin/); undefined: no `/admin` page and no `/admin` namespace. */
  readonly adminPassword: Secret | undefined;
  /** The user name the Admin UI logs in with. */
  readonly adminUsername: string;
  /** Whether the Admin UI may act on sockets (disconnect, join, leave, emit); read-only otherwise. */
  readonly adminWritable: boolean;
  /** admin-ui's mode: `development` adds every socket, room and event to the server stats of `production`. */
  readonly adminMode: 'production' | 'development';
  /**
   * Which peers are proxies whose `X-Forwarded-For` is believed: a hop count, or addresses and CIDR ranges
   * (`loopback`, `linklocal`, `uniquelocal` name the usual ones). Undefined believes none: the client's
   * address is the peer's.
   */
  readonly trustProxy: TrustProxy | undefined;
  /** `/readyz` answers 503 while the node is cut off from Redis, as well as while starting and draining. */
  readonly strictReadiness: boolean;
  /** On shutdown, how long (ms) the node keeps serving its clients with `/readyz` at 503 before it disconnects them. */
  readonly drainDelay: number;
  /**
   * Reliable delivery (sites with a `userRoomPrefix`): seconds a device may stay away before its pending
   * messages are dropped (a site's `deviceTtl` overrides it); 0 keeps them until the device is evicted.
   */
  readonly deviceTtl: number;
  /**
   * Messages one device's queue holds at most (and, separately, half of `maxOutbound` in bytes, so that its
   * `_batch` always fits the connection); past it the oldest are dropped and the device is told to resync.
   */
  readonly deviceQueue: number;
  /** Devices one user of a site may have queues for; a new one past it evicts the one away longest. */
  readonly maxDevices: number;
  /**
   * How long, in ms, a client that lost its connection may come back and recover it (Socket.IO's
   * connection-state recovery: its id, rooms, name and every broadcast it missed); 0 turns recovery off.
   */
  readonly recoveryWindow: number;
  /**
   * Bytes of broadcasts one process keeps for recovery, all namespaces together (and at most
   * {@link RECOVERY_MAX_PACKETS} per namespace), in memory mode; with `--redis` the Redis stream keeps them.
   */
  readonly recoveryBuffer: number;
  /**
   * The built-in namespaces whose room members get `PRESENCE` events (`--presence layout,bus`); none by
   * default. Sites turn it on in the sites file (`presence: true`).
   */
  readonly presence: readonly PresenceBuiltin[];
}

/** {@link ServiceOptions.trustProxy}: how many proxies to believe, or which. */
export type TrustProxy = number | readonly string[];

/** How the service reaches Redis in cluster mode (`--redis`). */
export interface RedisOptions {
  /** `redis://[user:password@]host[:port][/db]` or `rediss://…` for TLS. */
  readonly url: string;
  /** Logical database (`SELECT n`); undefined keeps the URL's (or 0). */
  readonly database: number | undefined;
  /**
   * Prefix of every key and channel the service uses, so that several deployments (or tests) can share
   * one Redis. Nodes of one deployment must use the same prefix.
   */
  readonly prefix: string;
  /**
   * Bytes of broadcasts a node holds while Redis is unreachable, sent once it is back (also at most
   * 5,000 of them: lib/cluster/stream-outbox.ts). Past it broadcasts are refused with `UNAVAILABLE`.
   * Default {@link DEFAULT_OUTAGE_BUFFER}.
   */
  readonly outageBuffer?: number;
}

/** Default {@link RedisOptions.prefix}. */
export const DEFAULT_REDIS_PREFIX = 'realtime-rooms';

/** Default {@link RedisOptions.outageBuffer}: 16 MiB. */
export const DEFAULT_OUTAGE_BUFFER = 16 * 1024 * 1024;

/** Default {@link ServiceOptions.recoveryWindow}: 2 minutes, Socket.IO's own default. */
export const DEFAULT_RECOVERY_WINDOW = 120_000;

/** Default {@link ServiceOptions.recoveryBuffer}: 32 MiB for the process. */
export const DEFAULT_RECOVERY_BUFFER = 32 * 1024 * 1024;

/** How many broadcasts one namespace keeps for recovery at most in memory mode, whatever their size. */
export const RECOVERY_MAX_PACKETS = 100_000;

/** Defaults of every option; the CLI's `--help` shows the same values. */
export const DEFAULT_OPTIONS: ServiceOptions = {
  port: 3000,
  host: undefined,
  tls: undefined,
  logLevel: 'info',
  prettyLogs: false,
  maxPayload: 1_000_000,
  corsOrigin: '*',
  maxRoomsPerSocket: 1000,
  maxIdLength: DEFAULT_MAX_ID_LENGTH,
  maxEventNameLength: 128,
  maxLobbyMembers: 1000,
  access: { sites: [], builtins: {} },
  redis: undefined,
  // A healthy node answers in a Redis round trip (a few ms, even busy); Socket.IO's own 5 s is a stall.
  clusterTimeout: 500,
  fastPath: true,
  maxOutbound: 4_000_000,
  attachmentTimeout: 10_000,
  eventRate: 100,
  eventBurst: 200,
  maxConnectionsPerAddress: 1000,
  connectRate: 50,
  httpRate: 100,
  maxAuthFailures: 30,
  apiToken: undefined,
  metrics: true,
  metricsToken: undefined,
  adminPassword: undefined,
  adminUsername: 'admin',
  adminWritable: false,
  adminMode: 'production',
  trustProxy: undefined,
  strictReadiness: false,
  drainDelay: 0,
  // A phone that is off overnight still finds its messages in the morning.
  deviceTtl: 86_400,
  deviceQueue: 1000,
  maxDevices: 10,
  recoveryWindow: DEFAULT_RECOVERY_WINDOW,
  recoveryBuffer: DEFAULT_RECOVERY_BUFFER,
  presence: [],
};
