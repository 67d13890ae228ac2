/** Where the test puts HAProxy and its backends: the template's addresses are replaced by these. */
export interface HaproxyConfigOptions {
  /** The frontend's port on 127.0.0.1. */
  readonly port: number;
  /** The nodes' ports on 127.0.0.1, one for each `server` line of the template, in order. */
  readonly backends: readonly number[];
  /** Whether to keep the sticky cookie (true by default): without it, round robin moves every request. */
  readonly sticky?: boolean;
}

/**
 * The configuration the test runs, made of the documented one (docs/haproxy.cfg) with nothing changed but
 * addresses: the `bind` address becomes `127.0.0.1:<port>`, each `server` line's address one of the
 * backends, and, with `sticky: false`, the cookie lines are dropped. Throws when the template no longer has
 * the one `bind`, the one `cookie` and the `server` lines this needs, so that an edit of the documented file
 * cannot leave the test running something else.
 */
export function renderHaproxyConfig(template: string, options: HaproxyConfigOptions): string {
  const sticky = options.sticky ?? true;
  let binds = 0;
  let cookies = 0;
  let servers = 0;
  const lines: string[] = [];
  for (const line of template.split('\n')) {
    if (/^\s*bind\s/.test(line)) {
      binds += 1;
      lines.push(line.replace(/bind\s+\S+/, `bind 127.0.0.1:${options.port}`));
      continue;
    }
    if (/^\s*cookie\s/.test(line)) {
      cookies += 1;
      if (sticky) lines.push(line);
      continue;
    }
    const server = /^(\s*server\s+\S+)\s+\S+(.*)$/.exec(line);
    if (server) {
      const backend = options.backends[servers];
      servers += 1;
      if (backend === undefined) continue;
      const rest = sticky ? (server[2] ?? '') : (server[2] ?? '').replace(/\s+cookie\s+\S+/, '');
      lines.push(`${server[1] ?? ''} 127.0.0.1:${backend}${rest}`);
      continue;
    }
    lines.push(line);
  }
  if (binds !== 1 || cookies !== 1 || servers !== options.backends.length)
    throw new Error(
      `the HAProxy template has ${binds} bind, ${cookies} cookie and ${servers} server lines; the test needs 1, 1 and ${options.backends.length}`,
    );
  return lines.join('\n');
}
