/**
 * One client of the reconnect storm: a raw-ws bench client (bench/client.ts) in a `/layout` room that, when
 * its connection ends, comes back the way socket.io-client's Manager does, re-JOINs, and counts every
 * attempt and why each failed one failed.
 *
 * What is emulated, exactly:
 * - the first attempt after the connection ends waits a delay drawn uniformly from 0 to `firstDelayMs`
 *   (the 0–2 s; socket.io-client's own first delay is 1 s ± 50 %, the same mean);
 * - after the n-th failed attempt in a row it waits socket.io-client's `Backoff.duration()` at attempt n:
 *   `reconnectionDelay × 2ⁿ`, moved by up to ± `randomizationFactor` of itself (a draw decides the sign as
 *   engine.io-client's backoff does), then capped at `reconnectionDelayMax`; with the defaults (1 s, 5 s,
 *   0.5) that is 2 s ± 1 s, then 4 s ± 2 s, then at most 5 s;
 * - an attempt fails when its TCP connect is refused, reset or closed before the namespace connected, when
 *   the server answers the upgrade with an HTTP status (the connection guard's `429`), when it is not
 *   connected within `attemptTimeoutMs` (socket.io-client's `timeout`, 20 s), when the JOIN is not
 *   acknowledged within as long again, or when the connection ends before the JOIN is acknowledged;
 * - WebSocket only (socket.io-client with `transports: ['websocket']`), no connection-state recovery: a
 *   client is back once its new connection's JOIN is acknowledged;
 * - a client given several ports (a cluster's nodes) sends each attempt to the port after the previous
 *   attempt's, the first one to the port after the one it was connected to (as the chaos clients do: a
 *   balancer without stickiness).
 */
import { performance } from 'node:perf_hooks';
import { BenchClient, ConnectTimeoutError } from './client.js';

/** How the storm's clients reconnect (socket.io-client's option names where it has them). */
export interface ReconnectPolicy {
  /** The first attempt waits uniformly 0 to this after the connection ended. */
  readonly firstDelayMs: number;
  /** socket.io-client's `reconnectionDelay`: the back-off before doubling. */
  readonly reconnectionDelayMs: number;
  /** socket.io-client's `reconnectionDelayMax`. */
  readonly reconnectionDelayMaxMs: number;
  /** socket.io-client's `randomizationFactor`. */
  readonly randomizationFactor: number;
  /** socket.io-client's `timeout`: how long one attempt may take to connect. */
  readonly attemptTimeoutMs: number;
}

/** Why attempts failed, summed over clients. */
export interface AttemptFailures {
  /** ECONNREFUSED: nothing listening on the port. */
  refused: number;
  /** ECONNRESET, or closed by the server before the namespace connected (or before the JOIN's ack). */
  reset: number;
  /** No answer within the attempt timeout (a SYN or a request left unanswered). */
  timeout: number;
  /** Answered with an HTTP status instead of the upgrade (the connection guard's `429`). */
  rejected: number;
  /** Anything else. */
  other: number;
}

/** Zero counts. */
export function noFailures(): AttemptFailures {
  return { refused: 0, reset: 0, timeout: 0, rejected: 0, other: 0 };
}

/** socket.io-client's (engine.io-client's) `Backoff.duration()` at `attempt` (0 for the first). */
export function backoffMs(policy: ReconnectPolicy, attempt: number): number {
  let ms = policy.reconnectionDelayMs * 2 ** attempt;
  const rand = Math.random();
  const deviation = Math.floor(rand * policy.randomizationFactor * ms);
  ms = (Math.floor(rand * 10) & 1) === 0 ? ms - deviation : ms + deviation;
  return Math.min(ms, policy.reconnectionDelayMaxMs);
}

/** The kind of a failed attempt, from its error. */
function classify(err: unknown): keyof AttemptFailures {
  if (err instanceof ConnectTimeoutError) return 'timeout';
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ECONNREFUSED') return 'refused';
  if (code === 'ECONNRESET' || code === 'EPIPE') return 'reset';
  const message = err instanceof Error ? err.message : String(err);
  if (message.startsWith('Unexpected server response')) return 'rejected';
  if (message.includes('closed') || message.includes('socket hang up')) return 'reset';
  return 'other';
}

/** Counts the storm's clients share. */
export interface StormCounts {
  attempts: number;
  readonly failures: AttemptFailures;
}

/** One member of the storm's room. */
export class StormClient {
  /** performance.now() when the latest JOIN was acknowledged; NaN while away. */
  backAt = Number.NaN;
  /** The index in the ports of the current connection (or of the last attempt's). */
  node: number;
  #client: BenchClient | undefined;
  #failedInARow = 0;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(
    readonly index: number,
    private readonly ports: readonly number[],
    private readonly room: string,
    private readonly address: string,
    private readonly policy: ReconnectPolicy,
    private readonly counts: StormCounts,
    /** Called with each EVENT's JSON text. */
    private readonly onEvent: (body: string) => void,
  ) {
    this.node = index % ports.length;
  }

  /** Whether the client is connected and in the room. */
  get back(): boolean {
    return !Number.isNaN(this.backAt);
  }

  /** The first connection (before the storm): not counted, and it must succeed. */
  async join(): Promise<void> {
    const client = await this.#connect();
    this.#attach(client);
  }

  /** Ends the client: no more attempts. */
  async close(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#client?.close();
  }

  /** Connects to the current port and JOINs; rejects when either fails (the connection closed first included). */
  async #connect(): Promise<BenchClient> {
    const port = this.ports[this.node] ?? 0;
    const client = await BenchClient.connect(port, '/layout', {
      localAddress: this.address,
      timeoutMs: this.policy.attemptTimeoutMs,
    });
    client.onEvent = this.onEvent;
    let closed = false;
    try {
      await new Promise<void>((resolve, reject) => {
        // The ack of a JOIN the server never answers fails the attempt like an unanswered connect.
        const timer = setTimeout(
          () => reject(new ConnectTimeoutError(`JOIN not acknowledged within ${this.policy.attemptTimeoutMs} ms`)),
          this.policy.attemptTimeoutMs,
        );
        client.onClose = (code) => {
          clearTimeout(timer);
          closed = true;
          reject(new Error(`closed (${code}) before the JOIN was acknowledged`));
        };
        client.request('JOIN', { room: this.room, name: `s${this.index}` }).then((ack) => {
          clearTimeout(timer);
          if (ack.includes('"ok":true')) resolve();
          else reject(new Error(`JOIN refused: ${ack}`));
        }, reject);
      });
      // Closed between the ack and now: the ack's continuation ran late.
      if (closed) throw new Error('closed right after the JOIN was acknowledged');
    } catch (err) {
      await client.close();
      throw err;
    }
    return client;
  }

  #attach(client: BenchClient): void {
    this.#client = client;
    this.backAt = performance.now();
    this.#failedInARow = 0;
    client.onClose = () => {
      this.#client = undefined;
      this.backAt = Number.NaN;
      this.#schedule(Math.random() * this.policy.firstDelayMs);
    };
  }

  #schedule(ms: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => void this.#attempt(), ms);
  }

  async #attempt(): Promise<void> {
    if (this.#stopped) return;
    this.counts.attempts++;
    this.node = (this.node + 1) % this.ports.length;
    try {
      const client = await this.#connect();
      if (this.#stopped) {
        await client.close();
        return;
      }
      this.#attach(client);
    } catch (err) {
      this.counts.failures[classify(err)]++;
      this.#failedInARow++;
      this.#schedule(backoffMs(this.policy, this.#failedInARow));
    }
  }
}
