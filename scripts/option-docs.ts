import { BUILTIN_FLAGS, envSetting, OPTION_ENTRIES, type OptionSpec } from '../lib/config/option-table.js';

/** The name of the README's generated section that holds the table (see `replaceSection` in generate.ts). */
export const OPTIONS_SECTION = 'options';

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
