import { expect } from 'chai';
import fc from 'fast-check';
import { TokenBucket } from '../../lib/limits/token-bucket.js';

/** One step of a client against a bucket: a number of attempts at once, then a pause, on a virtual clock. */
interface Step {
  readonly attempts: number;
  readonly pauseMs: number;
}

const step = fc.record({ attempts: fc.integer({ min: 0, max: 20 }), pauseMs: fc.double({ min: 0, max: 3_000, noNaN: true }) });
const bucketShape = fc.record({ rate: fc.integer({ min: 1, max: 1_000 }), burst: fc.integer({ min: 1, max: 500 }) });

/** Runs `steps` against a fresh bucket; returns the virtual time of every admitted attempt. */
function admitted(rate: number, burst: number, steps: readonly Step[]): number[] {
  const start = 1_000;
  const bucket = new TokenBucket(rate, burst, start);
  const times: number[] = [];
  let now = start;
  for (const { attempts, pauseMs } of steps) {
    for (let i = 0; i < attempts; i++) if (bucket.take(now)) times.push(now - start);
    now += pauseMs;
  }
  return times;
}

describe('token bucket', () => {
  it('never admits more than burst + rate × t in any interval of t seconds, whatever the pattern', () => {
    fc.assert(
      fc.property(bucketShape, fc.array(step, { maxLength: 40 }), ({ rate, burst }, steps) => {
        const times = admitted(rate, burst, steps);
        // Every window that starts and ends at an admitted attempt: the tightest ones there are.
        for (let first = 0; first < times.length; first++) {
          for (let last = first; last < times.length; last++) {
            const seconds = ((times[last] ?? 0) - (times[first] ?? 0)) / 1000;
            const count = last - first + 1;
            // The bucket counts 1 - 1e-9 tokens as one (floating-point refills): a margin far below one event.
            expect(count, `${count} admitted in ${seconds} s at ${rate}/s, burst ${burst}`).to.be.at.most(burst + rate * seconds + 1e-6);
          }
        }
      }),
    );
  });

  it('admits a full burst at once, then one more per 1/rate seconds', () => {
    fc.assert(
      fc.property(bucketShape, ({ rate, burst }) => {
        const bucket = new TokenBucket(rate, burst, 0);
        for (let i = 0; i < burst; i++) expect(bucket.take(0)).to.equal(true);
        expect(bucket.take(0)).to.equal(false);
        const wait = bucket.msUntilToken(0);
        expect(wait).to.be.closeTo(1000 / rate, 1e-9);
        expect(bucket.take(wait)).to.equal(true);
        expect(bucket.isFull((burst * 1000) / rate + wait)).to.equal(true);
      }),
    );
  });

  it('refills nothing when the clock goes backwards', () => {
    const bucket = new TokenBucket(10, 1, 1_000);
    expect(bucket.take(1_000)).to.equal(true);
    expect(bucket.take(0)).to.equal(false);
    expect(bucket.take(1_050)).to.equal(false);
  });
});
