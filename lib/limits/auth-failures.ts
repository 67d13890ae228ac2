/**
 * The failed-auth budget: how many failed authentications one client address may have per minute, checked
 * before any password hash, backend call or token verification. The gate the auth modes and the push API go
 * through; the stores are auth-failures-memory.ts and lib/cluster/auth-failures-redis.ts, chosen by lib/app.ts.
 */
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'socket.io';
import type { ErrorBody } from '../../protocol/index.js';
import type { LimitHit } from '../core/types.js';
import { clientAddress, handshakeAddress, type TrustFunction } from './address.js';
import type { AuthFailureBudget, AuthFailureGuard } from './types.js';

/** The budget's window, in seconds: `maxAuthFailures` is per minute. */
export const AUTH_FAILURE_WINDOW_S = 60;

/** The budget of `maxAuthFailures: 0`: every attempt is allowed. */
export const UNLIMITED_AUTH_FAILURES: AuthFailureBudget = {
  take: () => Promise.resolve(true),
  refund: () => Promise.resolve(),
  close: () => Promise.resolve(),
};

/** What every attempt past the budget is refused with. */
const REFUSAL: ErrorBody = { code: 'RATE_LIMITED', message: 'too many failed authentications from this address: try again in a minute' };

/** Where a refused attempt was made, for its `limited` hit. */
interface AttemptSite {
  readonly namespace?: string;
  readonly socketId?: string;
}

/** The {@link AuthFailureGuard} of a budget store: the client address, and a `limited` hit per refusal. */
export class AuthFailureGate implements AuthFailureGuard {
  readonly #budget: AuthFailureBudget;
  readonly #trust: TrustFunction;
  readonly #report: (hit: LimitHit) => void;

  constructor(budget: AuthFailureBudget, trust: TrustFunction, report: (hit: LimitHit) => void) {
    this.#budget = budget;
    this.#trust = trust;
    this.#report = report;
  }

  admit(request: IncomingMessage): Promise<ErrorBody | undefined> {
    return this.#admit(clientAddress(request, this.#trust), {});
  }

  admitSocket(socket: Socket): Promise<ErrorBody | undefined> {
    return this.#admit(handshakeAddress(socket.handshake, this.#trust), { namespace: socket.nsp.name, socketId: socket.id });
  }

  refund(request: IncomingMessage): void {
    void this.#budget.refund(clientAddress(request, this.#trust));
  }

  refundSocket(socket: Socket): void {
    void this.#budget.refund(handshakeAddress(socket.handshake, this.#trust));
  }

  /** Releases the budget's store. */
  close(): Promise<void> {
    return this.#budget.close();
  }

  async #admit(address: string, site: AttemptSite): Promise<ErrorBody | undefined> {
    if (await this.#budget.take(address)) return undefined;
    this.#report({ limit: 'auth-failures', action: 'refused', address, ...site });
    return REFUSAL;
  }
}
