import type { TriggerServerToClientEvents } from '../protocol/trigger.js';
import { Connection, type ConnectionEvents } from './connection.js';
import type { ClientOptions } from './options.js';

/** What a `/trigger` client listens to: `EVENTS`, `UPDATES`, `STATUS` (another member's data), `ERROR`, and the connection's own. */
export type TriggerClientEvents = TriggerServerToClientEvents & ConnectionEvents;

/** The event a broadcast becomes at the other members of the room. */
export type TriggerKind = 'EVENTS' | 'UPDATES' | 'STATUS';

/**
 * A client of `/trigger`, the timeline services' room broadcast channel. Rooms joined through it are joined
 * again after a reconnect the service did not recover.
 */
export interface TriggerClient {
  /** Resolves once connected. */
  readonly ready: Promise<void>;
  /** The socket id while connected, else undefined. */
  readonly id: string | undefined;
  /** The socket.io-client socket underneath. */
  readonly socket: Connection<TriggerClientEvents>['socket'];
  join(room: string): Promise<void>;
  /** Leaves `room`; it is no longer rejoined. */
  leave(room: string): Promise<void>;
  /** Sends `data` (any JSON value) to the other members of `room` as `kind` (`BROADCAST_EVENTS` for `EVENTS`, …). */
  broadcast(kind: TriggerKind, room: string, data: unknown): Promise<void>;
  /** Adds a listener of a trigger event or a connection event. */
  on<E extends keyof TriggerClientEvents>(event: E, listener: TriggerClientEvents[E]): this;
  /** Removes a listener added with {@link on} (every listener of `event` without one). */
  off<E extends keyof TriggerClientEvents>(event: E, listener?: TriggerClientEvents[E]): this;
  /** Disconnects for good. */
  close(): void;
}

class TimelineClient implements TriggerClient {
  private readonly connection: Connection<TriggerClientEvents>;
  private readonly joined = new Set<string>();

  constructor(url: string, options: ClientOptions) {
    this.connection = new Connection(
      url,
      options,
      async () => {},
      async () => {
        for (const room of [...this.joined]) await this.connection.request('JOIN', room);
      },
    );
  }

  get ready(): Promise<void> {
    return this.connection.ready;
  }

  get id(): string | undefined {
    return this.connection.id;
  }

  get socket(): TriggerClient['socket'] {
    return this.connection.socket;
  }

  async join(room: string): Promise<void> {
    await this.connection.request('JOIN', room);
    this.joined.add(room);
  }

  async leave(room: string): Promise<void> {
    this.joined.delete(room);
    await this.connection.request('LEAVE', room);
  }

  async broadcast(kind: TriggerKind, room: string, data: unknown): Promise<void> {
    await this.connection.request(`BROADCAST_${kind}`, room, data);
  }

  on<E extends keyof TriggerClientEvents>(event: E, listener: TriggerClientEvents[E]): this {
    this.connection.on(event, listener);
    return this;
  }

  off<E extends keyof TriggerClientEvents>(event: E, listener?: TriggerClientEvents[E]): this {
    this.connection.off(event, listener);
    return this;
  }

  close(): void {
    this.connection.close();
  }
}

/**
 * Connects to `/trigger` at `url`.
 *
 * @example
 * ```ts
 * const player = connectTrigger('http://localhost:3000');
 * player.on('EVENTS', (data) => schedule(data));
 * await player.join('timeline-1');
 * ```
 */
export function connectTrigger(url: string, options: ClientOptions = {}): TriggerClient {
  return new TimelineClient(`${url}/trigger`, options);
}
