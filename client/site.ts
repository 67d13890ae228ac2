import type { AuthRefreshResult, SiteServerToClientEvents } from '../protocol/sites.js';
import { Connection, isRecord, withoutOffset, type ConnectionEvents, type EventMap, type Listener } from './connection.js';
import type { ClientOptions } from './options.js';
import { RecentIds } from './recent-ids.js';

/** Options of {@link connectSite}: the handshake's fields, and socket.io-client's (`auth` for any other field). */
export type SiteOptions = Omit<ClientOptions, 'auth'> & {
  /** The token of a token-url or jwt site; `refreshToken` replaces it. */
  readonly token?: string;
  /**
   * The device, on a site with a `userRoomPrefix`: the same on every connect of this device (browser
   * storage), so that what it missed while away is delivered when it is back. With it the client asks for
   * message ids (`messageIds: true`) and drops repeats.
   */
  readonly deviceId?: string;
  /** How many message ids the client remembers to drop repeats: 1000 (the service's `--device-queue` default). */
  readonly dedupeWindow?: number;
  /** Further handshake fields, sent with `token` and `deviceId`. */
  readonly auth?: Readonly<Record<string, unknown>>;
};

/** What the service itself sends every site socket besides the site's events: `ERROR`, `PRESENCE`. */
export type SiteServiceEvents = Pick<SiteServerToClientEvents, 'ERROR' | 'PRESENCE'>;

/**
 * A handler of a site event: the pushed arguments (no ack, no message id). A reliable message is acked once
 * every handler of its event has returned, or the promise it returned has resolved; one that throws or
 * rejects leaves it unacked, so that the service sends it again on the next connect.
 */
export type SiteHandler<F extends Listener> = (...args: Parameters<F>) => void | Promise<void>;

/** Every event a site client can listen to: the site's own (`Events`), the service's, and the connection's. */
export type SiteClientEvents<Events> = Events & SiteServiceEvents & ConnectionEvents;

/** A client of site `/<site>`, typed with the site's own events, as its backend pushes them (`POST /send`). */
export interface SiteClient<Events extends EventMap<Events>> {
  /** Resolves once connected; rejects with a `ProtocolError` (`UNAUTHORIZED`, `AUTH_UNAVAILABLE`, …) if refused. */
  readonly ready: Promise<void>;
  /** The socket id while connected, else undefined. */
  readonly id: string | undefined;
  readonly site: string;
  /** The site's `_settings`: how long (s) the service keeps this device's messages while it is away; `0` never expires. */
  readonly deviceTtl: number | undefined;
  /** The socket.io-client socket underneath. */
  readonly socket: Connection<SiteClientEvents<Events>>['socket'];
  /**
   * Adds a handler. Events are handled one at a time in arrival order (a `_batch`'s entries in turn, each as
   * its own event), the next once the previous handlers have finished.
   */
  on<E extends keyof SiteClientEvents<Events>>(event: E, handler: SiteHandler<SiteClientEvents<Events>[E]>): this;
  /** Removes a handler added with {@link on} (every handler of `event` without one). */
  off<E extends keyof SiteClientEvents<Events>>(event: E, handler?: SiteHandler<SiteClientEvents<Events>[E]>): this;
  /** Calls `listener` on `_resync`: the device's queue was cleared, reload the state in full. Returns its removal. */
  onResync(listener: () => void): () => void;
  /**
   * jwt sites: sends `AUTH { token }`; resolves with the ack's `{ expiresAt }` (ISO 8601, or null), rejects with
   * a `ProtocolError` (`UNAUTHORIZED` for a bad token or another user's). The token is also the next handshake's.
   */
  refreshToken(token: string): Promise<AuthRefreshResult>;
  /** Disconnects for good. */
  close(): void;
}

/** The events a site client handles itself, never handed to {@link SiteClient.on}'s handlers as site events. */
const SERVICE_EVENTS: ReadonlySet<string> = new Set(['ERROR', 'PRESENCE']);

type Ack = () => void;

class Site<Events extends EventMap<Events>> implements SiteClient<Events> {
  private readonly connection: Connection<SiteClientEvents<Events>>;
  private readonly handlers = new Map<string, Set<(...args: unknown[]) => void | Promise<void>>>();
  private readonly resyncListeners = new Set<() => void>();
  private readonly recent: RecentIds;
  private readonly messageIds: boolean;
  /** The handling of the events received so far, in order: each one waits for the one before. */
  private handled: Promise<void> = Promise.resolve();
  private auth: Record<string, unknown>;
  deviceTtl: number | undefined;

  constructor(
    url: string,
    readonly site: string,
    options: SiteOptions,
  ) {
    const { token, deviceId, dedupeWindow, auth, ...rest } = options;
    this.messageIds = deviceId !== undefined;
    this.recent = new RecentIds(dedupeWindow);
    this.auth = {
      ...auth,
      ...(token === undefined ? {} : { token }),
      ...(deviceId === undefined ? {} : { deviceId, messageIds: true }),
    };
    this.connection = new Connection(url, { ...rest, auth: this.auth });
    this.connection.socket.onAny((event: string, ...args: unknown[]) => this.receive(event, withoutOffset(this.connection.socket, args)));
  }

  get ready(): Promise<void> {
    return this.connection.ready;
  }

  get id(): string | undefined {
    return this.connection.id;
  }

  get socket(): SiteClient<Events>['socket'] {
    return this.connection.socket;
  }

