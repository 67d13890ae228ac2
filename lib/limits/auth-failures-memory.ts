import { RateLimiterMemory } from 'rate-limiter-flexible';
import { AUTH_FAILURE_WINDOW_S } from './auth-failures.js';
import type { AuthFailureBudget } from './types.js';

/** This process's own count (one node, or the fallback of the Redis budget while Redis is away). */
export class MemoryAuthFailureBudget implements AuthFailureBudget {
  readonly #limiter: RateLimiterMemory;

  constructor(max: number) {
    this.#limiter = new RateLimiterMemory({ points: max, duration: AUTH_FAILURE_WINDOW_S });
  }

  take(address: string): Promise<boolean> {
    // The memory limiter rejects only with a "no points left" result: it has no store that can fail.
    return this.#limiter.consume(address).then(
      () => true,
      () => false,
    );
  }

  refund(address: string): Promise<void> {
    return this.#limiter.reward(address).then(
      () => undefined,
      () => undefined,
    );
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
