/**
 * The files generated from the sources, so that they cannot drift from them: `sites.schema.json` (the
 * sites file's JSON Schema, from `SitesFileSchema`), docs/asyncapi.json (the protocol's AsyncAPI document,
 * from lib/http/asyncapi-document.ts), the error-code tables of README.md and
 * protocol/README.md (from `ErrorCatalog`), README.md's table of options (from lib/config/option-table.ts),
 * its client snippets (from examples/, see readme-examples.ts) and its HAProxy and nginx configurations
 * (from docs/haproxy.cfg and docs/nginx.conf, the files that test/deploy/ runs). `npm run generate` writes
 * them; test/generated.test.ts fails, naming that command, when a committed one is stale.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { SitesFileSchema } from '../lib/config/sites-file.js';
import { ASYNCAPI_FILE, asyncApiJson } from '../lib/http/asyncapi-document.js';
import { assertDraft07, plainJson } from '../lib/http/json-schema.js';
import { packageManifest } from '../lib/runtime/package.js';
import { ErrorCatalog } from '../protocol/index.js';
import { OPTIONS_SECTION, optionsTable } from './option-docs.js';
import { withExamples } from './readme-examples.js';

/** The command that regenerates every file below. */
export const GENERATE_COMMAND = 'npm run generate';

/** The repository root. */
export const repoRoot: string = fileURLToPath(new URL('../', import.meta.url));

/** The HAProxy configuration of README "Behind a reverse proxy", from the repository root; the deploy tests run it. */
export const HAPROXY_CONFIG = 'docs/haproxy.cfg';

/** The nginx configuration (the http block's part) of README "Behind a reverse proxy"; the deploy tests run it. */
export const NGINX_CONFIG = 'docs/nginx.conf';

/** A generated file: its path from the repository root, and what it must contain. */
export interface GeneratedFile {
  readonly path: string;
  readonly content: string;
}

/** Every generated file with its expected content; docs are read to replace only their generated sections. */
export function generatedFiles(read: (path: string) => string = (path) => readFileSync(join(repoRoot, path), 'utf8')): GeneratedFile[] {
  return [
    { path: 'sites.schema.json', content: `${JSON.stringify(sitesJsonSchema(), null, 2)}\n` },
    { path: ASYNCAPI_FILE, content: asyncApiJson(packageManifest) },
    {
      path: 'README.md',
      content: withExamples(readme(read), read),
    },
    { path: 'protocol/README.md', content: replaceSection(read('protocol/README.md'), 'error-codes', errorCodeTable()) },
  ];
}

/** README.md with its generated sections up to date: error codes, options, the proxies' configurations. */
function readme(read: (path: string) => string): string {
  let text = read('README.md');
  text = replaceSection(text, 'error-codes', errorCodeTable());
  text = replaceSection(text, OPTIONS_SECTION, optionsTable());
  text = replaceSection(text, 'haproxy', codeBlock('haproxy', read(HAPROXY_CONFIG)));
  return replaceSection(text, 'nginx', codeBlock('nginx', read(NGINX_CONFIG)));
}

/**
 * The sites file's JSON Schema, for editors and other tools: `SitesFileSchema` as plain JSON (TypeBox keeps
 * its own bookkeeping in `~` keys, which are not JSON Schema), under a draft-07 header, the draft most
 * editors' YAML and JSON support reads. The service checks more than the schema can say (site names,
 * URLs, which fields each auth mode takes, secrets), and reports it at start.
 */
export function sitesJsonSchema(): Record<string, unknown> {
  const schema = plainJson(SitesFileSchema);
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) throw new Error('SitesFileSchema is not an object schema');
  assertDraft07(schema, 'sites.schema.json#');
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: 'urn:realtime-rooms:sites.schema.json',
    title: 'realtime-rooms sites file',
    description:
      'The sites file of realtime-rooms (--config sites.yml, or .json): sites with their namespace, auth and API key, forwarding namespaces, and auth for the built-in namespaces. The service checks more at start than this schema says: site names, URLs, the fields each auth mode takes, and that every secret can be read.',
    ...schema,
  };
}

/** The error catalog as a Markdown table. */
export function errorCodeTable(): string {
  const rows = Object.entries(ErrorCatalog).map(
    ([code, info]) => `| \`${code}\` | ${info.status} | ${info.retryable ? 'yes' : 'no'} | ${info.description.replaceAll('|', '\\|')} |`,
  );
  return ['| code | HTTP status | retry | meaning |', '|---|---|---|---|', ...rows].join('\n');
}

/** A file as a Markdown code block in `language`, exactly as the file has it. */
export function codeBlock(language: string, file: string): string {
  return `\`\`\`${language}\n${file.endsWith('\n') ? file : `${file}\n`}\`\`\``;
}

/**
 * `text` with the lines between `<!-- generated:<name> … -->` and `<!-- /generated:<name> -->` replaced by
 * `body`. The markers stay, so that the next run finds them; a doc without them is an error, not a no-op.
 */
export function replaceSection(text: string, name: string, body: string): string {
  const begin = new RegExp(`^<!-- generated:${name}\\b.*-->$`, 'm').exec(text);
  const end = text.indexOf(`<!-- /generated:${name} -->`);
  if (!begin || end < begin.index) throw new Error(`no <!-- generated:${name} --> … <!-- /generated:${name} --> section`);
  return `${text.slice(0, begin.index + begin[0].length)}\n${body}\n${text.slice(end)}`;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const file of generatedFiles()) {
    writeFileSync(join(repoRoot, file.path), file.content);
    console.log(`wrote ${file.path}`);
  }
}
