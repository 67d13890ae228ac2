import type { Logger } from 'pino';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { RedisOptions } from '../config/options.js';
import type { AuthFailureBudget } from '../limits/types.js';
import { newClient, redactedUrl, type RedisClient } from './redis-client.js';

/**
 * The cluster-wide failed-auth budget (lib/limits/auth-failures.ts): one count per address in Redis (`<prefix>:auth-failures:<address>`), shared by
 * every node of the deployment. While Redis is unreachable each node counts on its own (rate-limiter-flexible's
 * insurance limiter) instead of refusing everyone: an outage of Redis must not lock every client out, and a
 * per-node budget still bounds an attacker to the budget times the number of nodes.
 */
export class RedisAuthFailureBudget implements AuthFailureBudget {
  readonly #client: RedisClient;
  readonly #limiter: RateLimiterRedis;
  readonly #log: Logger;
  #closing: Promise<void> | undefined;

  /** Opens the budget's own Redis connection (in the background: it never waits for Redis) and counts in it. */
  static async open(max: number, windowS: number, options: RedisOptions, log: Logger): Promise<RedisAuthFailureBudget> {
    // A connection of its own: the adapter's clients block on stream reads and subscriptions.
    return new RedisAuthFailureBudget(max, windowS, options, log, await newClient(options));
  }

  private constructor(max: number, windowS: number, options: RedisOptions, log: Logger, client: RedisClient) {
    this.#log = log;
    this.#client = client;
    const where = redactedUrl(options.url);
    let down = false;
    this.#client.on('ready', () => {
      if (down) log.info({ redis: where }, 'auth-failure budget: redis back, counting cluster-wide again');
      down = false;
    });
    this.#client.on('error', (err: Error) => {
      // node-redis emits an error per failed reconnect attempt: one line per outage.
      if (down) return;
      down = true;
      log.warn({ redis: where, err: err.message }, 'auth-failure budget: redis unavailable, counting on this node');
    });
    this.#client.connect().catch((err: unknown) => {
      if (this.#closing === undefined) log.error({ redis: where, err }, 'auth-failure budget: redis client gave up');
    });
    this.#limiter = new RateLimiterRedis({
      storeClient: this.#client,
      useRedisPackage: true,
      // Without it node-redis would queue the command until Redis is back, holding the handshake meanwhile.
      rejectIfRedisNotReady: true,
      keyPrefix: `${options.prefix}:auth-failures`,
      points: max,
      duration: windowS,
      insuranceLimiter: new RateLimiterMemory({ points: max, duration: windowS }),
    });
  }

  async take(address: string): Promise<boolean> {
    try {
      await this.#limiter.consume(address);
      return true;
    } catch (err) {
      if (err instanceof RateLimiterRes) return false;
      // Unreachable while the insurance limiter answers; open rather than closed, as for a Redis outage.
      this.#log.error({ err }, 'auth-failure budget failed: attempt allowed');
      return true;
    }
  }

  async refund(address: string): Promise<void> {
    try {
      await this.#limiter.reward(address);
    } catch (err) {
      this.#log.debug({ err }, 'auth-failure budget: refund lost');
    }
  }

  close(): Promise<void> {
    // A client still reconnecting to a Redis that is down is destroyed: a graceful close would wait for it.
    this.#closing ??= this.#client.isReady ? this.#client.close().catch(() => this.#destroy()) : Promise.resolve(this.#destroy());
    return this.#closing;
  }

  #destroy(): void {
    try {
      this.#client.destroy();
    } catch {
      // Already closed.
    }
  }
}
