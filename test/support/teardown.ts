/**
 * Teardown registered at creation: every server and client a helper creates is put here, and the root
 * `afterEach` hook disposes of all of them, newest first, whether the test passed or not.
 */
type Disposer = () => unknown;

const disposers: Disposer[] = [];

/** Registers `dispose` to run after the current test. */
export function onTeardown(dispose: Disposer): void {
  disposers.push(dispose);
}

/** Runs and forgets every registered disposer (newest first); a failing disposer does not stop the others. */
export async function runTeardown(): Promise<void> {
  const errors: unknown[] = [];
  while (disposers.length > 0) {
    const dispose = disposers.pop();
    try {
      await dispose?.();
    } catch (err) {
      errors.push(err);
    }
  }
  if (errors.length > 0) throw new AggregateError(errors, 'teardown failed');
}
