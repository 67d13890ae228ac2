#!/usr/bin/env node
/**
 * The command line: flags and environment → options, start, signals, exit codes. Nothing else.
 * Exit codes: 0 after a clean shutdown, 1 when the service fails at run time (port in use, …),
 * 2 for invalid flags or environment.
 */
import { accessSync, constants } from 'node:fs';
import cluster from 'node:cluster';
import { join } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import type { Logger } from 'pino';
import { createApp, type App } from './lib/app.js';
import { createCluster } from './lib/cluster/index.js';
import { createLogger } from './lib/runtime/logger.js';
import { OptionError } from './lib/config/errors.js';
import { DEFAULT_OPTIONS, DEFAULT_REDIS_PREFIX, LOG_LEVELS, type LogLevel, type ServiceOptions } from './lib/config/options.js';
import {
  parseBoolean,
  parseByteSize,
  parseCorsOrigin,
  parseLogLevel,
  parsePort,
  parsePositiveInteger,
  parseRedisDatabase,
  parseRedisUrl,
  parseWorkers,
} from './lib/config/parse.js';
import { packageRoot, packageVersion } from './lib/runtime/package.js';
import { sitesFromEnv } from './lib/config/sites-env.js';
import { loadSitesFile } from './lib/config/sites-file.js';
import { isWorkerProcess, serveWorker, startPrimary, workerId, type Primary } from './lib/runtime/worker-processes.js';

/** Exit code for a usage error: a bad flag, environment variable or file. */
const EXIT_USAGE = 2;
/** Graceful shutdown must finish within this; the process exits 1 past it. */
const SHUTDOWN_DEADLINE_MS = 5000;

/** Adapts an options.ts parser to commander, which expects InvalidArgumentError. */
function arg<T>(parse: (value: string) => T): (value: string) => T {
  return (value) => {
    try {
      return parse(value);
    } catch (err) {
      throw new InvalidArgumentError(err instanceof Error ? err.message : String(err));
    }
  };
}

const EXAMPLES = `
Examples:
  $ realtime-rooms                              HTTP on port 3000, all interfaces
  $ realtime-rooms --https                      HTTPS with a cached self-signed certificate
  $ realtime-rooms -S --cert tls.crt --key tls.key -p 8443
  $ PORT=8080 LOG_LEVEL=debug realtime-rooms    the same flags as environment variables
  $ node dist/server.js --https --cors-origin https://app.example.com
  $ realtime-rooms --config sites.yml           sites with their own namespace, auth and API key
  $ SITE_NAME=shop AUTH_URL=https://shop.example.com/api/rooms API_KEY=env:SHOP_KEY realtime-rooms
  $ realtime-rooms -r redis://redis:6379 -d 2      one node of a cluster: run as many as you like on one Redis
  $ realtime-rooms --workers auto                 one process per CPU core on this port (add -r to span machines)

Single site from the environment: SITE_NAME, AUTH_URL, AUTH_SCHEME (default Bearer), AUTH_TIMEOUT_MS,
API_KEY, USER_ROOM_PREFIX, UPDATE_USER_URL. Secrets may be written as env:NAME, file:/path or scrypt:<salt>:<hash>.

Namespaces: /layout, /bus, /lobby, /trigger. HTTP: GET /healthcheck (liveness), GET /readyz (readiness: 503
while Redis is unreachable), POST /bus-message/:room, POST /send?site=<site>.
Clients of an HTTPS server with a self-signed certificate connect with { rejectUnauthorized: false }.
Flags win over environment variables. Exit codes: 0 clean shutdown, 1 runtime failure, 2 usage error.`;

