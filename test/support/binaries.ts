import { accessSync, constants } from 'node:fs';
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
