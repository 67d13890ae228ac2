import { accessSync, constants } from 'node:fs';
import type { Context } from 'mocha';
import { delimiter, join } from 'node:path';

/**
 * The executable `name` on PATH or in the usual system directories (Debian puts daemons such as haproxy in
 * /usr/sbin, which a non-root PATH lacks), or undefined when none is installed.
 */
export function findBinary(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/bin', '/usr/local/bin', '/usr/sbin', '/usr/local/sbin'];
  for (const dir of dirs) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * A `before` hook for every suite that needs `binary` (found by {@link findBinary}): skips the suite, loudly,
 * when it is not installed (CI installs it, see .ci/run). `tests` names the suites, `pkg` the Debian package.
 */
export function requireBinary(binary: string | undefined, tests: string, pkg: string): (this: Context) => void {
  return function require(this: Context): void {
    if (binary) return;
    console.warn(`\n  !!! ${pkg} not found: SKIPPING the ${tests} (apt-get install ${pkg}) !!!\n`);
    this.skip();
  };
}
