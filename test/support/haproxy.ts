import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { HAPROXY_CONFIG } from '../../scripts/generate.js';
import { findBinary, requireBinary } from './binaries.js';
import { repoRoot } from './cli.js';
import { startDaemon, type TestDaemon } from './daemon.js';
import { renderHaproxyConfig } from './haproxy-config.js';
import { freePort } from './net.js';
import { tempDir } from './temp.js';

/** The haproxy binary (Debian installs it in /usr/sbin), or undefined when none is installed. */
export const haproxyBinary: string | undefined = findBinary('haproxy');

/** For a `before` hook of every suite that needs HAProxy: skips it, loudly, without haproxy. */
export const requireHaproxy = requireBinary(haproxyBinary, 'HAProxy tests', 'haproxy');

/** An HAProxy of one test in front of nodes on 127.0.0.1; its lines are its notices and server state changes (stderr) and its request log (stdout). */
export interface TestHaproxy extends TestDaemon {
  /** `http://127.0.0.1:<port>`, the frontend. */
  readonly url: string;
  /** The configuration it runs. */
  readonly config: string;
}

/** Options of {@link startHaproxy}. */
export interface StartHaproxyOptions {
  /** Keep the sticky cookie of docs/haproxy.cfg (true by default). */
  readonly sticky?: boolean;
}

/**
 * Starts HAProxy on a free port of 127.0.0.1 with docs/haproxy.cfg, its `server` lines pointed at
 * `backends` (ports of 127.0.0.1), and resolves once it listens. In master-worker mode (`-W`), so that it
 * says when: the master binds every listener before it forks the worker, then logs `Loading success.`.
 * Stopped after the current test (SIGTERM: the master stops the worker at once).
 */
export async function startHaproxy(backends: readonly number[], options: StartHaproxyOptions = {}): Promise<TestHaproxy> {
  const binary = haproxyBinary;
  if (!binary) throw new Error('haproxy is not installed');
  const port = await freePort();
  const template = await readFile(join(repoRoot, HAPROXY_CONFIG), 'utf8');
  const config = renderHaproxyConfig(template, { port, backends, sticky: options.sticky });
  const file = join(await tempDir(), 'haproxy.cfg');
  await writeFile(file, config);
  const daemon = await startDaemon('haproxy', binary, ['-W', '-db', '-f', file], /Loading success\./);
  return { ...daemon, url: `http://127.0.0.1:${port}`, config };
}
