import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { createClient } from 'redis';
import type { RedisOptions } from '../../lib/config/options.js';
import { findBinary, requireBinary } from './binaries.js';
import { REDIS_DEADLINE_MS } from './deadlines.js';
import { freePort } from './net.js';
import { onTeardown } from './teardown.js';
import { withDeadline } from './wait.js';

/** The redis-server binary on PATH (or /usr/bin), or undefined when none is installed. */
export const redisServerBinary: string | undefined = findBinary('redis-server');

/** For a `before` hook of every suite that needs Redis: skips it, loudly, without redis-server. */
export const requireRedis = requireBinary(redisServerBinary, 'Redis cluster tests', 'redis-server');

/** A redis-server of one test, stopped after it. */
export interface TestRedis {
  readonly port: number;
  readonly url: string;
  /** Options for `createApp({ redis })`, with a key prefix of its own. */
  options(prefix?: string): RedisOptions;
  /** Kills the server (SIGKILL) and waits until it has exited. */
  kill(): Promise<void>;
  /** Starts it again on the same port (after {@link kill}). */
  restart(): Promise<void>;
  /** Sends one command (`['PUBSUB', 'NUMSUB', …]`) over a client of the test's own, opened on first use. */
  command(args: readonly string[]): Promise<unknown>;
}

/** A random key prefix, so that tests never see each other's keys or channels. */
export function randomPrefix(): string {
  return `test-${randomBytes(6).toString('hex')}`;
}

/**
 * Starts a real redis-server on a free port of 127.0.0.1, without persistence, and waits for it to accept
 * connections. It is killed after the current test. `port` reuses a port (to start a Redis that clients
 * were already told about, for a Redis-down-at-start test).
 */
export async function startRedis(port?: number): Promise<TestRedis> {
  const binary = redisServerBinary;
  if (!binary) throw new Error('redis-server is not installed');
  // redis-server has no `--port 0`.
  const chosen = port ?? (await freePort());
  let child: ChildProcessByStdio<null, Readable, Readable> | undefined;
  const prefix = randomPrefix();

  const start = async (): Promise<void> => {
    const proc = spawn(binary, ['--port', String(chosen), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = proc;
    let output = '';
    const ready = new Promise<void>((resolve, reject) => {
      proc.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        output += chunk;
        if (output.includes('Ready to accept connections')) resolve();
      });
      proc.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
      proc.once('exit', (code) => reject(new Error(`redis-server exited with code ${String(code)} before it was ready:\n${output}`)));
    });
    await withDeadline(ready, `redis-server to be ready on port ${chosen}`, REDIS_DEADLINE_MS);
  };

  const kill = async (): Promise<void> => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill('SIGKILL');
    await withDeadline(exited, 'redis-server to exit', REDIS_DEADLINE_MS);
  };

  onTeardown(kill);
  await start();
  const url = `redis://127.0.0.1:${chosen}`;
  // Made now, connected on the first command.
  const client = createClient({ url });
  client.on('error', () => undefined);
  let connected: Promise<unknown> | undefined;
  const command = async (args: readonly string[]): Promise<unknown> => {
    if (!connected) {
      // Registered after the server's kill, so run before it (newest first).
      onTeardown(() => client.destroy());
      connected = withDeadline(client.connect(), 'a test client to connect to redis-server', REDIS_DEADLINE_MS);
    }
    await connected;
    return client.sendCommand([...args]);
  };
  return {
    port: chosen,
    url,
    options: (keyPrefix = prefix) => ({ url, database: undefined, prefix: keyPrefix }),
    kill,
    restart: start,
    command,
  };
}
