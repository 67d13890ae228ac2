import type { LayoutServerToClientEvents } from '../protocol/layout.js';
import { isStringArray, type ConnectionEvents } from './connection.js';
import { ConnectedClient, type NamespaceClient } from './namespace-client.js';
import type { ClientOptions } from './options.js';

/** What a `/layout` or `/bus` client listens to: the namespace's events and the connection's own. */
export type LayoutClientEvents = LayoutServerToClientEvents & ConnectionEvents;

/**
 * A client of `/layout` (or `/bus`): rooms with named members. Every request resolves on its ack and rejects
 * with a `ProtocolError` (its `code`) or a `TimeoutError`. Rooms joined through it are joined again, under
 * the same names, after a reconnect the service did not recover; listeners stay across reconnects.
 */
export interface LayoutClient extends NamespaceClient<LayoutClientEvents> {
  /** Joins `room` as `name` (the socket's display name from now on, in every room). */
  join(room: string, name: string): Promise<void>;
  /** Leaves `room` (not an error if not a member); it is no longer rejoined. */
  leave(room: string): Promise<void>;
  /** Sends `message` (any JSON value) to every other member of `room` as `EVENT`; membership not needed. */
  notify(room: string, message: unknown): Promise<void>;
  /** The names of `room`'s current members, in join order. */
  clients(room: string): Promise<string[]>;
}

class RoomsClient extends ConnectedClient<LayoutClientEvents> implements LayoutClient {
  /** room → name of its last successful JOIN, in the order of those JOINs (the last one's name is the socket's). */
  private readonly joined = new Map<string, string>();

  constructor(url: string, options: ClientOptions) {
    super(url, options);
  }

  async join(room: string, name: string): Promise<void> {
    await this.connection.request('JOIN', { room, name });
    this.joined.delete(room);
    this.joined.set(room, name);
  }

  async leave(room: string): Promise<void> {
    // Forgotten before the ack: a reconnect meanwhile must not join it again.
    this.joined.delete(room);
    await this.connection.request('LEAVE', { room });
  }

  async notify(room: string, message: unknown): Promise<void> {
    await this.connection.request('NOTIFY', { room, message });
  }

  async clients(room: string): Promise<string[]> {
    const { clients } = await this.connection.request('CLIENTS', { room });
    return isStringArray(clients) ? clients : [];
  }

  /** Joins every room again, in the order of their last JOIN, so that the display name ends up the same. */
  protected async onReconnect(): Promise<void> {
    for (const [room, name] of [...this.joined]) await this.connection.request('JOIN', { room, name });
  }
}

/**
 * Connects to `/layout` at `url` (the service's base URL, e.g. `https://rooms.example.com`).
 *
 * @example
 * ```ts
 * const tv = connectLayout('http://localhost:3000');
 * tv.on('EVENT', ({ sender, message }) => console.log(sender, message));
 * await tv.join('living-room', 'tv');
 * console.log(await tv.clients('living-room')); // ['tv']
 * ```
 */
export function connectLayout(url: string, options: ClientOptions = {}): LayoutClient {
  return new RoomsClient(`${url}/layout`, options);
}

/** Connects to `/bus` at `url`: `/layout`'s protocol on its own rooms, plus `EVENT`s a backend POSTs. */
export function connectBus(url: string, options: ClientOptions = {}): LayoutClient {
  return new RoomsClient(`${url}/bus`, options);
}
