import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { revalidatedFile, sendRevalidated } from './revalidated-file.js';

/**
 * What the pages may load: only this origin's scripts and styles, and its Socket.IO connection over HTTP
 * or WebSocket. A message a peer sends is text on the page, never markup: the policy is the second line.
 */
const PAGE_POLICY =
  "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/** Each URL, the file it serves and its type: a fixed list, so no request names a path of its own. */
const PAGES: readonly (readonly [url: string, file: string, type: string])[] = [
  ['/', 'index.html', 'text/html; charset=utf-8'],
  ['/playground', 'playground/index.html', 'text/html; charset=utf-8'],
  ['/playground/', 'playground/index.html', 'text/html; charset=utf-8'],
  ['/playground/playground.js', 'playground/playground.js', 'text/javascript; charset=utf-8'],
  ['/playground/playground.css', 'playground/playground.css', 'text/css; charset=utf-8'],
];

/**
 * Registers the service's own pages, read from `webRoot` (the package's `web/`): `GET /`, a page that says
 * the service is running and links to what it serves, and `GET /playground`, where a new user joins a room
 * or a lobby from a browser with the client SDK (`/client.js`). The files are read once, at start (a few
 * KB), and revalidated on every load.
 */
export function registerWebPages(app: FastifyInstance, webRoot: string): void {
  for (const [url, file, type] of PAGES) {
    const page = revalidatedFile(readFileSync(join(webRoot, file)), type);
    app.get(url, async (request, reply) => {
      reply.header('content-security-policy', PAGE_POLICY).header('x-content-type-options', 'nosniff');
      return sendRevalidated(request, reply, page);
    });
  }
}
