import type { TriggerServerToClientEvents } from '../protocol/trigger.js';
import type { ConnectionEvents } from './connection.js';
import { ConnectedClient, type NamespaceClient } from './namespace-client.js';
import type { ClientOptions } from './options.js';

/** What a `/trigger` client listens to: `EVENTS`, `UPDATES`, `STATUS` (another member's data), `ERROR`, and the connection's own. */
export type TriggerClientEvents = TriggerServerToClientEvents & ConnectionEvents;

/** The event a broadcast becomes at the other members of the room. */
export type TriggerKind = 'EVENTS' | 'UPDATES' | 'STATUS';

/**
 * A client of `/trigger`, the timeline services' room broadcast channel. Rooms joined through it are joined
 * again after a reconnect the service did not recover.
 */
export interface TriggerClient extends NamespaceClient<TriggerClientEvents> {
  join(room: string): Promise<void>;
  /** Leaves `room`; it is no longer rejoined. */
  leave(room: string): Promise<void>;
  /** Sends `data` (any JSON value) to the other members of `room` as `kind` (`BROADCAST_EVENTS` for `EVENTS`, …). */
  broadcast(kind: TriggerKind, room: string, data: unknown): Promise<void>;
}

class TimelineClient extends ConnectedClient<TriggerClientEvents> implements TriggerClient {
  private readonly joined = new Set<string>();

  constructor(url: string, options: ClientOptions) {
    super(url, options);
  }

  protected async onReconnect(): Promise<void> {
    for (const room of [...this.joined]) await this.connection.request('JOIN', room);
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
