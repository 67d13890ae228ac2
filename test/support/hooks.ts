import { runTeardown } from './teardown.js';

/** Mocha root hooks: see teardown.ts. */
export const mochaHooks = {
  async afterEach(): Promise<void> {
    await runTeardown();
  },
};
