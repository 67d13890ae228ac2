/**
 * Releases the pub/sub channels of a namespace's Redis adapter when the adapter is closed.
 *
 * `@socket.io/redis-streams-adapter` (0.3.1) subscribes every namespace's adapter to two channels,
 * `<prefix>#<nsp>#` and `<prefix>#<nsp>#<uid>#` (requests such as fetchSockets and their answers), and its
 * `close()` unsubscribes neither: each closed namespace left its two channels subscribed, their listener
 * (and through it the adapter and its namespace) held by the subscriber connection. Dynamic namespaces come
 * and go (lib/engine/child-namespaces.ts), so 2,000 refused CONNECTs left 4,000 channels in Redis.
 *
 * The adapter subscribes asynchronously (once its subscriber connection is up, perhaps long after a
 * namespace was created while Redis was down) and may be closed before it has: so the release is told both
 * sides, the subscription as the subscriber connection sees it ({@link ChannelRelease.admit}, from the
 * proxy of lib/cluster/redis-readiness.ts) and the close ({@link ChannelRelease.adapters}), and whichever
 * comes second acts: unsubscribes, or skips a subscription whose namespace is already closed.
 *
 * Relies on the adapter's channel names (its private channel ends with the adapter's `uid`, public on
 * socket.io-adapter's `ClusterAdapter`) and on it subscribing both channels in one call: see
 * lib/engine/README.md (§5). Without a match nothing is tracked and the adapter runs as it does upstream.
 */

/** Unsubscribes channels on the connection that subscribed them. */
export type Unsubscribe = (channels: string[]) => Promise<unknown>;

/** One namespace adapter's channels: open, subscribed (with how to undo it), or closed before subscribing. */
interface Entry {
  readonly channels: string[];
  unsubscribe: Unsubscribe | undefined;
  closed: boolean;
}

/** What the release replaces of the adapter a factory builds. */
interface ClosableAdapter {
  close(): unknown;
}

/** The adapter's id, which its private channel ends with (protected in socket.io-adapter's types, a plain field). */
function uidOf(adapter: ClosableAdapter): unknown {
  return (adapter as { uid?: unknown }).uid;
}

type AdapterFactory<A extends ClosableAdapter> = (nsp: { readonly name: string }) => A;

/** The channels of live namespace adapters, by private channel (unique per adapter), for one cluster connection. */
export class ChannelRelease {
  readonly #entries = new Map<string, Entry>();

  constructor(private readonly channelPrefix: string) {}

  /**
   * Wraps the adapter factory given to Socket.IO so that closing an adapter releases its channels. The
   * adapters it builds are the factory's own, with `close` replaced by an own property calling theirs.
   */
  adapters<A extends ClosableAdapter>(factory: AdapterFactory<A>): AdapterFactory<A> {
    const entries = this.#entries;
    const channelPrefix = this.channelPrefix;
    const closed = (key: string): void => this.#closed(key);
    // A function, not an arrow: Socket.IO calls the adapter option with `new` (the object it returns is the adapter).
    return function adapterOf(nsp) {
      const adapter = factory(nsp);
      const uid = uidOf(adapter);
      if (typeof uid !== 'string') return adapter;
      const publicChannel = `${channelPrefix}#${nsp.name}#`;
      const channels = [publicChannel, `${publicChannel}${uid}#`];
      const key = channels[1] as string;
      entries.set(key, { channels, unsubscribe: undefined, closed: false });
      const close = adapter.close.bind(adapter);
      (adapter as ClosableAdapter).close = () => {
        closed(key);
        return close();
      };
      return adapter;
    };
  }

  /**
   * Called for each SUBSCRIBE of the adapter's subscriber connection: whether to go ahead (false for the
   * channels of a namespace closed before it subscribed), and how to undo it when the namespace closes.
   */
  admit(channels: unknown, unsubscribe: Unsubscribe): boolean {
    const key = Array.isArray(channels) ? (channels[1] as unknown) : undefined;
    const entry = typeof key === 'string' ? this.#entries.get(key) : undefined;
    if (entry === undefined) return true;
    if (entry.closed) {
      this.#entries.delete(key as string);
      return false;
    }
    entry.unsubscribe = unsubscribe;
    return true;
  }

  #closed(key: string): void {
    const entry = this.#entries.get(key);
    if (entry === undefined) return;
    if (entry.unsubscribe === undefined) {
      entry.closed = true;
      return;
    }
    this.#entries.delete(key);
    // While Redis is down node-redis queues the command and sends it once reconnected (after renewing the
    // subscriptions); it fails only on a connection closed for good, at shutdown, when it no longer matters.
    entry.unsubscribe(entry.channels).catch(() => undefined);
  }
}
