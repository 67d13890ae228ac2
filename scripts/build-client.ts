/**
 * Bundles the client SDK for browsers: `dist/client.browser.js`, ESM, socket.io-client included, minified.
 * The service serves it at `GET /client.js` (lib/http/client-script.ts). `npm run build` runs it after tsc.
 */
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

/** Where `npm run build` writes the bundle. */
export const BROWSER_BUNDLE = fileURLToPath(new URL('../dist/client.browser.js', import.meta.url));

/** Writes the browser bundle of client/index.ts to `outfile`. */
export async function buildBrowserClient(outfile: string = BROWSER_BUNDLE): Promise<void> {
  await build({
    entryPoints: [fileURLToPath(new URL('../client/index.ts', import.meta.url))],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2020',
    minify: true,
    legalComments: 'eof',
    logLevel: 'warning',
  });
}

// `tsx scripts/build-client.ts [outfile]`: the tests build into a folder of their own, in a child process
// (esbuild's service, loaded into the mocha process beside a server, kept that process from exiting).
if (process.argv[1] === fileURLToPath(import.meta.url)) await buildBrowserClient(process.argv[2] ?? BROWSER_BUNDLE);
