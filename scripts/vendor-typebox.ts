/**
 * Start-up time: TypeBox 1.x ships as about 680 ES modules, and Node's ESM loader spends most of the
 * service's start on resolving, reading and linking them — several times as long as fastify and
 * Socket.IO together, before the port opens (a reconnect storm's clients meanwhile back off). This
 * bundles the two entry points the service imports (`typebox`, `typebox/compile`) into `dist/vendor/`,
 * sharing one copy of TypeBox's modules between them, and points the compiled imports of `dist/` at the
 * bundles. Sources, types and the tests (through tsx) keep importing the package itself. `npm run build`
 * runs it after tsc.
 */
import { build } from 'esbuild';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const dist = fileURLToPath(new URL('../dist/', import.meta.url));
const vendor = join(dist, 'vendor');

/** The specifiers `dist/` imports, and the bundle each becomes. */
const ENTRIES: Readonly<Record<string, string>> = { typebox: 'typebox', 'typebox/compile': 'typebox-compile' };

/** The compiled modules of `dist/` (not the vendored bundles, not the browser bundle). */
function compiledModules(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.js'))
    .map((entry) => join(entry.parentPath, entry.name))
    .filter((file) => !file.startsWith(vendor + sep) && !file.endsWith('client.browser.js'));
}

await build({
  entryPoints: Object.entries(ENTRIES).map(([specifier, out]) => ({ in: fileURLToPath(import.meta.resolve(specifier)), out })),
  outdir: vendor,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  legalComments: 'eof',
  logLevel: 'warning',
});

const IMPORT = /from '(typebox(?:\/[\w-]+)?)'/g;
for (const file of compiledModules(dist)) {
  const text = readFileSync(file, 'utf8');
  const rewritten = text.replace(IMPORT, (_match, specifier: string) => {
    const out = ENTRIES[specifier];
    // A subpath the bundle lacks would load a second copy of TypeBox beside it: add it to ENTRIES.
    if (out === undefined) throw new Error(`${file} imports ${specifier}, which scripts/vendor-typebox.ts does not bundle`);
    const path = relative(dirname(file), join(vendor, `${out}.js`))
      .split(sep)
      .join('/');
    return `from '${path.startsWith('.') ? path : `./${path}`}'`;
  });
  if (rewritten !== text) writeFileSync(file, rewritten);
}
