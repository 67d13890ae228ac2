import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

// V8 exposes `gc` to contexts created after the flag is set: a test can collect without `node --expose-gc`.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/**
 * What the process holds after a full garbage collection: the V8 heap in use plus memory outside it
 * (Buffers, such as frames queued in sockets). Garbage left by a burst of messages does not count, so
 * that a test can assert what a server keeps, not what it has not collected yet.
 */
export function heldMemory(): number {
  gc();
  const { heapUsed, external } = process.memoryUsage();
  return heapUsed + external;
}
