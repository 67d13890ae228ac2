import { DEFAULT_OPTIONS, DEFAULT_OUTAGE_BUFFER, DEFAULT_REDIS_PREFIX, LOG_LEVELS } from './options.js';
import {
  parseBoolean,
  parseByteSize,
  parseCorsOrigin,
  parseDeviceTtl,
  parseLimit,
  parseLogLevel,
  parsePort,
  parsePositiveInteger,
  parsePresence,
  parseRedisDatabase,
  parseRedisUrl,
  parseTrustProxy,
  parseWorkers,
} from './parse.js';

/** What every entry of {@link OPTION_TABLE} says, whatever its kind. */
interface OptionSpecBase {
  /** commander's flags: an optional short flag, the long flag, and `<arg>` for an option that takes a value. */
  readonly flags: string;
  /** The environment variable read when the flag is not given. */
  readonly env: string;
  /** The option's line in `--help`, plain text; the default and the variable are added to it. */
  readonly help: string;
  /** The README's "meaning" cell, in Markdown, where it says more than {@link help}. */
  readonly readme?: string;
  /** The README's "default" cell, where the default is not a value to print as it is (`all interfaces`). */
  readonly readmeDefault?: string;
}

/** An option that takes a value: `--port 8080`, or `PORT=8080`. */
export interface ValueOptionSpec extends OptionSpecBase {
  readonly kind: 'value';
  /**
   * Turns the text of the flag or the variable into the value, throwing an OptionError that says what is
   * wrong. Without one, the text is the value. Not together with {@link choices}: commander checks choices
   * with a parser of its own.
   */
  readonly parse?: (value: string) => unknown;
  /** The only values allowed, listed in `--help`. */
  readonly choices?: readonly string[];
  /** The value when neither the flag nor the variable is given, shown in `--help`; without it, undefined. */
  readonly default?: unknown;
}

/**
 * A boolean option. A `switch` is off unless given (`--https`, `HTTPS=true`); a `negated` switch is on
 * unless given (`--no-fast-path`), and its variable names what it turns off (`FAST_PATH=off`). The
 * variable takes true/false, 1/0, yes/no or on/off.
 */
export interface SwitchOptionSpec extends OptionSpecBase {
  readonly kind: 'switch' | 'negated';
}

/** One command-line option: its flags, variable, default, help and parser. */
export type OptionSpec = ValueOptionSpec | SwitchOptionSpec;

/**
 * Every option of the command line, in the order of `--help` and of the README's table, keyed by the name
 * commander gives its value (`--max-id-length` → `maxIdLength`, `--no-fast-path` → `fastPath`). The CLI
 * builds its program from it, the README's table is generated from it (`npm run generate`), and the tests clear
 * its variables for their child processes. Cross-option rules (`--cert` with `--key`, …) live in the CLI.
 */
