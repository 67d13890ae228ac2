import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { expect } from 'chai';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { OPTION_ENTRIES } from '../../lib/config/option-table.js';
import { SITE_ENV } from '../../lib/config/sites-env.js';
import { CHILD_DEADLINE_MS } from './deadlines.js';
import { onTeardown } from './teardown.js';
import { withDeadline } from './wait.js';

// The CLI tests import it with the rest of these helpers.
export { CHILD_DEADLINE_MS };

/** The repository root (where package.json and server.ts are), found from this file's location. */
export const repoRoot: string = fileURLToPath(new URL('../../', import.meta.url));

/** Every environment variable the CLI reads; cleared so that the developer's shell cannot change a test. */
const CLI_ENV: readonly string[] = [...OPTION_ENTRIES.map(([, spec]) => spec.env), ...Object.keys(SITE_ENV)];

/** How a child process ended, with everything it wrote. */
export interface CliExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** One JSON log line of the child (pino). */
export type LogLine = Record<string, unknown>;

/** A running CLI child process. */
export interface CliProcess {
  readonly child: ChildProcessByStdio<null, Readable, Readable>;
  /** Resolves when the child exits (never rejects; no deadline — wrap it in `withDeadline`). */
  readonly exited: Promise<CliExit>;
  /** The JSON lines the child has logged on stdout so far. */
  readonly logs: readonly LogLine[];
  /** All stderr so far. */
  stderr(): string;
  /**
   * Resolves with the first log line (already logged or still to come) for which `match` is true;
   * rejects naming `what` if the child exits first or after a deadline.
   */
  waitForLog(match: (line: LogLine) => boolean, what: string): Promise<LogLine>;
}

/** A CLI child that logged its 'listening on …' line. */
export interface CliServer extends CliProcess {
  /** The first URL of the listening line, e.g. `http://127.0.0.1:40123`. */
  readonly url: string;
  readonly port: number;
}

/** Options of {@link spawnCli}. */
export interface SpawnOptions {
  /** Extra environment variables (LOG_FORMAT=json is always set unless overridden here). */
  readonly env?: Readonly<Record<string, string>>;
  /** The script to run, relative to the repository root; `server.ts` (through tsx) by default. */
  readonly entry?: string;
}

/**
 * Spawns the CLI (`node --import tsx server.ts ...args`, or a built entry) in the repository root, with
 * JSON logs. The child is killed after the current test if it is still running.
 */
export function spawnCli(args: readonly string[], options: SpawnOptions = {}): CliProcess {
  const entry = options.entry ?? 'server.ts';
  const nodeArgs = entry.endsWith('.ts') ? ['--import', 'tsx', entry] : [entry];
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of CLI_ENV) delete env[name];
  // The one exception: a run on the libraries' own path (FAST_PATH=off) runs its children on it too.
  if (process.env.FAST_PATH !== undefined) env.FAST_PATH = process.env.FAST_PATH;
  // c8 cannot map coverage that tsx-run children report onto the TypeScript sources (it corrupts the
  // parent's figures for the same files), so children report none; server.ts is excluded in .c8rc.json.
  // Node re-adds the parent's NODE_V8_COVERAGE unless the child's env sets it, hence '' not delete.
  env.NODE_V8_COVERAGE = '';
  Object.assign(env, { LOG_FORMAT: 'json' }, options.env);

  const child = spawn(process.execPath, [...nodeArgs, ...args], { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const logs: LogLine[] = [];
  const watchers = new Set<(line: LogLine) => void>();
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  createInterface({ input: child.stdout }).on('line', (line) => {
    stdout += `${line}\n`;
    const parsed = parseJson(line);
    if (parsed === undefined) return;
    logs.push(parsed);
    for (const watch of watchers) watch(parsed);
  });
  // 'close' (not 'exit') so that every line the child wrote has been read.
  const exited = new Promise<CliExit>((resolve) => {
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  onTeardown(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    try {
      await withDeadline(exited, 'the CLI child to exit after SIGTERM in teardown', CHILD_DEADLINE_MS);
    } catch (err) {
      child.kill('SIGKILL');
      throw err;
    }
  });
  const waitForLog = (match: (line: LogLine) => boolean, what: string): Promise<LogLine> => {
    let watcher: ((line: LogLine) => void) | undefined;
    const found = new Promise<LogLine>((resolve, reject) => {
      const seen = logs.find(match);
      if (seen) return resolve(seen);
      watcher = (line) => {
        if (match(line)) resolve(line);
      };
      watchers.add(watcher);
      void exited.then((exit) =>
        reject(
          new Error(`the CLI exited (code ${String(exit.code)}, signal ${String(exit.signal)}) before logging ${what}: ${exit.stderr}`),
        ),
      );
    });
    return withDeadline(found, `the CLI to log ${what}`, CHILD_DEADLINE_MS).finally(() => {
      if (watcher) watchers.delete(watcher);
    });
  };
  return { child, exited, logs, stderr: () => stderr, waitForLog };
}

/** Asserts a usage error: exit code 2, nothing on stdout, and exactly one `error: …` line on stderr matching `gist`. */
export function expectUsageError(exit: CliExit, gist: RegExp): void {
  const lines = exit.stderr.split('\n').filter((line) => line.length > 0);
  expect(lines, `stderr: ${exit.stderr}`).to.have.lengthOf(1);
  expect(lines[0]).to.match(/^error: /);
  expect(lines[0]).to.match(gist);
  expect(exit.code, `stderr: ${exit.stderr}`).to.equal(2);
  expect(exit.stdout).to.equal('');
}

/** Runs the CLI to completion and resolves with how it ended; rejects if it does not exit in time. */
export function runCli(args: readonly string[], options: SpawnOptions = {}): Promise<CliExit> {
  return withDeadline(spawnCli(args, options).exited, `the CLI (${args.join(' ')}) to exit`, CHILD_DEADLINE_MS);
}

/**
 * Starts the CLI and resolves once it logs its 'listening on …' line; rejects with the child's stderr if it
 * exits first, or after a deadline.
 */
export async function startCli(args: readonly string[], options: SpawnOptions = {}): Promise<CliServer> {
  const proc = spawnCli(args, options);
  const line = await proc.waitForLog((l) => listeningUrl(l) !== undefined, `'listening on …' (started with: ${args.join(' ')})`);
  const url = listeningUrl(line) ?? '';
  return { ...proc, url, port: Number(new URL(url).port) };
}

/** Whether `line` is a node's log line saying that it has joined the Redis cluster (its adapter reads the stream and is subscribed). */
export function isClusterReadyLine(line: LogLine): boolean {
  return line.msg === 'cluster ready: reading the stream and subscribed';
}

function listeningUrl(line: LogLine): string | undefined {
  if (typeof line.msg !== 'string' || !line.msg.startsWith('listening on ')) return undefined;
  const urls = line.urls;
  return Array.isArray(urls) && typeof urls[0] === 'string' ? urls[0] : undefined;
}

function parseJson(line: string): LogLine | undefined {
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as LogLine) : undefined;
  } catch {
    return undefined;
  }
}
