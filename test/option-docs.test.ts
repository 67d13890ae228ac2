import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { OPTIONS_SECTION } from '../scripts/option-docs.js';
import { BUILTIN_FLAGS, envSetting, OPTION_ENTRIES } from '../lib/config/option-table.js';
import { SITE_ENV } from '../lib/config/sites-env.js';
import { repoRoot } from './support/cli.js';

const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');

/** The cells of the rows of the README's table of options, read from the README itself. */
function readmeRows(): string[][] {
  const start = readme.indexOf(`<!-- generated:${OPTIONS_SECTION}`);
  const end = readme.indexOf(`<!-- /generated:${OPTIONS_SECTION} -->`, start);
  expect(start, 'the start marker of the table of options in README.md').to.be.at.least(0);
  expect(end, 'the end marker of the table of options in README.md').to.be.above(start);
  return readme
    .slice(start, end)
    .split('\n')
    .filter((line) => line.startsWith('|'))
    .map((line) =>
      line
        .slice(1, -1)
        .split(/(?<!\\)\|/)
        .map((cell) => cell.trim()),
    );
}

describe('README table of options (scripts/option-docs.ts; kept current by test/generated.test.ts)', () => {
  it('has a row for every option, with its variable, and one for --version and --help', () => {
    const rows = readmeRows();
    for (const [, spec] of OPTION_ENTRIES) {
      const row = rows.find((cells) => cells[0] === `\`${spec.flags}\``);
      expect(row, `a row for ${spec.flags}`).to.not.equal(undefined);
      expect(row?.[1], `the variable of ${spec.flags}`).to.equal(`\`${envSetting(spec)}\``);
      expect(row?.[3], `the meaning of ${spec.flags}`).to.not.equal('');
    }
    expect(rows.some((cells) => cells[0]?.includes(BUILTIN_FLAGS.version) === true && cells[0].includes(BUILTIN_FLAGS.help))).to.equal(
      true,
    );
    // Header, separator, the options, --version/--help: nothing else.
    expect(rows).to.have.lengthOf(OPTION_ENTRIES.length + 3);
  });

  it('sits beside the single-site variables, which the README names each', () => {
    for (const name of Object.keys(SITE_ENV)) expect(readme, name).to.include(`\`${name}\``);
  });
});