function buildProgram(): Command {
  return new Command('realtime-rooms')
    .description('Realtime room and lobby messaging over Socket.IO (successor of the 2-IMMERSE websocket service).')
    .version(packageVersion, '-V, --version', 'print the version and exit')
    .helpOption('-h, --help', 'show this help and exit')
    .addOption(new Option('-p, --port <port>', 'port to listen on (0 = any free port)').env('PORT').default(DEFAULT_OPTIONS.port).argParser(arg(parsePort)))
    .addOption(new Option('-H, --host <host>', 'interface to bind (default: all interfaces)').env('HOST'))
    .addOption(new Option('-S, --https', 'serve HTTPS; without --cert/--key a self-signed certificate is generated and cached [env: HTTPS=true]'))
    .addOption(new Option('--cert <file>', 'PEM certificate for HTTPS (implies --https)').env('TLS_CERT'))
    .addOption(new Option('--key <file>', 'PEM private key for HTTPS (implies --https)').env('TLS_KEY'))
    .addOption(new Option('--cert-dir <dir>', 'where the self-signed certificate is cached').env('CERT_DIR').default(join(packageRoot, 'certs')))
    .addOption(new Option('-v, --verbose', 'log at debug level (same as --log-level debug) [env: VERBOSE=true]'))
    .addOption(new Option('--log-level <level>', `one of ${LOG_LEVELS.join(', ')}`).env('LOG_LEVEL').default(DEFAULT_OPTIONS.logLevel).argParser(arg(parseLogLevel)))
    .addOption(new Option('--log-format <format>', 'json, pretty, or auto (pretty when stdout is a terminal)').env('LOG_FORMAT').choices(['auto', 'json', 'pretty']).default('auto'))
    .addOption(new Option('--max-payload <bytes>', 'largest message or HTTP body (e.g. 1mb, 512kb); a socket sending more is disconnected').env('MAX_PAYLOAD').default(DEFAULT_OPTIONS.maxPayload).argParser(arg(parseByteSize)))
    .addOption(new Option('--cors-origin <list>', "origins allowed for long-polling: '*' or a comma-separated list").env('CORS_ORIGIN').default(DEFAULT_OPTIONS.corsOrigin).argParser(arg(parseCorsOrigin)))
    .addOption(new Option('--max-rooms <n>', 'rooms one socket may be in at once').env('MAX_ROOMS').default(DEFAULT_OPTIONS.maxRoomsPerSocket).argParser(arg((v) => parsePositiveInteger(v, 'max rooms'))))
    .addOption(new Option('--max-id-length <n>', 'longest room id, lobby id or display name').env('MAX_ID_LENGTH').default(DEFAULT_OPTIONS.maxIdLength).argParser(arg((v) => parsePositiveInteger(v, 'max id length'))))
    .addOption(new Option('-c, --config <file>', 'sites file (YAML, or JSON if it ends in .json): sites, their auth and API keys, auth of the built-in namespaces').env('CONFIG'))
    .addOption(new Option('-r, --redis <url>', 'scale out: share rooms with every node on this Redis (redis:// or rediss://); default: one process, in memory').env('REDIS_URL').argParser(arg(parseRedisUrl)))
    .addOption(new Option('-d, --database <n>', 'Redis logical database (with --redis)').env('REDIS_DB').argParser(arg(parseRedisDatabase)))
    .addOption(new Option('--workers <n>', "processes on this machine sharing the port (node:cluster): an integer, or 'auto' for one per CPU core").env('WORKERS').default(1).argParser(arg(parseWorkers)))
    .addOption(new Option('--no-fast-path', 'run on the libraries\' own code paths only, without the patches of lib/engine/ [env: FAST_PATH=off]'))
    .addOption(new Option('--redis-prefix <prefix>', 'prefix of the Redis keys and channels; the same on every node of one deployment').env('REDIS_PREFIX').default(DEFAULT_REDIS_PREFIX))
    .addHelpText('after', EXAMPLES)
    .showSuggestionAfterError()
    .allowExcessArguments(false)
    .exitOverride((err) => {
      process.exit(err.exitCode === 0 ? 0 : EXIT_USAGE);
    });
}

