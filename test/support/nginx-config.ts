/** Where the test puts nginx and its backends: the documented file's addresses are replaced by these. */
export interface NginxConfigOptions {
  /** The port nginx listens on, on 127.0.0.1. */
  readonly port: number;
  /** The nodes' ports on 127.0.0.1, one for each `server` line of the upstream, in order. */
  readonly backends: readonly number[];
  /** A directory of the test's own, for nginx's pid file and temporary files. */
  readonly dir: string;
}

/**
 * The nginx.conf the test runs: the documented http-block part (docs/nginx.conf) with nothing changed but
 * addresses (`listen 127.0.0.1:<port>`, each upstream `server` one of the backends), inside the main and
 * events contexts a whole file needs, with logs on stderr and files in `dir`. Throws when the part no
 * longer has the one `listen` and the `server` lines this needs, so that an edit of the documented file
 * cannot leave the test running something else.
 */
export function renderNginxConfig(part: string, options: NginxConfigOptions): string {
  let listens = 0;
  let servers = 0;
  const lines: string[] = [];
  for (const line of part.split('\n')) {
    if (/^\s*listen\s/.test(line)) {
      listens += 1;
      lines.push(line.replace(/listen\s+[^;]+;/, `listen 127.0.0.1:${options.port};`));
      continue;
    }
    // An upstream's `server <address>;`, not the `server {` block.
    const server = /^(\s*server\s+)[^\s{;]+(.*;)$/.exec(line);
    if (server) {
      const backend = options.backends[servers];
      servers += 1;
      if (backend !== undefined) lines.push(`${server[1] ?? ''}127.0.0.1:${backend}${server[2] ?? ''}`);
      continue;
    }
    lines.push(`  ${line}`);
  }
  if (listens !== 1 || servers !== options.backends.length)
    throw new Error(`the nginx part has ${listens} listen and ${servers} server lines; the test needs 1 and ${options.backends.length}`);
  return [
    `pid ${options.dir}/nginx.pid;`,
    'error_log stderr notice;',
    'events {}',
    'http {',
    '  access_log off;',
    ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((kind) => `  ${kind}_temp_path ${options.dir}/${kind};`),
    ...lines,
    '}',
    '',
  ].join('\n');
}
