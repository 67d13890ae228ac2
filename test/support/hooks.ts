import type { Context } from 'mocha';
import { TEST_TIMEOUT_MS } from './deadlines.js';
import { runTeardown } from './teardown.js';

const tally = { passed: 0, failed: 0 };

/**
 * Mocha root hooks: mocha's timeout from deadlines.ts, teardown after every test (see teardown.ts), and a
 * closing `mocha: N passed, N failed` line that CI reads as the run's summary.
 *
 * The timeout is set here rather than in .mocharc.json so that it follows TEST_DEADLINE_SCALE with every
 * other deadline. A longer timeout a suite asks for stays, and so does none at all (`--no-timeouts`,
 * `--inspect`). Suite-level `before`/`after` hooks keep mocha's default: they only decide whether a suite
 * runs; anything that takes time is started in the test and torn down after it.
 */
export const mochaHooks = {
  beforeEach(this: Context): void {
    const test = this.currentTest;
    if (test && test.timeout() !== 0) test.timeout(Math.max(test.timeout(), TEST_TIMEOUT_MS));
  },
  async afterEach(this: Context): Promise<void> {
    if (this.timeout() !== 0) this.timeout(TEST_TIMEOUT_MS);
    const state = this.currentTest?.state;
    if (state === 'passed') tally.passed += 1;
    else if (state === 'failed') tally.failed += 1;
    await runTeardown();
  },
  afterAll(): void {
    process.stdout.write(`\nmocha: ${tally.passed} passed, ${tally.failed} failed\n`);
  },
};
