/**
 * One socket.io-client v4 connection of the chaos scenario, as an application keeps it: WebSocket only,
 * reconnection on, and every reconnection to the other node than the last attempt's (as a load balancer
 * without stickiness would send it). Records each time away: when it began, why (a drop of the scenario, the
 * kill of its node, anything else), when the client was back, and whether the server recovered its session.
 */
import { performance } from 'node:perf_hooks';
import { io, type ManagerOptions, type Socket, type SocketOptions } from 'socket.io-client';
import { dropConnection, reconnectTo } from './drop.js';

/** Why a connection was lost. */
export type GapCause = 'drop' | 'kill' | 'other';

/** One time away, from the disconnect to the next connect. */
export interface Gap {
  readonly cause: GapCause;
  /** performance.now() of the disconnect. */
  readonly from: number;
  /** performance.now() of the connect that ended it; undefined while away. */
  to: number | undefined;
  /** Whether that connect recovered the session (`socket.recovered`). */
  recovered: boolean;
}

/** How the chaos clients reconnect. */
export interface ReconnectTiming {
  /** socket.io-client's `reconnectionDelay` (its first delay; then doubling up to the max, ± the randomisation). */
  readonly delayMs: number;
  readonly delayMaxMs: number;
}

/**
 * socket.io-client's options, and the source address of the connection, which Engine.IO hands to `ws` in
 * Node (its types leave it out).
 */
export type ChaosClientOptions = Partial<ManagerOptions & SocketOptions> & { readonly localAddress?: string };

/** A chaos connection on namespace `nsp` of one of `urls` (each node's base URL). */
export class ChaosClient<S extends Socket> {
  readonly socket: S;
  /** Every time away so far, oldest first. */
  readonly gaps: Gap[] = [];
  /** Index into the URLs of the node of the current (or last) connection. */
  node: number;
  /** What the next disconnect is caused by, when the scenario causes it. */
  #cause: GapCause | undefined;
  /** The node the next attempt goes to. */
  #target: number;

  constructor(
    readonly urls: readonly string[],
    nsp: string,
    first: number,
    timing: ReconnectTiming,
    options: ChaosClientOptions,
  ) {
    this.node = first;
    this.#target = first;
    this.socket = io(`${urls[first] ?? ''}${nsp}`, {
      ...options,
      forceNew: true,
      transports: ['websocket'],
      reconnection: true,
      reconnectionDelay: timing.delayMs,
      reconnectionDelayMax: timing.delayMaxMs,
    }) as S;
    this.socket.io.on('reconnect_attempt', () => {
      this.#target = (this.#target + 1) % urls.length;
      reconnectTo(this.socket, urls[this.#target] ?? '');
    });
    this.socket.on('connect', () => {
      this.node = this.#target;
      const gap = this.gaps.at(-1);
      if (gap && gap.to === undefined) {
        gap.to = performance.now();
        gap.recovered = this.socket.recovered;
      }
    });
    this.socket.on('disconnect', () => {
      this.gaps.push({ cause: this.#cause ?? 'other', from: performance.now(), to: undefined, recovered: false });
      this.#cause = undefined;
    });
  }

  /** Whether the client is connected now. */
  get connected(): boolean {
    return this.socket.connected;
  }

  /** Resolves on the first connect; rejects after `ms`. */
  firstConnect(ms: number): Promise<void> {
    if (this.socket.connected) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`not connected within ${ms} ms`)), ms);
      this.socket.once('connect', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Cuts the connection as a network does (no close frame), unless it is already being lost; the client reconnects by itself. */
  drop(): boolean {
    // A client of the node being killed is losing its connection anyway: that loss is the kill's.
    if (!this.socket.connected || this.#cause !== undefined) return false;
    this.#cause = 'drop';
    dropConnection(this.socket);
    return true;
  }

  /** Marks the next disconnect as caused by the kill of this client's node. */
  markKilled(): void {
    if (this.socket.connected) this.#cause = 'kill';
  }

  /** Whether the client was away (or in flight to it) at `time`: inside a gap, or within `margin` ms before one began. */
  awayAt(time: number, margin: number): Gap | undefined {
    return this.gaps.find((gap) => time >= gap.from - margin && (gap.to === undefined || time <= gap.to));
  }

  /** Closes the connection for good. */
  close(): void {
    this.socket.close();
  }
}

/** Reconnections (connects after the first) of `clients`, by cause and whether they recovered. */
export interface ReconnectCounts {
  drop: { all: number; recovered: number };
  kill: { all: number; recovered: number };
  other: { all: number; recovered: number };
}

/** Counts the ended gaps of `clients`. */
export function reconnectCounts(clients: readonly ChaosClient<Socket>[]): ReconnectCounts {
  const counts: ReconnectCounts = { drop: { all: 0, recovered: 0 }, kill: { all: 0, recovered: 0 }, other: { all: 0, recovered: 0 } };
  for (const client of clients) {
    for (const gap of client.gaps) {
      if (gap.to === undefined) continue;
      counts[gap.cause].all++;
      if (gap.recovered) counts[gap.cause].recovered++;
    }
  }
  return counts;
}