interface ParsedFlags {
  port: number;
  host?: string;
  https?: true;
  cert?: string;
  key?: string;
  certDir: string;
  verbose?: true;
  logLevel: LogLevel;
  logFormat: 'auto' | 'json' | 'pretty';
  maxPayload: number;
  corsOrigin: '*' | string[];
  maxRooms: number;
  maxIdLength: number;
  config?: string;
  redis?: string;
  database?: number;
  redisPrefix: string;
  workers: number;
  /** false with --no-fast-path; commander sets the negated flag's default to true. */
  fastPath: boolean;
}

/** Turns parsed flags (plus the boolean env variables commander cannot parse safely) into service options. */
function toServiceOptions(program: Command, env: NodeJS.ProcessEnv): ServiceOptions {
  const flags = program.opts<ParsedFlags>();
  // commander treats any set env value of a boolean flag as true (HTTPS=false would enable it), so
  // boolean variables are read here with explicit true/false values.
  const https = flags.https ?? (env.HTTPS !== undefined && parseBoolean(env.HTTPS, 'HTTPS'));
  const verbose = flags.verbose ?? (env.VERBOSE !== undefined && parseBoolean(env.VERBOSE, 'VERBOSE'));
  const fastPath = program.getOptionValueSource('fastPath') === 'cli' ? flags.fastPath : env.FAST_PATH === undefined || parseBoolean(env.FAST_PATH, 'FAST_PATH');
  if ((flags.cert === undefined) !== (flags.key === undefined)) {
    throw new OptionError('--cert and --key must be given together');
  }
  if (flags.cert !== undefined && flags.key !== undefined) {
    assertReadable(flags.cert, '--cert');
    assertReadable(flags.key, '--key');
  }
  // Read before the logger exists and validated whole: a bad sites file is a usage error, never half-loaded.
  const envSite = sitesFromEnv(env);
  if (flags.config !== undefined && envSite !== undefined) {
    throw new OptionError('give the sites either in --config or with SITE_NAME and its variables, not both');
  }
  const access = flags.config !== undefined ? loadSitesFile(flags.config, env) : (envSite ?? DEFAULT_OPTIONS.access);
  if (flags.database !== undefined && flags.redis === undefined) {
    throw new OptionError('--database (REDIS_DB) needs --redis (REDIS_URL)');
  }
  if (flags.redisPrefix.trim() === '') throw new OptionError('--redis-prefix must not be empty');
  const logLevel = verbose && program.getOptionValueSource('logLevel') !== 'cli' ? 'debug' : flags.logLevel;
  return {
    port: flags.port,
    host: flags.host,
    tls:
      flags.cert !== undefined && flags.key !== undefined
        ? { kind: 'files', certFile: flags.cert, keyFile: flags.key }
        : https
          ? { kind: 'self-signed', cacheDir: flags.certDir }
          : undefined,
    logLevel,
    prettyLogs: flags.logFormat === 'pretty' || (flags.logFormat === 'auto' && process.stdout.isTTY === true),
    maxPayload: flags.maxPayload,
    corsOrigin: flags.corsOrigin,
    maxRoomsPerSocket: flags.maxRooms,
    maxIdLength: flags.maxIdLength,
    access,
    redis: flags.redis === undefined ? undefined : { url: flags.redis, database: flags.database, prefix: flags.redisPrefix },
    fastPath,
  };
}

