import type { Logger } from 'pino';

/** How many broadcasts the outbox holds at most, whatever their size: half the stream's trim length. */
export const OUTBOX_MAX_MESSAGES = 5000;

/** What a held broadcast's XADD answers the adapter: no stream offset (yet). */
const HELD = '';

/** A node-redis MULTI as the outbox fills it: the adapter's XADDs of one turn. */
export interface OutboxMulti {
  xAdd(...args: never[]): unknown;
  exec(): Promise<unknown[]>;
}

/** What the outbox uses of the node-redis client that publishes the broadcasts. */
export interface OutboxClient {
  readonly isReady: boolean;
  xAdd(...args: never[]): Promise<string>;
  multi(): OutboxMulti;
  on(event: 'ready', listener: () => void): unknown;
}

/** What node-redis rejects a MULTI with when some of its commands failed (the others were executed). */
interface PartialFailure {
  readonly replies: readonly unknown[];
  readonly errorIndexes: readonly number[];
}

/** One broadcast on its way to the stream. */
interface Entry {
  readonly args: readonly unknown[];
  readonly bytes: number;
  resolve(id: string): void;
  reject(err: unknown): void;
  /** Sent, and refused because the connection went away: to be sent again. */
  retry: boolean;
}

/**
 * Holds the broadcasts of a node whose Redis is unreachable, in order and bounded, and sends them once it is
 * back: a NOTIFY acked `{ ok: true }` during an outage reaches the other nodes afterwards.
 *
 * Every XADD of the adapter's stream goes through it. node-redis alone queues commands while disconnected
 * without bound and still lost about a third of them across a restart (those written to a connection that
 * then failed: rejected, and the adapter does not retry). Here a command that failed for want of a
 * connection is sent again, before anything newer, so that the stream gets every broadcast in order: at
 * least once (a command Redis executed just before the connection broke, its reply lost, is sent twice).
 *
 * The XADDs of one turn (several broadcasts read from one TCP chunk) leave as one MULTI: Redis then hands
 * the other nodes' blocked XREADs all of them in one reply, where it answers a blocked reader after each
 * command of a plain pipeline. A node that gets a turn's broadcasts in one read delivers them in one turn,
 * so each client gets them in one write (lib/engine/websocket-transport.ts); read one by one, they cost a
 * write each, and a closed loop of publishers never regroups them. A lone XADD is sent as it is.
 *
 * Bounded by {@link OUTBOX_MAX_MESSAGES} and by `maxBytes` of held or unanswered entries (over by at most
 * one message): past them {@link accepting} is false, and publishers refuse new broadcasts with
 * `UNAVAILABLE` rather than ack what would be dropped; a broadcast the service sends by itself then (a LEFT
 * on disconnect) is dropped, and counted in the log line.
 */
export class StreamOutbox {
  /** Not sent yet, oldest first. */
  #held: Entry[] = [];
  /** Sent and not answered yet, oldest first. */
  #inFlight: Entry[] = [];
  #bytes = 0;
  #dropped = 0;
  /** Sent this turn and not written yet: they leave together at its end, as one MULTI. */
  #turn: Entry[] = [];
  #send: (...args: unknown[]) => Promise<string>;

