import { io, type Socket } from 'socket.io-client';
import type { ErrorCode } from '../protocol/errors.js';
import { ProtocolError, TimeoutError } from './errors.js';
import { DEFAULT_TIMEOUT_MS, type ClientOptions } from './options.js';

/** Any listener, as the event maps of protocol/ declare them. */
export type Listener = (...args: never[]) => void;

/**
 * A listener as the socket calls it: with whatever arrived. The protocol's maps type what arrives; this is
 * the one place that hands their listeners to the untyped socket.
 */
type Untyped = (...args: unknown[]) => void;

/** An event map: event name → listener signature (the protocol's `…ServerToClientEvents` interfaces). */
export type EventMap<Events> = { [E in keyof Events]: Listener };

/** What every client reports about its own connection, next to the protocol's events. */
export interface ConnectionEvents {
  /**
   * The client is connected again after a drop or a server restart, and has restored what it had: `recovered`
   * when the service recovered the session (same id, rooms, and the events missed meanwhile), else the client
   * has joined its rooms (its lobby) again by itself before this fires. Not fired for the first connect: await
   * `ready` for that.
   */
  connect: (recovered: boolean) => void;
  /** The connection dropped (socket.io-client's reason); unless it was `close()`, the client reconnects by itself. */
  disconnect: (reason: string) => void;
  /** Something the client did by itself failed: a rejoin after a reconnect, a site handler that threw. */
  error: (error: Error) => void;
}

/**
 * The private field of socket.io-client v4's socket that tells whether the namespace recovers sessions: the
 * session id the server sent on connect, set only when the server has connection-state recovery on.
 */
interface RecoveringSocket {
  readonly _pid?: string;
}

/**
 * `args` of an event as the service sent them, without the recovery offset. With recovery on, the service
 * adds its offset as one more, last string argument to every event without an ack, and socket.io-client
 * keeps it (`_lastOffset`) without removing it. It takes a trailing string as the offset exactly when the
 * server sent a session id (`_pid`), after the listeners have run: the same rule here strips exactly that.
 */
export function withoutOffset(socket: Socket, args: readonly unknown[]): unknown[] {
  const { _pid } = socket as Socket & RecoveringSocket;
  return _pid !== undefined && typeof args.at(-1) === 'string' ? args.slice(0, -1) : [...args];
}

/** Names of {@link ConnectionEvents}, which the client emits itself rather than the socket. */
const CONNECTION_EVENTS: ReadonlySet<string> = new Set(['connect', 'disconnect', 'error']);

/** The socket's result of a successful request: the ack's fields next to `ok: true`. */
export type AckResult = Readonly<Record<string, unknown>>;

/** Whether `value` is a plain object (not null, not an array). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Whether `value` is an array of strings (peers, names). */
export function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}

/**
 * One Socket.IO connection to one namespace, shared by the clients of this folder: the socket with the
 * options passed through, requests that settle on their ack, the connection's own events, and the hook that
 * restores state after a reconnect the service did not recover.
 */
export class Connection<Events extends EventMap<Events>> {
  /** The underlying socket.io-client socket (escape hatch: its manager, `onAny`, …). */
  readonly socket: Socket;
  /** Resolves once the client is first connected (and has joined what it joins on connect); rejects if refused. */
  readonly ready: Promise<void>;
  private readonly timeoutMs: number;
  private readonly own = new Map<string, Set<Listener>>();
  /** event → listener → what the socket calls: the listener without the recovery offset, for `off`. */
  private readonly wrapped = new Map<string, Map<Listener, Untyped>>();
  private connectedBefore = false;

  /**
   * @param restore run on every connect after the first that the service did not recover, before
   * `connect` is emitted; its failure is emitted as `error`. The first connect runs `start` instead,
   * whose failure rejects `ready`.
   */
  constructor(
    url: string,
    options: ClientOptions,
    private readonly start: () => Promise<void> = async () => {},
    private readonly restore: () => Promise<void> = start,
  ) {
    const { timeout, connectTimeout, ...socketOptions } = options;
    this.timeoutMs = timeout ?? DEFAULT_TIMEOUT_MS;
    this.socket = io(url, { ...socketOptions, ...(connectTimeout === undefined ? {} : { timeout: connectTimeout }) });
    this.ready = this.firstConnect();
    // Nobody may await `ready` (a client used without it): its rejection must not crash the process.
    this.ready.catch(() => {});
    this.socket.on('connect', () => this.onConnect());
    this.socket.on('disconnect', (reason: string) => this.emitOwn('disconnect', reason));
  }

  /** The socket id while connected (a lobby's peer id), else undefined. */
  get id(): string | undefined {
    return this.socket.id;
  }

