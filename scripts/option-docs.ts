import { BUILTIN_FLAGS, envSetting, OPTION_ENTRIES, type OptionSpec } from '../lib/config/option-table.js';

/** The line before the generated table in README.md; everything up to {@link README_TABLE_END} is replaced. */
export const README_TABLE_START = '<!-- options: generated from lib/config/option-table.ts by `npm run generate`; edit the table there -->';
/** The line after the generated table in README.md. */
export const README_TABLE_END = '<!-- end of options -->';

/**
 * The README's table of options, in Markdown: one row per entry of the option table (flags, variable,
 * default, meaning), then commander's built-in `--version` and `--help`.
 */
export function optionsTable(): string {
  const rows = [
    '| flag | env | default | meaning |',
    '|---|---|---|---|',
    ...OPTION_ENTRIES.map(([, spec]) => row([code(spec.flags), code(envSetting(spec)), defaultCell(spec), spec.readme ?? spec.help])),
    row([`${code(BUILTIN_FLAGS.version)}, ${code(BUILTIN_FLAGS.help)}`, '', '', 'print the version, or this list, and exit']),
  ];
  return rows.join('\n');
}

/**
 * `readme` with the text between {@link README_TABLE_START} and {@link README_TABLE_END} replaced by
 * {@link optionsTable}; throws if the markers are missing, rather than appending a table somewhere.
 */
export function withOptionsTable(readme: string): string {
  const start = readme.indexOf(README_TABLE_START);
  const end = readme.indexOf(README_TABLE_END, start);
  if (start < 0 || end < 0)
    throw new Error(`README.md has no '${README_TABLE_START}' … '${README_TABLE_END}' lines around its table of options`);
  // Blank lines around the table, so that no Markdown renderer reads a marker as part of it.
  return `${readme.slice(0, start + README_TABLE_START.length)}\n\n${optionsTable()}\n\n${readme.slice(end)}`;
}

function defaultCell(spec: OptionSpec): string {
  if (spec.readmeDefault !== undefined) return spec.readmeDefault;
  if (spec.kind !== 'value') return spec.kind === 'switch' ? 'off' : 'on';
  const value = spec.default;
  if (value === undefined) return '—';
  return code(typeof value === 'string' || typeof value === 'number' ? String(value) : JSON.stringify(value));
}

function code(text: string): string {
  return `\`${text}\``;
}

/** A table row; a `|` inside a cell would end it. */
function row(cells: readonly string[]): string {
  return `|${cells.map((cell) => (cell === '' ? ' ' : ` ${cell.replaceAll('|', '\\|')} `)).join('|')}|`;
}
