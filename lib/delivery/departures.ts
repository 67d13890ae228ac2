/** Socket.IO's disconnect reasons after which a session is kept for recovery (socket.io's RECOVERABLE_DISCONNECT_REASONS). */
const RECOVERABLE = new Set([
  'transport error',
  'transport close',
  'forced close',
  'ping timeout',
  'server shutting down',
  'forced server close',
]);

/**
 * How long after the recovery window a deferred departure waits: a session restored at the window's last
 * moment is back by then.
 */
export const RECOVERY_GRACE_MS = 1000;

/** Socket.IO's disconnect reason when its server closes (`io.close()`, on SIGTERM): the node cannot wait out the window. */
export const SHUTTING_DOWN = 'server shutting down';

/** Whether a socket that disconnected for `reason` may come back recovered (when recovery is on). */
export function mayRecover(reason: string): boolean {
  return RECOVERABLE.has(reason);
}

/**
 * Departures announced only once a dropped socket's recovery window has passed: a peer that recovers is
 * never announced as gone and back. One timer per dropped socket (not ref'd: it never keeps the process up),
 * cleared when the socket recovers on this node or the service closes.
 */
export class DeferredDepartures {
  readonly #timers = new Map<string, NodeJS.Timeout>();

  /** Runs `announce` for socket `id` after `ms`, unless {@link cancel}led first; replaces one pending for `id`. */
  schedule(id: string, ms: number, announce: () => void): void {
    this.cancel(id);
    const timer = setTimeout(() => {
      this.#timers.delete(id);
      announce();
    }, ms);
    timer.unref();
    this.#timers.set(id, timer);
  }

  /** Drops the departure pending for socket `id`, if any (it came back). */
  cancel(id: string): void {
    const timer = this.#timers.get(id);
    if (timer === undefined) return;
    clearTimeout(timer);
    this.#timers.delete(id);
  }

  /** Departures pending now. */
  get size(): number {
    return this.#timers.size;
  }

  /** Drops every pending departure (the service is closing). */
  clear(): void {
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
  }
}
