import type { Pool } from 'undici';
import type * as Undici from 'undici';
import { lazyPackage } from '../core/lazy-package.js';
import type { AuthConfig } from '../config/access.js';
import { RequestError } from '../core/errors.js';

const undici = lazyPackage<typeof Undici>('undici');

type TokenUrlAuth = Extract<AuthConfig, { mode: 'token-url' }>;

/**
 * Handshakes that may wait for a free backend connection, per connection: enough to ride out a burst of
 * reconnects, few enough that a backend that stalls holds a bounded number of sockets open.
 */
export const QUEUED_PER_CONNECTION = 64;

/** A backend's answer, read in full within the size cap. */
export interface BackendAnswer {
  readonly status: number;
  readonly body: string;
}

/**
 * The HTTP client of one token-url site: a keep-alive pool of at most `maxConnections` connections to the
 * backend's origin, a bounded queue of checks waiting for one, no redirects (a 3xx is an answer like any
 * other, which the mode refuses, so that a backend cannot hand the check to another origin), and at most
 * `maxResponseBytes` read of an answer. One deadline covers the wait for a connection, the headers and the body.
 */
export class TokenBackend {
  readonly #auth: TokenUrlAuth;
  readonly #pool: Pool;
  readonly #path: string;
  readonly #maxPending: number;
  #pending = 0;

  constructor(auth: TokenUrlAuth) {
    this.#auth = auth;
    const url = new URL(auth.url);
    this.#path = `${url.pathname}${url.search}`;
    this.#pool = new (undici().Pool)(url.origin, { connections: auth.maxConnections, pipelining: 1 });
    this.#maxPending = auth.maxConnections * (1 + QUEUED_PER_CONNECTION);
  }

  /** Asks the backend about `token`; rejects with `AUTH_UNAVAILABLE` when it cannot be asked or its answer is unusable. */
  async ask(token: string): Promise<BackendAnswer> {
    if (this.#pending >= this.#maxPending) {
      throw new RequestError('AUTH_UNAVAILABLE', 'the auth backend is busy: too many handshakes are waiting for it');
    }
    this.#pending++;
    const signal = AbortSignal.timeout(this.#auth.timeoutMs);
    try {
      return await this.#request(token, signal);
    } catch (err) {
      if (err instanceof RequestError) throw err;
      if (signal.aborted) throw new RequestError('AUTH_UNAVAILABLE', `the auth backend did not answer within ${this.#auth.timeoutMs} ms`);
      throw new RequestError('AUTH_UNAVAILABLE', 'cannot reach the auth backend');
    } finally {
      this.#pending--;
    }
  }

  async #request(token: string, signal: AbortSignal): Promise<BackendAnswer> {
    const { statusCode, headers, body } = await this.#pool.request({
      method: 'GET',
      path: this.#path,
      headers: { authorization: `${this.#auth.scheme} ${token}`, accept: 'application/json' },
      signal,
    });
    if (statusCode < 200 || statusCode > 299) {
      // Drained rather than destroyed, so that the connection stays in the pool for the next check.
      body.dump({ limit: this.#auth.maxResponseBytes, signal }).catch(() => undefined);
      return { status: statusCode, body: '' };
    }
    const limit = this.#auth.maxResponseBytes;
    const tooLarge = (): RequestError => {
      body.destroy();
      return new RequestError('AUTH_UNAVAILABLE', `the auth backend answered more than ${limit} bytes`);
    };
    const declared = Number(headers['content-length']);
    if (declared > limit) throw tooLarge();
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of body as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > limit) throw tooLarge();
      chunks.push(chunk);
    }
    return { status: statusCode, body: Buffer.concat(chunks).toString('utf8') };
  }

  /** Closes the pool's connections; checks still waiting fail. */
  close(): Promise<void> {
    return this.#pool.destroy();
  }
}
