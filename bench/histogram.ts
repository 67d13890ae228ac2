/**
 * A latency histogram with logarithmic buckets (2 % wide): bounded memory however long a phase runs (a
 * 10-minute soak records millions of deliveries), and quantiles within 2 % of the exact ones, which is
 * finer than the noise of a shared machine.
 */

const GROWTH = 1.02;
const LOG_GROWTH = Math.log(GROWTH);
/** The smallest value told apart, in ms; everything below lands in the first bucket. */
const FLOOR_MS = 0.001;
/** Buckets up to FLOOR_MS × GROWTH^BUCKETS ≈ 1,700 s: more than any phase lasts. */
const BUCKETS = 1200;

/** Counts of values (ms) per bucket, and the exact maximum. */
export class Histogram {
  private readonly counts = new Uint32Array(BUCKETS);
  /** Values recorded. */
  count = 0;
  /** The largest value recorded, exactly. */
  max = 0;

  /** Records one value in milliseconds. */
  record(ms: number): void {
    const bucket = ms <= FLOOR_MS ? 0 : Math.min(BUCKETS - 1, Math.ceil(Math.log(ms / FLOOR_MS) / LOG_GROWTH));
    this.counts[bucket] = (this.counts[bucket] ?? 0) + 1;
    this.count++;
    if (ms > this.max) this.max = ms;
  }

  /** Adds another histogram's values to this one. */
  add(other: Histogram): void {
    for (let i = 0; i < BUCKETS; i++) this.counts[i] = (this.counts[i] ?? 0) + (other.counts[i] ?? 0);
    this.count += other.count;
    this.max = Math.max(this.max, other.max);
  }

  /** The value at quantile `q` (0..1): its bucket's upper bound, never above the maximum; NaN when empty. */
  quantile(q: number): number {
    if (this.count === 0) return Number.NaN;
    const rank = Math.min(this.count, Math.max(1, Math.ceil(q * this.count)));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i] ?? 0;
      if (seen >= rank) return Math.min(this.max, FLOOR_MS * GROWTH ** i);
    }
    return this.max;
  }
}