export const OPTION_TABLE = {
  port: {
    kind: 'value',
    flags: '-p, --port <port>',
    env: 'PORT',
    help: 'port to listen on (0 = any free port)',
    readme: 'port to listen on; `0` picks a free one',
    parse: parsePort,
    default: DEFAULT_OPTIONS.port,
  },
  host: {
    kind: 'value',
    flags: '-H, --host <host>',
    env: 'HOST',
    help: 'interface to bind (default: all interfaces)',
    readme: 'interface to bind (dual-stack `::`, or `0.0.0.0` without IPv6)',
    readmeDefault: 'all interfaces',
  },
  https: {
    kind: 'switch',
    flags: '-S, --https',
    env: 'HTTPS',
    help: 'serve HTTPS (TLS 1.2 and 1.3 only); without --cert/--key a self-signed certificate is generated and cached',
    readme: 'serve HTTPS (TLS 1.2 and 1.3 only); without `--cert/--key` a self-signed certificate is used',
  },
  cert: {
    kind: 'value',
    flags: '--cert <file>',
    env: 'TLS_CERT',
    help: 'PEM certificate for HTTPS (implies --https)',
    readme: 'PEM certificate, given together with `--key`; implies `--https`',
  },
  key: {
    kind: 'value',
    flags: '--key <file>',
    env: 'TLS_KEY',
    help: 'PEM private key for HTTPS (implies --https)',
    readme: 'PEM private key of `--cert`',
  },
  certDir: {
    kind: 'value',
    flags: '--cert-dir <dir>',
    env: 'CERT_DIR',
    // The default is the certs/ folder of the installed package, which only the running CLI knows.
    help: 'where the self-signed certificate is cached',
    readmeDefault: '`<package>/certs`',
  },
  verbose: {
    kind: 'switch',
    flags: '-v, --verbose',
    env: 'VERBOSE',
    help: 'log at debug level (same as --log-level debug)',
    readme: 'log at `debug` (connects, disconnects, rejected requests)',
  },
  logLevel: {
    kind: 'value',
    flags: '--log-level <level>',
    env: 'LOG_LEVEL',
    help: `one of ${LOG_LEVELS.join(', ')}`,
    readme: LOG_LEVELS.map((level) => `\`${level}\``).join(', '),
    parse: parseLogLevel,
    default: DEFAULT_OPTIONS.logLevel,
  },
  logFormat: {
    kind: 'value',
    flags: '--log-format <format>',
    env: 'LOG_FORMAT',
    help: 'json, pretty, or auto (pretty when stdout is a terminal)',
    readme: '`json` lines, `pretty`, or `auto` (pretty when stdout is a terminal)',
    choices: ['auto', 'json', 'pretty'],
    default: 'auto',
  },
  maxPayload: {
    kind: 'value',
    flags: '--max-payload <bytes>',
    env: 'MAX_PAYLOAD',
    help: 'largest message or HTTP body (e.g. 1mb, 512kb); a socket sending more is disconnected',
    readme: 'largest message or HTTP body (`512kb`, `1mb`, `1mib` work); a socket that sends more is disconnected, an HTTP body gets `413`',
    parse: parseByteSize,
    default: DEFAULT_OPTIONS.maxPayload,
  },
  corsOrigin: {
    kind: 'value',
    flags: '--cors-origin <list>',
    env: 'CORS_ORIGIN',
    help: "origins allowed for long-polling: '*' or a comma-separated list",
    readme: 'origins allowed for long-polling, comma-separated; `*` allows all, as the original did',
    parse: parseCorsOrigin,
    default: DEFAULT_OPTIONS.corsOrigin,
  },
  maxRooms: {
    kind: 'value',
    flags: '--max-rooms <n>',
    env: 'MAX_ROOMS',
    help: 'rooms one socket may be in at once',
    readme: 'rooms one socket may be in at once; past it JOIN fails with `LIMIT`',
    parse: (value: string) => parsePositiveInteger(value, 'max rooms'),
    default: DEFAULT_OPTIONS.maxRoomsPerSocket,
  },
  maxIdLength: {
    kind: 'value',
    flags: '--max-id-length <n>',
    env: 'MAX_ID_LENGTH',
    help: 'longest room id, lobby id, display name or dynamic namespace name',
    readme:
      'longest room id, lobby id or display name, and name of a dynamic (`/<prefix><name>`) namespace, the slash included: a longer CONNECT is `LIMIT` before a namespace exists',
    parse: (value: string) => parsePositiveInteger(value, 'max id length'),
    default: DEFAULT_OPTIONS.maxIdLength,
  },
  maxEventName: {
    kind: 'value',
    flags: '--max-event-name <n>',
    env: 'MAX_EVENT_NAME',
    help: 'longest event name a client may send',
    readme: 'longest event name a client may send; a longer one is answered `BAD_REQUEST`',
    parse: (value: string) => parsePositiveInteger(value, 'max event name'),
    default: DEFAULT_OPTIONS.maxEventNameLength,
  },
  maxLobbyMembers: {
    kind: 'value',
    flags: '--max-lobby-members <n>',
    env: 'MAX_LOBBY_MEMBERS',
    help: 'sockets one lobby may hold',
    readme:
      'sockets one lobby may hold (cluster-wide; while a node does not answer within `--cluster-timeout`, the members on the nodes that answered); past it JOIN fails with `LIMIT`',
    parse: (value: string) => parsePositiveInteger(value, 'max lobby members'),
    default: DEFAULT_OPTIONS.maxLobbyMembers,
  },
  maxOutbound: {
    kind: 'value',
    flags: '--max-outbound <bytes>',
    env: 'MAX_OUTBOUND',
    help: 'most bytes a connection may have waiting to be read by its client; past it the connection is closed',
    readme:
      'most bytes a connection may have waiting to be read by its client (at least `--max-payload`); past it the connection is closed, so a client that stops reading costs at most this much',
    parse: parseByteSize,
    default: DEFAULT_OPTIONS.maxOutbound,
  },
  attachmentTimeout: {
    kind: 'value',
    flags: '--attachment-timeout <ms>',
    env: 'ATTACHMENT_TIMEOUT',
    help: "how long a binary packet's attachments may take to arrive, in ms (0 = no deadline)",
    readme:
      "how long a binary packet's attachments may take to arrive after its header, in ms; then the connection is closed (their bytes are bounded by `--max-payload` in all, whatever the deadline); `0` turns the deadline off",
    parse: (value: string) => parseLimit(value, 'attachment timeout'),
    default: DEFAULT_OPTIONS.attachmentTimeout,
  },
  eventRate: {
    kind: 'value',
    flags: '--event-rate <n>',
    env: 'EVENT_RATE',
    help: 'events per second one connection may send on average (0 = no limit)',
    readme:
      'events per second one connection may send on average, all its namespaces together; an event over it is answered `RATE_LIMITED`, and a connection that has `--event-burst` events refused without pausing until its bucket is full again is disconnected (a reconnect from its address starts with that empty bucket); `0` turns it off',
    parse: (value: string) => parseLimit(value, 'event rate'),
    default: DEFAULT_OPTIONS.eventRate,
  },
  eventBurst: {
    kind: 'value',
    flags: '--event-burst <n>',
    env: 'EVENT_BURST',
    help: 'events one connection may send at once above --event-rate',
    readme: 'events one connection may send at once before `--event-rate` applies',
    parse: (value: string) => parsePositiveInteger(value, 'event burst'),
    default: DEFAULT_OPTIONS.eventBurst,
  },
  maxConnectionsPerAddress: {
    kind: 'value',
    flags: '--max-connections-per-address <n>',
    env: 'MAX_CONNECTIONS_PER_ADDRESS',
    help: 'connections one client address may hold on this node (0 = no limit)',
    readme:
      'connections one client address may hold on this node (each `--workers` process counts its own); a connection over it is refused (HTTP `429`, on WebSocket upgrades too); `0` turns it off. Behind a proxy, set `--trust-proxy`',
    parse: (value: string) => parseLimit(value, 'max connections per address'),
    default: DEFAULT_OPTIONS.maxConnectionsPerAddress,
  },
  connectRate: {
    kind: 'value',
    flags: '--connect-rate <n>',
    env: 'CONNECT_RATE',
    help: 'new connections one client address may open per second (0 = no limit)',
    readme:
      'new connections one client address may open per second on this node (bursts up to as many); more are refused (HTTP `429` with `Retry-After`); `0` turns it off',
    parse: (value: string) => parseLimit(value, 'connect rate'),
    default: DEFAULT_OPTIONS.connectRate,
  },
  httpRate: {
    kind: 'value',
    flags: '--http-rate <n>',
    env: 'HTTP_RATE',
    help: 'HTTP requests one client address may make per second, POST /send excepted (0 = no limit)',
    readme:
      'HTTP requests one client address may make per second on this node (bursts up to as many) to every route but the API-keyed `POST /send`; more are answered `429` `RATE_LIMITED` with `Retry-After`; `0` turns it off',
    parse: (value: string) => parseLimit(value, 'http rate'),
    default: DEFAULT_OPTIONS.httpRate,
  },
  maxAuthFailures: {
    kind: 'value',
    flags: '--max-auth-failures <n>',
    env: 'MAX_AUTH_FAILURES',
    help: 'failed authentications one client address may have per minute, cluster-wide (0 = no limit)',
    readme:
      'failed authentications (handshakes, push API keys) one client address may have per minute, cluster-wide; past it attempts are refused with `RATE_LIMITED` before any password check; `0` turns it off',
    parse: (value: string) => parseLimit(value, 'max auth failures'),
    default: DEFAULT_OPTIONS.maxAuthFailures,
  },
  apiToken: {
    kind: 'value',
    flags: '--api-token <token>',
    env: 'API_TOKEN',
    help: 'operator token (Authorization: Bearer) of the roster API of the built-in namespaces; unset turns it off. env:NAME, file:/path or scrypt:<salt>:<hash> keep it off the command line',
    readme:
      "the operator token of the [roster API](#roster-api) of the built-in namespaces (`Authorization: Bearer <token>`); unset, their rosters answer 401. Written like a site's `apiKey`: the token itself, `env:NAME`, `file:/path` or `scrypt:<salt>:<hash>` (prefer the variable or a file to the flag, which `ps` shows)",
    readmeDefault: 'unset (off)',
  },
  metrics: {
    kind: 'negated',
    flags: '--no-metrics',
    env: 'METRICS',
    help: 'serve no GET /metrics and count nothing for it',
    readme:
      'serve no [`GET /metrics`](#metrics) (404) and count nothing for it: for a deployment nobody scrapes. What the metrics cost is in BENCHMARKS.md',
    readmeDefault: 'metrics on',
  },
  metricsToken: {
    kind: 'value',
    flags: '--metrics-token <token>',
    env: 'METRICS_TOKEN',
    help: 'bearer token GET /metrics requires (Authorization: Bearer); unset, the metrics are open. env:NAME, file:/path or scrypt:<salt>:<hash> as for --api-token',
    readme:
      'the token [`GET /metrics`](#metrics) requires (`Authorization: Bearer <token>`, 401 without it); unset, the metrics are open to whoever reaches the port. Written like `API_TOKEN`: the token itself, `env:NAME`, `file:/path` or `scrypt:<salt>:<hash>`',
    readmeDefault: 'unset (open)',
  },
  adminPassword: {
    kind: 'value',
    flags: '--admin-password <password>',
    env: 'ADMIN_PASSWORD',
    help: 'turns on the Admin UI at /admin with this password. env:NAME, file:/path or scrypt:<salt>:<hash> as for --api-token',
    readme:
      'turns on the [Admin UI](#admin-ui) at `/admin` (the page and the `/admin` namespace) with this password; unset, neither exists. Written like `API_TOKEN`: the password itself, `env:NAME`, `file:/path` or `scrypt:<salt>:<hash>`',
    readmeDefault: 'unset (off)',
  },
  adminUsername: {
    kind: 'value',
    flags: '--admin-username <name>',
    env: 'ADMIN_USERNAME',
    help: 'the user name the Admin UI logs in with',
    default: DEFAULT_OPTIONS.adminUsername,
  },
  adminWritable: {
    kind: 'switch',
    flags: '--admin-writable',
    env: 'ADMIN_WRITABLE',
    help: 'lets the Admin UI disconnect sockets and make them join or leave rooms (read-only by default)',
    readme:
      'lets the Admin UI disconnect sockets, make them join or leave rooms and emit to them; by default it only shows (the namespace ignores those actions)',
  },
  adminMode: {
    kind: 'value',
    flags: '--admin-mode <mode>',
    env: 'ADMIN_MODE',
    help: 'production: server stats only; development: every socket, room and event too (costs a listener per socket)',
    readme:
      '`production`: the Admin UI shows each node and its stats; `development`: every socket, its rooms and its events too, at the cost of a listener on every socket and every event (see [Admin UI](#admin-ui))',
    choices: ['production', 'development'],
    default: DEFAULT_OPTIONS.adminMode,
  },
  trustProxy: {
    kind: 'value',
    flags: '--trust-proxy <proxies>',
    env: 'TRUST_PROXY',
    help: "believe X-Forwarded-For from these proxies: a hop count, or addresses/CIDRs ('loopback', '10.0.0.0/8')",
    readme:
      'believe `X-Forwarded-For` from these proxies, for logs and the per-address limits: a hop count, or a comma-separated list of addresses, CIDR ranges and `loopback`, `linklocal`, `uniquelocal`',
    readmeDefault: '— (the peer address is the client)',
    parse: parseTrustProxy,
  },
  config: {
    kind: 'value',
    flags: '-c, --config <file>',
    env: 'CONFIG',
    help: 'sites file (YAML, or JSON if it ends in .json): sites, their auth and API keys, auth of the built-in namespaces',
    readme: 'sites file (YAML, or JSON if the name ends in `.json`); see [Sites](#sites-authentication-and-the-push-api)',
  },
  redis: {
    kind: 'value',
    flags: '-r, --redis <url>',
    env: 'REDIS_URL',
    help: 'scale out: share rooms with every node on this Redis (redis:// or rediss://); default: one process, in memory',
    readme:
      'scale out: every node given the same Redis (and prefix) shares rooms, lobbies and broadcasts; `redis://[:password@]host[:port][/db]` or `rediss://`',
    readmeDefault: '— (one process, in memory)',
    parse: parseRedisUrl,
  },
  database: {
    kind: 'value',
    flags: '-d, --database <n>',
    env: 'REDIS_DB',
    help: 'Redis logical database (with --redis)',
    readme: 'Redis logical database (needs `--redis`)',
    readmeDefault: "the URL's, else `0`",
    parse: parseRedisDatabase,
  },
  redisPrefix: {
    kind: 'value',
    flags: '--redis-prefix <prefix>',
    env: 'REDIS_PREFIX',
    help: 'prefix of the Redis keys and channels; the same on every node of one deployment',
    readme: 'prefix of the Redis stream, keys and channels; the same on every node of one deployment',
    default: DEFAULT_REDIS_PREFIX,
  },
  clusterTimeout: {
    kind: 'value',
    flags: '--cluster-timeout <ms>',
    env: 'CLUSTER_TIMEOUT',
    help: 'how long a cluster-wide lookup (CLIENTS, lobby JOIN, RTCSIGNAL) waits for the other nodes, in ms',
    readme:
      'how long a cluster-wide lookup (CLIENTS, lobby JOIN, RTCSIGNAL) waits for the other nodes (`--redis`, `--workers`), in ms, before it answers from those that did, marked `partial` (see [Scaling out](#scaling-out)). The default: a healthy node answers in a few ms even when busy, and a frozen one then costs a lookup half a second instead of failing it after 5 s',
    parse: (value: string) => parsePositiveInteger(value, 'cluster timeout'),
    default: DEFAULT_OPTIONS.clusterTimeout,
  },
  outageBuffer: {
    kind: 'value',
    flags: '--outage-buffer <bytes>',
    env: 'OUTAGE_BUFFER',
    help: 'broadcasts a node holds while Redis is unreachable, sent once it is back (at most 5000 of them); past it they are refused with UNAVAILABLE',
    readme:
      'with `--redis`: the bytes of broadcasts a node holds, in order, while Redis is unreachable, and sends once it is back (at most 5,000 broadcasts); past it NOTIFY, BROADCAST, `/bus-message`, … are refused with `UNAVAILABLE` (503) instead of being acked and dropped',
    parse: parseByteSize,
    default: DEFAULT_OUTAGE_BUFFER,
  },
  strictReadiness: {
    kind: 'switch',
    flags: '--strict-readiness',
    env: 'STRICT_READINESS',
    help: 'GET /readyz answers 503 while Redis is unreachable too (by default a node cut off from Redis stays ready, degraded)',
    readme:
      '`GET /readyz` answers `503` while the node is cut off from Redis too; by default it answers `200` with a degraded body then, so that a Redis outage does not take every node out of the load balancer',
  },
  drainDelay: {
    kind: 'value',
    flags: '--drain-delay <ms>',
    env: 'DRAIN_DELAY',
    help: 'on SIGTERM, keep serving this long with /readyz at 503 before disconnecting the clients, so that the load balancer stops sending new ones',
    readme:
      "on SIGTERM (or SIGINT), keep serving this many milliseconds with `GET /readyz` at `503` before disconnecting the clients: give it your load balancer's health-check interval × its fall count",
    parse: (value: string) => parseLimit(value, 'drain delay'),
    default: DEFAULT_OPTIONS.drainDelay,
  },
  deviceTtl: {
    kind: 'value',
    flags: '--device-ttl <s>',
    env: 'DEVICE_TTL',
    help: "reliable delivery: seconds a device may stay away before its pending messages are dropped (0 = never); a site's deviceTtl overrides it",
    readme:
      "reliable delivery (sites with a `userRoomPrefix`): seconds a device may stay disconnected before its pending messages are dropped, counted from its last disconnect (a reconnect stops the clock); `0` keeps them until the device is evicted; a site's `deviceTtl` overrides it. Sent to clients as `_settings { device_ttl }`",
    parse: parseDeviceTtl,
    default: DEFAULT_OPTIONS.deviceTtl,
  },
  deviceQueue: {
    kind: 'value',
    flags: '--device-queue <n>',
    env: 'DEVICE_QUEUE',
    help: 'reliable delivery: messages one device may have pending; past it the oldest are dropped and the device told to resync',
    readme:
      'reliable delivery: messages one device may have pending (also at most half of `--max-outbound` in bytes, so that its `_batch` fits the connection); past it the oldest are dropped and the device gets `_resync` when it next connects',
    parse: (value: string) => parsePositiveInteger(value, 'device queue'),
    default: DEFAULT_OPTIONS.deviceQueue,
  },
  maxDevices: {
    kind: 'value',
    flags: '--max-devices <n>',
    env: 'MAX_DEVICES',
    help: 'reliable delivery: devices one user of a site may have queues for; a new one past it evicts the one away longest',
    readme:
      'reliable delivery: devices one user of a site may have queues for; a new one past it makes the service forget the device away longest (else the one connected longest) with its pending messages',
    parse: (value: string) => parsePositiveInteger(value, 'max devices'),
    default: DEFAULT_OPTIONS.maxDevices,
  },
  recoveryWindow: {
    kind: 'value',
    flags: '--recovery-window <ms>',
    env: 'RECOVERY_WINDOW',
    help: 'how long a client whose connection dropped may come back and recover its session (id, rooms, name, missed broadcasts), in ms; 0 turns recovery off',
    readme:
      'how long (ms) a client whose connection dropped may reconnect and recover its session: the same socket id, its rooms, its name and every broadcast it missed, in order (`socket.recovered === true`); `0` turns recovery off. See [Recovering a dropped connection](#recovering-a-dropped-connection)',
    parse: (value: string) => parseLimit(value, 'recovery window'),
    default: DEFAULT_OPTIONS.recoveryWindow,
  },
  recoveryBuffer: {
    kind: 'value',
    flags: '--recovery-buffer <bytes>',
    env: 'RECOVERY_BUFFER',
    help: 'without --redis: the bytes of broadcasts the process keeps for recovery, all namespaces together (at most 100000 per namespace); a client whose missed broadcasts were dropped gets a clean session',
    readme:
      'without `--redis`: the bytes of broadcasts the process keeps for recovery, all namespaces together, oldest of the namespace that adds first dropped (at most 100,000 broadcasts per namespace, none older than the window); a client that missed a dropped one is not recovered but gets a clean session. With `--redis` the Redis stream keeps them (its last 10,000 entries)',
    parse: parseByteSize,
    default: DEFAULT_OPTIONS.recoveryBuffer,
  },
  presence: {
    kind: 'value',
    flags: '--presence <namespaces>',
    env: 'PRESENCE',
    help: "built-in namespaces whose room members get PRESENCE events (joined, left, renamed): 'layout', 'bus' or 'layout,bus'",
    readme:
      'built-in namespaces whose room members get `PRESENCE { room, event, id, name, userId }` when another member joins, leaves or is renamed: `layout`, `bus` or `layout,bus` (sites: `presence: true` in the sites file). See [Presence](#presence)',
    readmeDefault: 'off',
    parse: parsePresence,
  },
  workers: {
    kind: 'value',
    flags: '--workers <n>',
    env: 'WORKERS',
    help: "processes on this machine sharing the port (node:cluster): an integer, or 'auto' for one per CPU core",
    readme:
      'processes on this machine sharing the port (`node:cluster`); an integer ≥ 1 or `auto` (one per CPU core); see [Scaling out](#scaling-out). HTTP only (no `--https`)',
    parse: parseWorkers,
    default: 1,
  },
  fastPath: {
    kind: 'negated',
    flags: '--no-fast-path',
    env: 'FAST_PATH',
    help: "run on the libraries' own code paths only, without the patches of lib/engine/",
    readme: "run on the libraries' own code paths only, without the patches of `lib/engine/`: slower, with the same behaviour",
    readmeDefault: 'fast paths on',
  },
} as const satisfies Record<string, OptionSpec>;

