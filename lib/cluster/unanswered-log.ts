import type { Logger } from 'pino';

/**
 * Logs, once per outage, that cluster lookups answer without some nodes: a warn line when a lookup first
 * misses a node (and again only if one misses more), an info line when lookups are complete again. Not a
 * line per request: while a node is frozen every lookup of the cluster misses it.
 */
export class UnansweredLog {
  /** The most nodes one lookup has missed in this outage (Infinity: the node count did not come); 0 outside one. */
  #missing = 0;

  constructor(
    private readonly log: Logger,
    private readonly timeoutMs: number,
  ) {}

  /**
   * Notes one lookup of `namespace`: of `asked` other nodes (undefined when their count did not come in
   * time), `answered` did within the timeout.
   */
  note(namespace: string, asked: number | undefined, answered: number): void {
    const timeoutMs = this.timeoutMs;
    if (asked !== undefined && answered >= asked) {
      if (this.#missing === 0) return;
      this.#missing = 0;
      this.log.info({ namespace }, 'every node answers cluster lookups again');
      return;
    }
    const missing = asked === undefined ? Number.POSITIVE_INFINITY : asked - answered;
    if (missing <= this.#missing) return;
    this.#missing = missing;
    if (asked === undefined) {
      this.log.warn(
        { namespace, timeoutMs },
        `the node count did not come within ${timeoutMs} ms: answering lookups from this node alone (partial)`,
      );
    } else {
      this.log.warn(
        { namespace, unanswered: missing, nodes: asked + 1, timeoutMs },
        `${missing} of ${asked + 1} nodes did not answer a lookup within ${timeoutMs} ms: answering from the others (partial) until they do`,
      );
    }
  }
}
