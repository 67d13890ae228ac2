/**
 * The files generated from the sources, so that they cannot drift from them: `sites.schema.json` (the
 * sites file's JSON Schema, from `SitesFileSchema`), the error-code tables of README.md and
 * protocol/README.md (from `ErrorCatalog`), README.md's table of options (from lib/config/option-table.ts),
 * its client snippets (from examples/, see readme-examples.ts) and its HAProxy and nginx configurations
 * (from docs/haproxy.cfg and docs/nginx.conf, the files that test/deploy/ runs). `npm run generate` writes
 * them; test/generated.test.ts fails, naming that command, when a committed one is stale.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { SitesFileSchema } from '../lib/config/sites-file.js';
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
  assertDraft07(schema, '#');
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: 'urn:realtime-rooms:sites.schema.json',
    title: 'realtime-rooms sites file',
    description:
      'The sites file of realtime-rooms (--config sites.yml, or .json): sites with their namespace, auth and API key, forwarding namespaces, and auth for the built-in namespaces. The service checks more at start than this schema says: site names, URLs, the fields each auth mode takes, and that every secret can be read.',
    ...schema,
  };
}

/** A deep copy with only JSON: own enumerable string keys, none of TypeBox's `~` ones. */
function plainJson(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(plainJson);
  if (typeof value !== 'object' || value === null) return value;
  const copy: Record<string, unknown> = {};
  for (const [key, member] of Object.entries(value)) if (!key.startsWith('~')) copy[key] = plainJson(member);
  return copy;
}

/** Keywords with the same meaning in draft-07 and 2020-12, which is all the header above may promise. */
const DRAFT_07_KEYWORDS = new Set([
  'type',
  'enum',
  'const',
  'properties',
  'required',
  'additionalProperties',
  'patternProperties',
  'propertyNames',
  'minProperties',
  'maxProperties',
  'items',
  'minItems',
  'maxItems',
  'uniqueItems',
  'minLength',
  'maxLength',
  'pattern',
  'format',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'multipleOf',
  'anyOf',
  'allOf',
  'oneOf',
  'not',
  'title',
  'description',
  'default',
  'examples',
]);
const SCHEMA_MAPS = new Set(['properties', 'patternProperties']);
const SCHEMA_LISTS = new Set(['anyOf', 'allOf', 'oneOf']);
const SCHEMAS = new Set(['items', 'additionalProperties', 'propertyNames', 'not']);

/** Fails the generation when TypeBox emits a keyword whose meaning draft-07 does not share (e.g. prefixItems). */
function assertDraft07(schema: object, at: string): void {
  for (const [keyword, member] of Object.entries(schema)) {
    if (!DRAFT_07_KEYWORDS.has(keyword))
      throw new Error(`${at}: keyword ${keyword} is not draft-07: change the $schema of sites.schema.json`);
    const isSchema = (value: unknown): value is object => typeof value === 'object' && value !== null && !Array.isArray(value);
    if (SCHEMAS.has(keyword) && isSchema(member)) assertDraft07(member, `${at}/${keyword}`);
    if (SCHEMA_LISTS.has(keyword) && Array.isArray(member)) {
      for (const [i, item] of (member as unknown[]).entries()) if (isSchema(item)) assertDraft07(item, `${at}/${keyword}/${i}`);
    }
    if (SCHEMA_MAPS.has(keyword) && isSchema(member)) {
      for (const [name, child] of Object.entries(member)) if (isSchema(child)) assertDraft07(child, `${at}/${keyword}/${name}`);
    }
  }
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
