/**
 * A token bucket: `burst` tokens at most, refilled continuously at `rate` tokens per second, one token
 * per admitted action. Over any interval of `t` seconds it admits at most `burst + rate × t` actions,
 * whatever their pattern (test/limits/token-bucket.test.ts checks this property on random sequences).
 *
 * Hand-written rather than taken from `rate-limiter-flexible`: it runs for every message a client sends,
 * so it must be synchronous and allocate nothing, and the library's limiters answer with a promise (and
 * its memory limiter counts in fixed windows, which lets twice the burst through across a window's edge).
 *
 * The caller passes the clock (`performance.now()` milliseconds) so that one reading serves several
 * checks, and so that the arithmetic can be tested on a virtual clock.
 *
 * @example
 * ```ts
 * const bucket = new TokenBucket(100, 200, performance.now());
 * if (!bucket.take(performance.now())) refuse();
 * ```
 */
/**
 * How far below a whole token still counts as one: the refill's floating-point arithmetic can leave a
 * bucket at 0.9999999999 at the very time {@link TokenBucket.msUntilToken} promised a token.
 */
const ROUNDING = 1e-9;

export class TokenBucket {
  /** Tokens refilled per second. */
  readonly rate: number;
  /** Tokens the bucket holds at most, and starts with. */
  readonly burst: number;
  #tokens: number;
  #stamp: number;

  /** A full bucket; `rate` must be positive, `burst` at least 1. */
  constructor(rate: number, burst: number, now: number) {
    this.rate = rate;
    this.burst = burst;
    this.#tokens = burst;
    this.#stamp = now;
  }

  /** Sets this bucket to what `other` (of the same size) holds at `now`: a budget carried over to a new holder. */
  resumeFrom(other: TokenBucket, now: number): void {
    other.#refill(now);
    this.#tokens = other.#tokens;
    this.#stamp = now;
  }

  /** Takes one token if there is one: true when the action is admitted. */
  take(now: number): boolean {
    this.#refill(now);
    if (this.#tokens < 1 - ROUNDING) return false;
    this.#tokens -= 1;
    return true;
  }

  /** Whether the bucket has refilled to its size (the client has been quiet, or slow, long enough). */
  isFull(now: number): boolean {
    this.#refill(now);
    return this.#tokens >= this.burst - ROUNDING;
  }

  /** Milliseconds until the next token is there; 0 if one is there now. */
  msUntilToken(now: number): number {
    this.#refill(now);
    return this.#tokens >= 1 - ROUNDING ? 0 : ((1 - this.#tokens) * 1000) / this.rate;
  }

  #refill(now: number): void {
    // A clock that went backwards (it cannot with performance.now(), but a caller's might) refills nothing.
    const elapsed = now - this.#stamp;
    if (elapsed <= 0) return;
    this.#stamp = now;
    const tokens = this.#tokens + (elapsed * this.rate) / 1000;
    this.#tokens = tokens < this.burst ? tokens : this.burst;
  }
}