/** The key of an option in {@link OPTION_TABLE}, which is also the name of its value in {@link CliFlags}. */
export type OptionName = keyof typeof OPTION_TABLE;

/** The table's entries, in its order. */
export const OPTION_ENTRIES = Object.entries(OPTION_TABLE) as readonly (readonly [OptionName, OptionSpec])[];

/** The flags of commander's built-in options, which are not in the table but in `--help` and the README. */
export const BUILTIN_FLAGS = { version: '-V, --version', help: '-h, --help' } as const;

/**
 * The value type of one entry: what its parser returns, or one of its choices, or the text; or its
 * default, or undefined when it has none. A switch is always true or false.
 */
type FlagValue<S> = S extends ValueOptionSpec
  ? | (S extends { readonly parse: (value: string) => infer T } ? T : S extends { readonly choices: readonly (infer C)[] } ? C : string)
    | (S extends { readonly default: infer D } ? D : undefined)
  : boolean;

/** The options of one command line, typed from {@link OPTION_TABLE}. */
export type CliFlags = { readonly [K in OptionName]: FlagValue<(typeof OPTION_TABLE)[K]> };

/** How `--help` and the README name a variable: `PORT`, or the setting that does what the switch does (`HTTPS=true`, `FAST_PATH=off`). */
export function envSetting(spec: OptionSpec): string {
  if (spec.kind === 'switch') return `${spec.env}=true`;
  if (spec.kind === 'negated') return `${spec.env}=off`;
  return spec.env;
}

