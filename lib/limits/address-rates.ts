import { TokenBucket } from './token-bucket.js';

/**
 * A token bucket per client address that acted lately (opened a connection, sent an HTTP request), of
 * `rate` tokens refilled at `rate` per second. A full bucket is the same as none, so full ones are swept
 * (at most once a second, when an action comes): the map holds only the addresses of the last two seconds, and
 * an attacker cycling through addresses costs one small entry per address for that long.
 */
export class AddressRates {
  readonly #rate: number;
  readonly #buckets = new Map<string, TokenBucket>();
  #swept = 0;

  constructor(rate: number) {
    this.#rate = rate;
  }

  /** Takes a token of `address`'s bucket (`now` in `performance.now()` ms); undefined if admitted, else the milliseconds until the next token. */
  admit(address: string, now: number): number | undefined {
    if (now - this.#swept >= 1000) this.#sweep(now);
    let bucket = this.#buckets.get(address);
    if (bucket === undefined) {
      bucket = new TokenBucket(this.#rate, this.#rate, now);
      this.#buckets.set(address, bucket);
    }
    return bucket.take(now) ? undefined : bucket.msUntilToken(now);
  }

  #sweep(now: number): void {
    this.#swept = now;
    for (const [address, bucket] of this.#buckets) if (bucket.isFull(now)) this.#buckets.delete(address);
  }
}
