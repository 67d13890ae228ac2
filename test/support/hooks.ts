import type { Context } from 'mocha';
import { runTeardown } from './teardown.js';

const tally = { passed: 0, failed: 0 };

/**
 * Mocha root hooks: teardown after every test (see teardown.ts), and a closing
 * `mocha: N passed, N failed` line that CI reads as the run's summary.
 */
export const mochaHooks = {
  async afterEach(this: Context): Promise<void> {
    const state = this.currentTest?.state;
    if (state === 'passed') tally.passed += 1;
    else if (state === 'failed') tally.failed += 1;
    await runTeardown();
  },
  afterAll(): void {
    process.stdout.write(`\nmocha: ${tally.passed} passed, ${tally.failed} failed\n`);
  },
};
