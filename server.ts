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
// The service itself (lib/app.js, lib/cluster/index.js) is imported where it runs, not here: a `--workers`
// primary only routes connections, and loading the whole service would cost it some 50 MB for nothing.
import type { App } from './lib/app.js';
import { createLogger } from './lib/runtime/logger.js';
import { OptionError } from './lib/config/errors.js';
import { resolveSecret, SecretError, type Secret } from './lib/config/secrets.js';
import { DEFAULT_OPTIONS, type ServiceOptions } from './lib/config/options.js';
import {
  BUILTIN_FLAGS,
  envSetting,
  OPTION_ENTRIES,
  readFlags,
  type CliFlags,
  type OptionName,
  type OptionSpec,
} from './lib/config/option-table.js';
import { packageRoot, packageVersion } from './lib/runtime/package.js';
import { sitesFromEnv } from './lib/config/sites-env.js';
import { loadSitesFile } from './lib/config/sites-file.js';
import { aggregateWorkerMetrics } from './lib/metrics/cluster-metrics.js';
import { isWorkerProcess, serveWorker, startPrimary, workerId, type Primary } from './lib/runtime/worker-processes.js';

/** Exit code for a usage error: a bad flag, environment variable or file. */
const EXIT_USAGE = 2;
/** Graceful shutdown must finish within this; the process exits 1 past it. */
const SHUTDOWN_DEADLINE_MS = 5000;

/** Defaults that depend on where the package is installed, which the option table cannot know. */
const INSTALL_DEFAULTS: Partial<Record<OptionName, string>> = { certDir: join(packageRoot, 'certs') };

/** Adapts a lib/config/parse.ts parser to commander, which expects InvalidArgumentError. */
function arg(parse: (value: string) => unknown): (value: string) => unknown {
  return (value) => {
    try {
      return parse(value);
    } catch (err) {
      throw new InvalidArgumentError(err instanceof Error ? err.message : String(err));
    }
  };
}