  /**
   * Sends `event` with `args` and resolves with the ack's result; rejects with a {@link ProtocolError} for a
   * failed ack and a {@link TimeoutError} when none comes within the client's timeout. Sent while disconnected,
   * the request waits in socket.io-client's buffer for the connection, its timeout running.
   */
  request(event: string, ...args: unknown[]): Promise<AckResult> {
    return new Promise((resolve, reject) => {
      this.socket.timeout(this.timeoutMs).emit(event, ...args, (err: Error | null, response: unknown) => {
        if (err) return reject(new TimeoutError(event, this.timeoutMs));
        if (!isRecord(response) || (response.ok !== true && response.ok !== false))
          return reject(new ProtocolError(event, 'INTERNAL', `unexpected answer to ${event}: ${JSON.stringify(response)}`));
        if (response.ok === true) return resolve(response);
        const error = response.error;
        const code = isRecord(error) && typeof error.code === 'string' ? error.code : 'INTERNAL';
        const message = isRecord(error) && typeof error.message === 'string' ? error.message : `${event} failed`;
        // The service answers only codes of its closed catalog (protocol/errors.ts).
        reject(new ProtocolError(event, code as ErrorCode, message));
      });
    });
  }

  /** Adds `listener` for `event`: a protocol event of the namespace, or one of {@link ConnectionEvents}. */
  on(event: string, listener: Listener): void {
    if (CONNECTION_EVENTS.has(event)) {
      const set = this.own.get(event) ?? new Set();
      set.add(listener);
      this.own.set(event, set);
    } else {
      const wrappers = this.wrapped.get(event) ?? new Map<Listener, Untyped>();
      if (wrappers.has(listener)) return;
      const wrapper: Untyped = (...args) => (listener as Untyped)(...withoutOffset(this.socket, args));
      wrappers.set(listener, wrapper);
      this.wrapped.set(event, wrappers);
      this.socket.on(event, wrapper);
    }
  }

  /** Removes `listener` (or, without one, every listener of `event` that was added with {@link on}). */
  off(event: string, listener?: Listener): void {
    if (CONNECTION_EVENTS.has(event)) {
      if (listener) this.own.get(event)?.delete(listener);
      else this.own.delete(event);
    } else if (listener) {
      const wrapper = this.wrapped.get(event)?.get(listener);
      if (!wrapper) return;
      this.wrapped.get(event)?.delete(listener);
      this.socket.off(event, wrapper);
    } else {
      for (const wrapper of this.wrapped.get(event)?.values() ?? []) this.socket.off(event, wrapper);
      this.wrapped.delete(event);
    }
  }

  /** Emits one of the client's own {@link ConnectionEvents}. */
  emitOwn<E extends keyof ConnectionEvents>(event: E, ...args: Parameters<ConnectionEvents[E]>): void {
    for (const listener of [...(this.own.get(event) ?? [])]) (listener as Untyped)(...args);
  }

  /** Closes the connection for good: no reconnect, pending requests time out. */
  close(): void {
    this.socket.disconnect();
  }

  private firstConnect(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const fail = (err: Error): void => {
        cleanup();
        this.socket.disconnect();
        reject(err);
      };
      const onError = (err: Error & { data?: unknown }): void => {
        const { data } = err;
        if (isRecord(data) && typeof data.code === 'string') return fail(new ProtocolError('connect', data.code as ErrorCode, err.message));
        // A refused handshake (or no reconnection at all) is final; a network error is retried by the manager.
        if (!this.socket.active || !this.socket.io.reconnection()) fail(err);
      };
      const onGiveUp = (): void => fail(new Error(`could not connect to ${this.socket.io.opts.hostname ?? 'the service'}`));
      const onConnect = (): void => {
        cleanup();
        this.start().then(resolve, reject);
      };
      const cleanup = (): void => {
        this.socket.off('connect_error', onError);
        this.socket.off('connect', onConnect);
        this.socket.io.off('reconnect_failed', onGiveUp);
      };
      this.socket.on('connect_error', onError);
      this.socket.once('connect', onConnect);
      this.socket.io.on('reconnect_failed', onGiveUp);
    });
  }

  private onConnect(): void {
    if (!this.connectedBefore) {
      this.connectedBefore = true;
      return;
    }
    // undefined (not false) when the namespace does not recover sessions at all.
    const recovered = this.socket.recovered === true;
    // A recovered session still has its rooms, its name and its lobby: re-sending them would double the JOINs.
    const restored = recovered ? Promise.resolve() : this.restore();
    restored.then(
      () => this.emitOwn('connect', recovered),
      (err: unknown) => {
        this.emitOwn('error', err instanceof Error ? err : new Error(String(err)));
        this.emitOwn('connect', recovered);
      },
    );
  }
}
