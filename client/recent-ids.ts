/** How many message ids a site client remembers unless told otherwise: the service's `--device-queue` default. */
export const DEFAULT_DEDUPE_WINDOW = 1000;

/**
 * The ids of the last `capacity` messages applied, oldest forgotten first. A device's queue holds at most
 * `--device-queue` messages (1000 by default), so a window at least that large recognises every message a
 * reconnect can send again, with memory bounded by the window whatever the connection's lifetime.
 */
export class RecentIds {
  private readonly ids = new Set<string>();

  constructor(private readonly capacity: number = DEFAULT_DEDUPE_WINDOW) {}

  has(id: string): boolean {
    return this.ids.has(id);
  }

  add(id: string): void {
    this.ids.delete(id);
    this.ids.add(id);
    // A Set iterates in insertion order: the first is the oldest.
    for (const oldest of this.ids) {
      if (this.ids.size <= this.capacity) break;
      this.ids.delete(oldest);
    }
  }
}