  /**
   * Replaces `client.xAdd` for `streamName` (other keys pass through).
   * @param maxBytes - `--outage-buffer`: the bytes of broadcasts held or unanswered at most
   */
  constructor(
    private readonly client: OutboxClient,
    private readonly streamName: string,
    private readonly maxBytes: number,
    private readonly log: Logger,
  ) {
    const original = client.xAdd.bind(client) as (...args: unknown[]) => Promise<string>;
    this.#send = original;
    (client as { xAdd: unknown }).xAdd = (...args: unknown[]): Promise<string> =>
      args[0] === streamName ? this.#add(args) : original(...args);
    client.on('ready', () => {
      this.#flush();
      // node-redis may set isReady just after 'ready': what was held meanwhile goes out on the next turn.
      setImmediate(() => this.#flush());
    });
  }

  /** Whether a broadcast made now will reach the stream: sent, or held within the bounds. */
  accepting(): boolean {
    return this.#held.length + this.#inFlight.length < OUTBOX_MAX_MESSAGES && this.#bytes < this.maxBytes;
  }

  /** Broadcasts held or unanswered now. */
  get size(): number {
    return this.#held.length + this.#inFlight.length;
  }

  #add(args: unknown[]): Promise<string> {
    if (!this.accepting()) {
      if (this.#dropped++ === 0) this.log.warn({ held: this.size, bytes: this.#bytes }, 'outage buffer full: dropping broadcasts');
      return Promise.reject(new Error('outage buffer full'));
    }
    return new Promise<string>((resolve, reject) => {
      let answered = false;
      const once =
        <T>(settle: (value: T) => void) =>
        (value: T): void => {
          if (answered) return;
          answered = true;
          settle(value);
        };
      const entry: Entry = { args, bytes: sizeOf(args[2]), resolve: once(resolve), reject: once(reject), retry: false };
      this.#bytes += entry.bytes;
      if (this.#held.length === 0 && this.client.isReady) return this.#transmit(entry);
      this.#held.push(entry);
      // The adapter delivers to this node's own sockets once its XADD has answered: held, they get it now
      // (without a stream offset), and the other nodes once Redis is back.
      entry.resolve(HELD);
    });
  }

  #transmit(entry: Entry): void {
    this.#inFlight.push(entry);
    this.#turn.push(entry);
    // After the current task's ticks and microtasks (where Socket.IO runs the handlers of one chunk's
    // packets), before node-redis writes its queue at setImmediate: batched without a turn of delay.
    if (this.#turn.length === 1) queueMicrotask(() => this.#sendTurn());
  }

  #sendTurn(): void {
    const batch = this.#turn;
    this.#turn = [];
    const [only] = batch;
    if (batch.length === 1 && only) {
      this.#send(...only.args).then(
        (id) => this.#answered(only, id),
        (err: unknown) => this.#failed(only, err),
      );
      return;
    }
    const multi = this.client.multi();
    const add = multi.xAdd.bind(multi) as (...args: unknown[]) => unknown;
    for (const entry of batch) add(...entry.args);
    multi.exec().then(
      (ids) => batch.forEach((entry, i) => this.#answered(entry, ids[i])),
      (err: unknown) => {
        // Some commands failed, the others were executed: each entry gets its own answer.
        if (isPartialFailure(err))
          batch.forEach((entry, i) =>
            err.errorIndexes.includes(i) ? this.#failed(entry, err.replies[i]) : this.#answered(entry, err.replies[i]),
          );
        else for (const entry of batch) this.#failed(entry, err);
      },
    );
  }

  #answered(entry: Entry, id: unknown): void {
    this.#settle(entry);
    entry.resolve(typeof id === 'string' ? id : HELD);
  }

  #failed(entry: Entry, err: unknown): void {
    // Without a connection (the one it was written to broke, or it never left): again, once back.
    if (!this.client.isReady) {
      entry.retry = true;
      entry.resolve(HELD);
      return;
    }
    // Redis answered with an error (out of memory, read-only replica): sending it again cannot help.
    this.#settle(entry);
    this.log.error({ err }, 'redis refused a broadcast');
    entry.reject(err);
  }

  #settle(entry: Entry): void {
    const at = this.#inFlight.indexOf(entry);
    if (at >= 0) this.#inFlight.splice(at, 1);
    this.#bytes -= entry.bytes;
  }

  /** Once Redis is back: what failed for want of a connection first, then what was held, in order. */
  #flush(): void {
    const again = this.#inFlight.filter((entry) => entry.retry);
    this.#inFlight = this.#inFlight.filter((entry) => !entry.retry);
    const pending = [...again, ...this.#held];
    this.#held = [];
    if (pending.length > 0)
      this.log.info({ broadcasts: pending.length, dropped: this.#dropped }, 'redis back: sending the held broadcasts');
    this.#dropped = 0;
    for (const entry of pending) {
      entry.retry = false;
      this.#transmit(entry);
    }
  }
}

function isPartialFailure(err: unknown): err is PartialFailure {
  if (typeof err !== 'object' || err === null) return false;
  const { replies, errorIndexes } = err as { replies?: unknown; errorIndexes?: unknown };
  return Array.isArray(replies) && Array.isArray(errorIndexes);
}

/** The bytes of an XADD's fields (the adapter's entries are strings). */
function sizeOf(fields: unknown): number {
  if (typeof fields !== 'object' || fields === null) return 0;
  let bytes = 0;
  for (const [name, value] of Object.entries(fields)) bytes += name.length + (typeof value === 'string' ? value.length : 0);
  return bytes;
}
