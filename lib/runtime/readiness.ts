import type { Cluster } from '../cluster/types.js';
import type { ReadinessSource, ReadinessState } from './types.js';

/** A node's readiness (see {@link ReadinessState}), derived from its cluster's connection and its own shutdown. */
export class Readiness implements ReadinessSource {
  #joined = false;
  #draining = false;

  /**
   * @param cluster - whose connection decides between starting, ready and degraded
   * @param strict - `--strict-readiness`: a degraded node answers 503 too
   */
  constructor(
    private readonly cluster: Pick<Cluster, 'isReady' | 'untilReady'>,
    private readonly strict: boolean,
  ) {
    // Memory mode is ready at once; a Redis node once it has first read the stream and subscribed.
    void cluster.untilReady(true).then(() => (this.#joined = true));
  }

  state(): ReadinessState {
    if (this.#draining) return 'draining';
    if (this.cluster.isReady()) return 'ready';
    return this.#joined ? 'degraded' : 'starting';
  }

  serving(): boolean {
    const state = this.state();
    return state === 'ready' || (state === 'degraded' && !this.strict);
  }

  /** From now on the node is `draining`, for good. */
  drain(): void {
    this.#draining = true;
  }
}
