import { onTeardown } from './teardown.js';
import { withDeadline } from './wait.js';

/** What the tests need of every client of client/: its connection events and `close()`. */
interface SdkClient {
  on(event: 'connect', listener: (recovered: boolean) => void): unknown;
  off(event: 'connect', listener?: (recovered: boolean) => void): unknown;
  close(): void;
}

/** Registers `client` to be closed when the test ends, and returns it. */
export function closing<C extends { close(): void }>(client: C): C {
  onTeardown(() => client.close());
  return client;
}

/** Resolves with `recovered` of the client's next reconnect (its rooms restored); rejects after a deadline. */
export function reconnected(client: SdkClient): Promise<boolean> {
  let listener: ((recovered: boolean) => void) | undefined;
  const back = new Promise<boolean>((resolve) => {
    listener = resolve;
    client.on('connect', listener);
  });
  return withDeadline(back, 'the client SDK to reconnect').finally(() => client.off('connect', listener));
}

/** Resolves with what `promise` rejected with; rejects if it resolved. */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}
