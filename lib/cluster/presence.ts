import type { PresenceCounter } from './types.js';

/** {@link PresenceCounter} of a single process (also each `--workers` process's own). */
export class MemoryPresence implements PresenceCounter {
  private readonly counts = new Map<string, number>();

  add(user: string): boolean {
    const count = (this.counts.get(user) ?? 0) + 1;
    this.counts.set(user, count);
    return count === 1;
  }

  remove(user: string): boolean {
    const count = (this.counts.get(user) ?? 1) - 1;
    if (count > 0) this.counts.set(user, count);
    else this.counts.delete(user);
    return count <= 0;
  }

  // No other process shares the counts: nothing changes behind this one's back.
  onChange(): void {}
}
