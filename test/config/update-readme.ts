/**
 * `npm run docs`: rewrites README.md's table of options from lib/config/option-table.ts. Beside the tests
 * because test/config/option-docs.test.ts fails, naming this command, when the README is stale.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { withOptionsTable } from '../../lib/config/option-docs.js';

const file = fileURLToPath(new URL('../../README.md', import.meta.url));
const before = readFileSync(file, 'utf8');
const after = withOptionsTable(before);
if (after === before) {
  process.stdout.write('README.md: the table of options is up to date\n');
} else {
  writeFileSync(file, after);
  process.stdout.write('README.md: rewrote the table of options from lib/config/option-table.ts\n');
}