/**
 * The options of one command line, from commander's values: the value options as commander parsed them
 * (from the flag, else the variable, with the entry's parser), the switches from the command line, else
 * from their variable. commander would take any value of a switch's variable as true (`HTTPS=false`
 * turning HTTPS on), so those variables are parsed here, and a value that is neither true nor false is an
 * OptionError.
 *
 * @param values - commander's `opts()`.
 * @param given - whether an option was given on the command line (commander's value source `cli`).
 * @param env - the environment, usually `process.env`.
 * @example
 * readFlags(program.opts(), (name) => program.getOptionValueSource(name) === 'cli', process.env).https
 */
export function readFlags(
  values: Readonly<Record<string, unknown>>,
  given: (name: OptionName) => boolean,
  env: NodeJS.ProcessEnv,
): CliFlags {
  const flags: Record<string, unknown> = { ...values };
  for (const [name, spec] of OPTION_ENTRIES) {
    if (spec.kind === 'value') continue;
    const text = env[spec.env];
    if (given(name)) flags[name] = values[name] === true;
    // An empty variable (`FAST_PATH: ${FAST_PATH}` in a compose file) is unset, not false.
    else flags[name] = text === undefined || text.trim() === '' ? spec.kind === 'negated' : parseBoolean(text, spec.env);
  }
  // The value options are commander's, produced by the parsers and defaults the table's types are read from.
  return flags as CliFlags;
}