  on<E extends keyof SiteClientEvents<Events>>(event: E, handler: SiteHandler<SiteClientEvents<Events>[E]>): this {
    const name = String(event);
    if (SERVICE_EVENTS.has(name) || name === 'connect' || name === 'disconnect' || name === 'error') {
      this.connection.on(name, handler as Listener);
      return this;
    }
    const set = this.handlers.get(name) ?? new Set();
    // The handler is called with what arrived, which the site's event map types.
    set.add(handler as (...args: unknown[]) => void | Promise<void>);
    this.handlers.set(name, set);
    return this;
  }

  off<E extends keyof SiteClientEvents<Events>>(event: E, handler?: SiteHandler<SiteClientEvents<Events>[E]>): this {
    const name = String(event);
    this.connection.off(name, handler as Listener | undefined);
    if (handler) this.handlers.get(name)?.delete(handler as (...args: unknown[]) => void | Promise<void>);
    else this.handlers.delete(name);
    return this;
  }

  onResync(listener: () => void): () => void {
    this.resyncListeners.add(listener);
    return () => this.resyncListeners.delete(listener);
  }

  async refreshToken(token: string): Promise<AuthRefreshResult> {
    const { expiresAt } = await this.connection.request('AUTH', { token });
    this.auth = { ...this.auth, token };
    // socket.io-client sends `socket.auth` with every handshake, the reconnects' included.
    this.connection.socket.auth = this.auth;
    return { expiresAt: typeof expiresAt === 'string' ? expiresAt : null };
  }

  close(): void {
    this.connection.close();
  }

  private receive(event: string, args: unknown[]): void {
    if (event === '_settings') {
      const [settings] = args;
      if (isRecord(settings) && typeof settings.device_ttl === 'number') this.deviceTtl = settings.device_ttl;
      return;
    }
    if (event === '_resync')
      return this.enqueue(() => {
        for (const listener of [...this.resyncListeners]) listener();
        return Promise.resolve();
      });
    if (event === '_batch') return this.enqueue(() => this.applyBatch(args));
    // `_offset` and any other `_` name are the service's; ERROR and PRESENCE have their own listeners.
    if (event.startsWith('_') || SERVICE_EVENTS.has(event)) return;
    this.enqueue(() => this.applyOne(event, args));
  }

  private enqueue(task: () => Promise<void>): void {
    this.handled = this.handled.then(task).catch((err: unknown) => this.connection.emitOwn('error', asError(err)));
  }

  /** A pushed message: `...args` then, when reliable, `{ _id }` (with message ids) and the ack. */
  private async applyOne(event: string, received: unknown[]): Promise<void> {
    const args = [...received];
    const ack = typeof args.at(-1) === 'function' ? (args.pop() as Ack) : undefined;
    const id = ack && this.messageIds ? idOf(args) : undefined;
    // Not acked when a handler failed: the service sends it again on the next connect.
    if (await this.apply(event, args, id)) ack?.();
  }

  /** `_batch (entries, ack)`: each `[event, ...args, { _id }?]` in order, then one ack, if all were applied. */
  private async applyBatch([entries, ack]: unknown[]): Promise<void> {
    if (!Array.isArray(entries)) return;
    for (const entry of entries) {
      if (!Array.isArray(entry) || typeof entry[0] !== 'string') continue;
      const [event, ...args] = entry as [string, ...unknown[]];
      const id = this.messageIds ? idOf(args) : undefined;
      // Stop at the first failure: what follows must not be applied before it when the batch comes again.
      if (!(await this.apply(event, args, id))) return;
    }
    if (typeof ack === 'function') (ack as Ack)();
  }

  /** Runs the handlers of `event` unless message `id` was applied already; whether it is applied now. */
  private async apply(event: string, args: unknown[], id: string | undefined): Promise<boolean> {
    if (id !== undefined && this.recent.has(id)) return true;
    try {
      for (const handler of [...(this.handlers.get(event) ?? [])]) await handler(...args);
    } catch (err) {
      this.connection.emitOwn('error', asError(err));
      return false;
    }
    if (id !== undefined) this.recent.add(id);
    return true;
  }
}

/** Removes the trailing `{ _id }` of a message's arguments, and returns the id. */
function idOf(args: unknown[]): string | undefined {
  const meta = args.at(-1);
  if (!isRecord(meta) || typeof meta._id !== 'string') return undefined;
  args.pop();
  return meta._id;
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

/**
 * Connects to site `/<site>` at `url`, with the handshake's `token` (token-url, jwt) and `deviceId` (reliable
 * delivery). `Events` types the site's own events as its backend pushes them, without the ack or message id.
 * Add handlers before awaiting `ready`: a device's missed messages (`_batch`) arrive right behind the connect.
 *
 * @example
 * ```ts
 * interface ShopEvents { update_store: (entityType: string, entity: { id: number }) => void }
 * const shop = connectSite<ShopEvents>('http://localhost:3000', 'shop', { token, deviceId: 'phone-1' });
 * shop.on('update_store', async (entityType, entity) => { await db.put(entityType, entity); }); // acked when done
 * shop.onResync(() => reloadEverything());
 * await shop.ready;
 * ```
 */
export function connectSite<Events extends EventMap<Events> = Record<never, Listener>>(
  url: string,
  site: string,
  options: SiteOptions = {},
): SiteClient<Events> {
  return new Site<Events>(`${url}/${site}`, site, options);
}
