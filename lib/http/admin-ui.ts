/**
 * `GET /admin`: the page of the Admin UI, built files of `@socket.io/admin-ui`'s `ui/dist` served by this
 * service, so that operators need no outside site (the namespace is lib/admin/namespace.ts). The page links
 * its icon font from a CDN: the same font comes from the `@mdi/font` package instead.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, join, relative, sep } from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** Where the page is served. */
const PREFIX = '/admin';

/** The content types of the files the UI is built of; any other file is not served. */
const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
};

/** Where the page finds the icon font's style sheet (and, beside it, its fonts). */
const ICONS_CSS = 'mdi/css/materialdesignicons.min.css';

/** One file of the UI, read once at start: a few hundred KB, and the set of paths is then closed. */
interface UiFile {
  readonly type: string;
  readonly body: Buffer;
}

/**
 * Registers `GET /admin`, `GET /admin/` (the page) and `GET /admin/<file>` for each file of the UI's build.
 * The page's link to the outside text font is dropped (the browser's own fonts serve), the icon font's points
 * here, and a `<base>` makes its relative asset paths work without the trailing slash too.
 */
export function registerAdminUi(app: FastifyInstance): void {
  const files = uiFiles(packageDirectory('@socket.io/admin-ui', 'ui', 'dist'), '');
  for (const [path, file] of uiFiles(packageDirectory('@mdi/font'), 'mdi/')) {
    // The minified style sheet and the two font formats every browser of the UI reads (woff2, woff).
    if (path === ICONS_CSS || path.startsWith('mdi/fonts/')) files.set(path, file);
  }
  const index = files.get('index.html');
  if (index === undefined) throw new Error('@socket.io/admin-ui has no ui/dist/index.html');
  const page = Buffer.from(localPage(index.body.toString('utf8')));
  const sendPage = async (_request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => reply.type(index.type).send(page);
  app.get(PREFIX, sendPage);
  app.get(`${PREFIX}/`, sendPage);
  for (const [path, file] of files) {
    if (path === 'index.html') continue;
    app.get(`${PREFIX}/${path}`, async (_request, reply) => reply.type(file.type).send(file.body));
  }
}

/** A folder of package `name`, found the way node finds the package. */
function packageDirectory(name: string, ...folder: string[]): string {
  const manifest = createRequire(import.meta.url).resolve(`${name}/package.json`);
  return join(dirname(manifest), ...folder);
}

/** Every servable file under `dir` by its URL path after `prefix` (source maps and unknown types left out). */
function uiFiles(dir: string, prefix: string): Map<string, UiFile> {
  const files = new Map<string, UiFile>();
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    const type = TYPES[extname(entry.name)];
    if (!entry.isFile() || type === undefined) continue;
    const full = join(entry.parentPath, entry.name);
    files.set(prefix + relative(dir, full).split(sep).join('/'), { type, body: readFileSync(full) });
  }
  return files;
}

/** The page without links to other sites (the icon font's served here), with a base at the prefix. */
function localPage(html: string): string {
  return html
    .replace(/<link rel="stylesheet" href="https:[^"]*materialdesignicons[^"]*">/, `<link rel="stylesheet" href="${ICONS_CSS}">`)
    .replace(/<link rel="stylesheet" href="https:[^"]*">/g, '')
    .replace('<head>', `<head><base href="${PREFIX}/">`);
}
