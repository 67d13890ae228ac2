import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { sendError } from './errors.js';
import { revalidatedFile, sendRevalidated, type RevalidatedFile } from './revalidated-file.js';

/**
 * Where the browser bundle of the client SDK is (scripts/build-client.ts): beside dist/lib when running built,
 * in dist/ when running from source after a build.
 */
const BUNDLE_CANDIDATES: readonly string[] = [
  fileURLToPath(new URL('../../client.browser.js', import.meta.url)),
  fileURLToPath(new URL('../../dist/client.browser.js', import.meta.url)),
];

/** The 404 message of `GET /client.js` on a service running from source without a build. */
export const CLIENT_NOT_BUILT = 'the client SDK bundle is not built: run `npm run build` (dist/client.browser.js)';

/** What {@link registerClientScripts} needs; tests point it at a bundle of their own. */
export interface ClientScriptConfig {
  /** The browser bundle `GET /client.js` serves; the built one ({@link BUNDLE_CANDIDATES}) when absent. */
  readonly bundle?: string;
}

/** The type of both scripts. */
const SCRIPT_TYPE = 'application/javascript; charset=utf-8';

/**
 * Registers `GET /client.js` (the SDK, bundled with socket.io-client, for `<script type="module">`) and
 * `GET /socket.io.js` (the plain Socket.IO client, the file Socket.IO serves at `/socket.io/socket.io.js`,
 * which pages of the do-socket-service load from this path). Both are read on their first request and kept;
 * the URLs carry no version, so browsers revalidate each time (`max-age=0`) and get a 304 for the same ETag,
 * as Socket.IO does for its own. A missing bundle (running from source, not built) is a 404 with a reason,
 * looked for again on the next request, rather than a failed start: the server needs no browser bundle.
 */
export function registerClientScripts(app: FastifyInstance, config: ClientScriptConfig = {}): void {
  const socketIoFile = createRequire(import.meta.url).resolve('socket.io-client/dist/socket.io.js');
  const sdk = cachedScript(config.bundle === undefined ? BUNDLE_CANDIDATES : [config.bundle]);
  const socketIo = cachedScript([socketIoFile]);

  app.get('/client.js', async (request, reply) => {
    const script = await sdk();
    if (!script) return sendError(reply, { code: 'NOT_FOUND', message: CLIENT_NOT_BUILT });
    return sendRevalidated(request, reply, script);
  });
  app.get('/socket.io.js', async (request, reply) => {
    const script = await socketIo();
    if (!script) return sendError(reply, { code: 'NOT_FOUND', message: `cannot read ${socketIoFile}` });
    return sendRevalidated(request, reply, script);
  });
}

/** Reads the first of `paths` that exists, once it does; undefined while none does. */
function cachedScript(paths: readonly string[]): () => Promise<RevalidatedFile | undefined> {
  let script: RevalidatedFile | undefined;
  return async () => {
    if (script) return script;
    for (const path of paths) {
      const body = await readFile(path).catch(() => undefined);
      if (body === undefined) continue;
      script = revalidatedFile(body, SCRIPT_TYPE);
      return script;
    }
    return undefined;
  };
}