function assertReadable(file: string, flag: string): void {
  try {
    accessSync(file, constants.R_OK);
  } catch (err) {
    throw new OptionError(`cannot read ${flag} file '${file}' (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

function describeListenError(err: unknown, options: ServiceOptions): string | undefined {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const where = `${options.host ?? 'all interfaces'} port ${options.port}`;
  if (code === 'EADDRINUSE') return `port ${options.port} is already in use (${where}); choose another with --port`;
  if (code === 'EACCES') return `no permission to listen on ${where}; use a port above 1023 or grant the capability`;
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') return `cannot bind host '${options.host ?? ''}': no such local address`;
  return undefined;
}

/** What a signal stops: the service of this process, or the primary of `--workers`. */
interface Stoppable {
  readonly log: Logger;
  close(): Promise<void>;
}

/**
 * SIGTERM/SIGINT stop `target` gracefully (a second signal exits at once). Returns a function that starts
 * the same shutdown for another reason (a worker asked by its primary); it does nothing once stopping.
 */
function handleSignals(target: Stoppable): (reason: string) => void {
  let stopping = false;
  const shutdown = (fields: Record<string, string>): void => {
    stopping = true;
    target.log.info(fields, 'shutting down: disconnecting clients');
    setTimeout(() => {
      target.log.error(`shutdown did not finish within ${SHUTDOWN_DEADLINE_MS} ms; exiting`);
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS).unref();
    target.close().then(
      () => {
        target.log.info('stopped');
        process.exit(0);
      },
      (err: unknown) => {
        target.log.error({ err }, 'error while shutting down');
        process.exit(1);
      },
    );
  };
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) {
      target.log.warn({ signal }, 'second signal: exiting immediately');
      process.exit(1);
    }
    shutdown({ signal });
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  return (reason) => {
    if (!stopping) shutdown({ reason });
  };
}

async function main(): Promise<void> {
  const program = buildProgram();
  program.parse();
  let options: ServiceOptions;
  let app: App;
  const worker = isWorkerProcess();
  try {
    options = toServiceOptions(program, process.env);
    const { workers } = program.opts<ParsedFlags>();
    if (workers > 1 && options.tls) {
      throw new OptionError('--workers above 1 serves plain HTTP only: terminate TLS in front of it (see README "Scaling out") or use --workers 1');
    }
    if (workers > 1 && cluster.isPrimary) return await runPrimary(options, workers);
    if (worker) {
      // Every log line of a worker names it; the workers share rooms through the primary unless Redis does it.
      const log = createLogger({ level: options.logLevel, pretty: options.prettyLogs }).child({ worker: workerId() });
      app = await createApp(options, { log, ...(options.redis ? {} : { cluster: createCluster({ mode: 'workers' }, log) }) });
    } else {
      // createApp reads the --cert/--key files: a file that is not a usable PEM pair is a usage error too.
      app = await createApp(options);
    }
  } catch (err) {
    if (!(err instanceof OptionError)) throw err;
    process.stderr.write(`error: ${err.message}\n`);
    process.exit(EXIT_USAGE);
  }

  process.on('uncaughtException', (err) => {
    app.log.fatal({ err }, 'uncaught exception; exiting');
    process.exit(1);
  });
  if (worker) {
    const stop = handleSignals(app);
    await serveWorker(app, () => stop('asked by the primary'));
    return;
  }
  try {
    await app.listen();
  } catch (err) {
    const reason = describeListenError(err, options);
    if (!reason) throw err;
    process.stderr.write(`error: ${reason}\n`);
    process.exit(1);
  }
  handleSignals(app);
}

/** `--workers` above 1, in the primary: fork the workers, listen, and stop with them. */
async function runPrimary(options: ServiceOptions, workers: number): Promise<void> {
  const log = createLogger({ level: options.logLevel, pretty: options.prettyLogs }).child({ role: 'primary' });
  let primary: Primary;
  try {
    primary = await startPrimary({ port: options.port, host: options.host, workers }, log);
  } catch (err) {
    const reason = describeListenError(err, options);
    process.stderr.write(`error: ${reason ?? (err instanceof Error ? err.message : String(err))}\n`);
    process.exit(1);
  }
  handleSignals(primary);
  void primary.lost.then((exit) => {
    // Its connections are gone and sticky sessions point at it: fail loudly and let the supervisor restart us.
    log.fatal(exit, `worker ${exit.worker} exited unexpectedly; stopping`);
    const exit1 = (): never => process.exit(1);
    primary.close().then(exit1, exit1);
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