const EXAMPLES = `
Examples (realtime-rooms is the package's bin; in a clone, npm run build, then node dist/server.js or npm link):
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
  const program = new Command('realtime-rooms')
    .description('Realtime room and lobby messaging over Socket.IO (successor of the 2-IMMERSE websocket service).')
    .version(packageVersion, BUILTIN_FLAGS.version, 'print the version and exit')
    .helpOption(BUILTIN_FLAGS.help, 'show this help and exit');
  for (const [name, spec] of OPTION_ENTRIES) program.addOption(toOption(name, spec));
  return program
    .addHelpText('after', EXAMPLES)
    .showSuggestionAfterError()
    .allowExcessArguments(false)
    .exitOverride((err) => {
      process.exit(err.exitCode === 0 ? 0 : EXIT_USAGE);
    });
}

/** One entry of the option table as a commander option. */
function toOption(name: OptionName, spec: OptionSpec): Option {
  if (spec.kind !== 'value') {
    // Not .env(): commander would take any value of the variable as true. readFlags parses it instead, and
    // the help names it the way commander names the others.
    return new Option(spec.flags, `${spec.help} (env: ${envSetting(spec)})`);
  }
  const option = new Option(spec.flags, spec.help).env(spec.env);
  if (spec.parse) option.argParser(arg(spec.parse));
  if (spec.choices) option.choices(spec.choices);
  const fallback = spec.default ?? INSTALL_DEFAULTS[name];
  if (fallback !== undefined) option.default(fallback);
  return option;
}

/** Turns the flags into service options, checking the rules that span options. */
async function toServiceOptions(flags: CliFlags, given: (name: OptionName) => boolean, env: NodeJS.ProcessEnv): Promise<ServiceOptions> {
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
  const access = flags.config !== undefined ? await loadSitesFile(flags.config, env) : (envSite ?? DEFAULT_OPTIONS.access);
  if (flags.database !== undefined && flags.redis === undefined) {
    throw new OptionError('--database (REDIS_DB) needs --redis (REDIS_URL)');
  }
  if (flags.redisPrefix.trim() === '') throw new OptionError('--redis-prefix must not be empty');
  if (flags.maxOutbound < flags.maxPayload) {
    throw new OptionError(
      `--max-outbound (${flags.maxOutbound}) must be at least --max-payload (${flags.maxPayload}): one message must fit`,
    );
  }
  return {
    port: flags.port,
    host: flags.host,
    tls:
      flags.cert !== undefined && flags.key !== undefined
        ? { kind: 'files', certFile: flags.cert, keyFile: flags.key }
        : flags.https
          ? { kind: 'self-signed', cacheDir: flags.certDir }
          : undefined,
    // --verbose (or VERBOSE) wins over LOG_LEVEL, but not over an explicit --log-level.
    logLevel: flags.verbose && !given('logLevel') ? 'debug' : flags.logLevel,
    prettyLogs: flags.logFormat === 'pretty' || (flags.logFormat === 'auto' && process.stdout.isTTY === true),
    maxPayload: flags.maxPayload,
    corsOrigin: flags.corsOrigin,
    maxRoomsPerSocket: flags.maxRooms,
    maxIdLength: flags.maxIdLength,
    maxEventNameLength: flags.maxEventName,
    maxLobbyMembers: flags.maxLobbyMembers,
    access,
    redis:
      flags.redis === undefined
        ? undefined
        : { url: flags.redis, database: flags.database, prefix: flags.redisPrefix, outageBuffer: flags.outageBuffer },
    clusterTimeout: flags.clusterTimeout,
    fastPath: flags.fastPath,
    maxOutbound: flags.maxOutbound,
    attachmentTimeout: flags.attachmentTimeout,
    eventRate: flags.eventRate,
    eventBurst: flags.eventBurst,
    maxConnectionsPerAddress: flags.maxConnectionsPerAddress,
    connectRate: flags.connectRate,
    httpRate: flags.httpRate,
    maxAuthFailures: flags.maxAuthFailures,
    apiToken: secretOption(flags.apiToken, '--api-token (API_TOKEN)', env),
    metrics: flags.metrics,
    metricsToken: secretOption(flags.metricsToken, '--metrics-token (METRICS_TOKEN)', env),
    adminPassword: secretOption(flags.adminPassword, '--admin-password (ADMIN_PASSWORD)', env),
    adminUsername: flags.adminUsername,
    adminWritable: flags.adminWritable,
    adminMode: flags.adminMode,
    trustProxy: flags.trustProxy,
    strictReadiness: flags.strictReadiness,
    drainDelay: flags.drainDelay,
    deviceTtl: flags.deviceTtl,
    deviceQueue: flags.deviceQueue,
    maxDevices: flags.maxDevices,
    recoveryWindow: flags.recoveryWindow,
    recoveryBuffer: flags.recoveryBuffer,
    presence: flags.presence ?? [],
  };
}

/** A token option (`--api-token`, `--metrics-token`) as a secret; empty is unset (`API_TOKEN: ${API_TOKEN}` in a compose file). */
function secretOption(text: string | undefined, option: string, env: NodeJS.ProcessEnv): Secret | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  try {
    return resolveSecret(text, env);
  } catch (err) {
    if (err instanceof SecretError) throw new OptionError(`${option}: ${err.message}`);
    throw err;
  }
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
function handleSignals(target: Stoppable, drainDelay: number): (reason: string) => void {
  let stopping = false;
  // The drain delay is spent serving, before the shutdown proper starts: the deadline covers both.
  const deadline = SHUTDOWN_DEADLINE_MS + drainDelay;
  const shutdown = (fields: Record<string, string>): void => {
    stopping = true;
    // Armed before anything is logged: a log line that cannot be written (stdout a closed pipe) must not
    // keep the process from exiting.
    setTimeout(() => {
      target.log.error(`shutdown did not finish within ${deadline} ms; exiting`);
      process.exit(1);
    }, deadline).unref();
    target.log.info(
      { ...fields, drainDelay },
      drainDelay > 0 ? `shutting down: draining for ${drainDelay} ms, then disconnecting clients` : 'shutting down: disconnecting clients',
    );
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
    const given = (name: OptionName): boolean => program.getOptionValueSource(name) === 'cli';
    const flags = readFlags(program.opts(), given, process.env);
    options = await toServiceOptions(flags, given, process.env);
    const { workers } = flags;
    if (workers > 1 && options.tls) {
      throw new OptionError(
        '--workers above 1 serves plain HTTP only: terminate TLS in front of it (see README "Scaling out") or use --workers 1',
      );
    }
    // The workers' adapter sends fetched sockets over node's IPC, which cannot clone the Proxy admin-ui's
    // development mode puts on every socket's data: a worker would die on the page's first socket list.
    if (workers > 1 && options.adminPassword && options.adminMode === 'development' && !options.redis) {
      throw new OptionError('--admin-mode development needs --redis with --workers above 1: use production mode, or --redis');
    }
    if (workers > 1 && cluster.isPrimary) return await runPrimary(options, workers);
    const { createApp } = await import('./lib/app.js');
    if (worker) {
      const { createCluster } = await import('./lib/cluster/index.js');
      // Every log line of a worker names it; the workers share rooms through the primary unless Redis does it.
      const log = (await createLogger({ level: options.logLevel, pretty: options.prettyLogs })).child({ worker: workerId() });
      app = await createApp(options, {
        log,
        workerMetrics: true,
        ...(options.redis ? {} : { cluster: await createCluster({ mode: 'workers', timeoutMs: options.clusterTimeout }, log) }),
      });
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
    const stop = handleSignals(app, options.drainDelay);
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
  handleSignals(app, options.drainDelay);
}

/** `--workers` above 1, in the primary: fork the workers, listen, and stop with them. */
async function runPrimary(options: ServiceOptions, workers: number): Promise<void> {
  const log = (await createLogger({ level: options.logLevel, pretty: options.prettyLogs })).child({ role: 'primary' });
  let primary: Primary;
  try {
    // Before the workers exist: a scrape any of them takes is answered for all of them.
    if (options.metrics) aggregateWorkerMetrics();
    // Likewise each user's sockets, for updateUserUrl (without Redis; with it the workers count there).
    if (!options.redis) (await import('./lib/cluster/index.js')).countPresenceInPrimary();
    primary = await startPrimary({ port: options.port, host: options.host, workers }, log);
  } catch (err) {
    const reason = describeListenError(err, options);
    process.stderr.write(`error: ${reason ?? (err instanceof Error ? err.message : String(err))}\n`);
    process.exit(1);
  }
  handleSignals(primary, options.drainDelay);
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
