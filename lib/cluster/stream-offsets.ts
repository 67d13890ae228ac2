import type { Logger } from 'pino';

/** What the tracker uses of the node-redis client that publishes the broadcasts. */
export interface OffsetsClient {
  readonly isReady: boolean;
  xRevRange(key: string, end: string, start: string, options: { COUNT: number }): Promise<{ id: string }[] | null>;
  xAdd(key: string, id: string, fields: Record<string, string>): Promise<string>;
  on(event: 'ready', listener: () => void): unknown;
}

/** The part of a streams adapter the tracker taps: where each stream entry read for its namespace arrives. */
interface StreamReader {
  onRawMessage(message: unknown, offset: string): void;
}

type AdapterFactory<A> = (nsp: unknown) => A;

/** The field of the marker entry: it has no `nsp`, so every node's reader and every session restore skip it. */
const MARKER_FIELDS = { marker: 'offset' };

/**
 * The newest stream entry this node knows of, for the `_offset` a new session starts from (see
 * lib/delivery/recovery.ts).
 *
 * `@socket.io/redis-streams-adapter` recovers a session from the stream entry id the client last received,
 * and only when that entry still exists; a client that received nothing has no id and is never recovered.
 * Any entry of the stream will do as a start (a restore replays the entries after it that reach the session's
 * rooms), so the node tells new sessions the id of the newest entry it has read. It reads the stream's last
 * entry when Redis becomes ready, and if the stream is empty adds a marker entry (without a namespace, so
 * ignored by every reader), so that there is always an entry to start from.
 */
export class StreamOffsets {
  #newest: string | undefined;
  #known: () => void = () => {};
  readonly #first = new Promise<void>((resolve) => (this.#known = resolve));

  constructor(
    private readonly client: OffsetsClient,
    private readonly streamName: string,
    private readonly log: Logger,
  ) {
    client.on('ready', () => void this.#seed());
  }

  /** The id of the newest entry read, or undefined before Redis was first ready. */
  newest(): string | undefined {
    return this.#newest;
  }

  /** Resolves once {@link newest} is known (never rejects; bound it with a deadline). */
  known(): Promise<void> {
    return this.#first;
  }

  /** Wraps the adapter factory so that every entry the node reads moves {@link newest} on. */
  readers<A extends StreamReader>(factory: AdapterFactory<A>): AdapterFactory<A> {
    const seen = (id: string): void => this.#seen(id);
    // A function, not an arrow: Socket.IO calls the adapter option with `new` (the object it returns is the adapter).
    return function adapterOf(nsp) {
      const adapter = factory(nsp);
      const read = adapter.onRawMessage.bind(adapter);
      adapter.onRawMessage = (message, offset) => {
        seen(offset);
        read(message, offset);
      };
      return adapter;
    };
  }

  async #seed(): Promise<void> {
    try {
      const [last] = (await this.client.xRevRange(this.streamName, '+', '-', { COUNT: 1 })) ?? [];
      this.#seen(last?.id ?? (await this.client.xAdd(this.streamName, '*', MARKER_FIELDS)));
    } catch (err) {
      // Without a seed, new sessions start from the first entry read; until then they get no offset.
      this.log.warn({ err }, 'could not read the stream head for recovery offsets');
    }
  }

  #seen(id: string): void {
    if (this.#newest === undefined || newer(id, this.#newest)) this.#newest = id;
    this.#known();
  }
}

/** Whether stream id `a` (`<ms>-<seq>`) comes after `b`. */
function newer(a: string, b: string): boolean {
  const [aMs = '', aSeq = ''] = a.split('-');
  const [bMs = '', bSeq = ''] = b.split('-');
  if (aMs.length !== bMs.length) return aMs.length > bMs.length;
  if (aMs !== bMs) return aMs > bMs;
  return Number(aSeq) > Number(bSeq);
}
