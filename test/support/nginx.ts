import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { NGINX_CONFIG } from '../../scripts/generate.js';
import { findBinary, requireBinary } from './binaries.js';
import { repoRoot } from './cli.js';
import { startDaemon, type TestDaemon } from './daemon.js';
import { renderNginxConfig } from './nginx-config.js';
import { freePort } from './net.js';
import { tempDir } from './temp.js';

/** The nginx binary (Debian installs it in /usr/sbin), or undefined when none is installed. */
export const nginxBinary: string | undefined = findBinary('nginx');

/** For a `before` hook of every suite that needs nginx: skips it, loudly, without nginx. */
export const requireNginx = requireBinary(nginxBinary, 'nginx tests', 'nginx');

/** An nginx of one test in front of nodes on 127.0.0.1; its lines are its error log (stderr). */
export interface TestNginx extends TestDaemon {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** The configuration it runs. */
  readonly config: string;
}

/**
 * Starts nginx on a free port of 127.0.0.1 with docs/nginx.conf, its upstream's `server` lines pointed at
 * `backends` (ports of 127.0.0.1), and resolves once it listens: the master binds every listener before it
 * logs `start worker processes`. Stopped after the current test (SIGTERM: a fast shutdown).
 */
export async function startNginx(backends: readonly number[]): Promise<TestNginx> {
  const binary = nginxBinary;
  if (!binary) throw new Error('nginx is not installed');
  const port = await freePort();
  const dir = await tempDir();
  // Run as root, nginx's workers are `nobody`: they must reach the temporary files in here.
  await chmod(dir, 0o755);
  const part = await readFile(join(repoRoot, NGINX_CONFIG), 'utf8');
  const config = renderNginxConfig(part, { port, backends, dir });
  const file = join(dir, 'nginx.conf');
  await writeFile(file, config);
  // -e: the error log before the configuration is read (Debian's default path needs root).
  const args = ['-p', dir, '-c', file, '-e', 'stderr', '-g', 'daemon off;'];
  const daemon = await startDaemon('nginx', binary, args, /start worker processes/);
  return { ...daemon, url: `http://127.0.0.1:${port}`, config };
}
