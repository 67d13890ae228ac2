import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { CHILD_DEADLINE_MS } from './deadlines.js';
import { onTeardown } from './teardown.js';
import { withDeadline } from './wait.js';

/** A third-party server (a reverse proxy) run in the foreground for one test, stopped after it. */
export interface TestDaemon {
  /** Every line it has written so far, stdout and stderr together. */
  readonly lines: readonly string[];
  /** Resolves with the first line, already written or still to come, that `match` finds; rejects naming `what` after a deadline or if the process exits first. */
  waitForLine(match: RegExp, what: string): Promise<string>;
}

/**
 * Starts `binary` with `args` (a server that stays in the foreground) and resolves once it writes a line
 * that `ready` matches; it is stopped with SIGTERM after the current test, its process group killed if it
 * does not exit in time (so that its workers go with it). `name` names it in errors.
 */
export async function startDaemon(name: string, binary: string, args: readonly string[], ready: RegExp): Promise<TestDaemon> {
  // Its own process group, for the workers these servers fork.
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const lines: string[] = [];
  const watchers = new Set<(line: string) => void>();
  const read = (line: string): void => {
    lines.push(line);
    for (const watch of watchers) watch(line);
  };
  createInterface({ input: child.stdout }).on('line', read);
  createInterface({ input: child.stderr }).on('line', read);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  onTeardown(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    try {
      await withDeadline(exited, `${name} to exit after SIGTERM`, CHILD_DEADLINE_MS);
    } catch (err) {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      throw err;
    }
  });

  const waitForLine = (match: RegExp, what: string): Promise<string> => {
    let watcher: ((line: string) => void) | undefined;
    const found = new Promise<string>((resolve, reject) => {
      const seen = lines.find((line) => match.test(line));
      if (seen !== undefined) return resolve(seen);
      watcher = (line) => {
        if (match.test(line)) resolve(line);
      };
      watchers.add(watcher);
      void exited.then(() => reject(new Error(`${name} exited before it wrote ${what}:\n${lines.join('\n')}`)));
    });
    return withDeadline(found, `${name} to write ${what}`, CHILD_DEADLINE_MS).finally(() => {
      if (watcher) watchers.delete(watcher);
    });
  };
  await waitForLine(ready, `its ready line (${String(ready)})`);
  return { lines, waitForLine };
}
