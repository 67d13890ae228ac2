import { Connection, type EventMap } from './connection.js';
import type { ClientOptions } from './options.js';

/** What every namespace client offers besides its requests: readiness, identity, listeners and closing. */
export interface NamespaceClient<Events extends EventMap<Events>> {
  /** Resolves once connected (and joined, where the client joins on connect); rejects with a `ProtocolError` if refused. */
  readonly ready: Promise<void>;
  /** The socket id while connected, else undefined. */
  readonly id: string | undefined;
  /** The socket.io-client socket underneath. */
  readonly socket: Connection<Events>['socket'];
  /** Adds a listener of a namespace event (`EVENT`, `PRESENCE`, `ERROR`, …) or a connection event. */
  on<E extends keyof Events>(event: E, listener: Events[E]): this;
  /** Removes a listener added with {@link on} (every listener of `event` without one). */
  off<E extends keyof Events>(event: E, listener?: Events[E]): this;
  /** Disconnects for good. */
  close(): void;
}

/**
 * The part of `/layout`, `/lobby` and `/trigger` clients that only hands over to their {@link Connection}. A
 * subclass says what it does on the first connect and what it restores after a reconnect the service did not
 * recover; both run after the constructor has returned, once the socket connects.
 */
export abstract class ConnectedClient<Events extends EventMap<Events>> implements NamespaceClient<Events> {
  protected readonly connection: Connection<Events>;

  protected constructor(url: string, options: ClientOptions) {
    this.connection = new Connection(
      url,
      options,
      () => this.onFirstConnect(),
      () => this.onReconnect(),
    );
  }

  /** Run on the first connect; its failure rejects `ready`. Nothing by default. */
  protected async onFirstConnect(): Promise<void> {}

  /** Run on every later connect the service did not recover, before `connect` is emitted. */
  protected abstract onReconnect(): Promise<void>;

  get ready(): Promise<void> {
    return this.connection.ready;
  }

  get id(): string | undefined {
    return this.connection.id;
  }

  get socket(): Connection<Events>['socket'] {
    return this.connection.socket;
  }

  on<E extends keyof Events>(event: E, listener: Events[E]): this {
    this.connection.on(String(event), listener);
    return this;
  }

  off<E extends keyof Events>(event: E, listener?: Events[E]): this {
    this.connection.off(String(event), listener);
    return this;
  }

  close(): void {
    this.connection.close();
  }
}
