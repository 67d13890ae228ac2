import { DEADLINE_MS } from './deadlines.js';

/** The event-emitter surface shared by socket.io-client v4 and v2 sockets. */
export interface EventSocket {
  on(event: string, listener: (...args: never[]) => void): unknown;
  off(event: string, listener?: (...args: never[]) => void): unknown;
  emit(event: string, ...args: unknown[]): unknown;
}

/**
 * Resolves with `promise`, or rejects with an error naming `what` once `ms` have passed.
 */
export function withDeadline<T>(promise: Promise<T>, what: string, ms = DEADLINE_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/** Resolves with the first argument of the next `event` on `socket`; rejects naming the event after a deadline. */
export function next<T = unknown>(socket: EventSocket, event: string, ms = DEADLINE_MS): Promise<T> {
  let listener: ((value: T) => void) | undefined;
  const received = new Promise<T>((resolve) => {
    listener = resolve;
    socket.on(event, listener);
  });
  return withDeadline(received, `event ${event}`, ms).finally(() => socket.off(event, listener));
}

/** Like {@link next}, for an event with several arguments: resolves with all of them. */
export function nextArgs(socket: EventSocket, event: string, ms = DEADLINE_MS): Promise<unknown[]> {
  let listener: ((...args: unknown[]) => void) | undefined;
  const received = new Promise<unknown[]>((resolve) => {
    listener = (...args) => resolve(args);
    socket.on(event, listener);
  });
  return withDeadline(received, `event ${event}`, ms).finally(() => socket.off(event, listener));
}

/** Records `events` on `socket` in arrival order as `[event, payload]` pairs (v2 sockets have no onAny). */
export function inOrder(socket: EventSocket, events: readonly string[]): [string, unknown][] {
  const seen: [string, unknown][] = [];
  for (const event of events) socket.on(event, (payload: unknown) => seen.push([event, payload]));
  return seen;
}

/** One event as a socket received it: its name, then its arguments. */
export type Heard = [event: string, ...args: unknown[]];

/** The ack callback a heard event ended with (a reliable message's, a `_batch`'s); throws if it has none. */
export function ackOf(heard: Heard | undefined): () => void {
  const last = heard?.at(-1);
  if (typeof last !== 'function') throw new Error(`no ack callback in ${JSON.stringify(heard)}`);
  return last as () => void;
}

/** The catch-all listener surface of a socket.io-client v4 socket (v2 sockets have none). */
export interface AnyEventSocket {
  onAny(listener: (event: string, ...args: unknown[]) => void): unknown;
  offAny(listener?: (event: string, ...args: unknown[]) => void): unknown;
}

/** What {@link recordAll} has recorded, and how to stop it. */
export interface Recording {
  /** Every event received since the recording started, in arrival order (acks are not events). */
  readonly heard: Heard[];
  /** Stops this recording only; other listeners of the socket stay. */
  stop(): void;
}

/** Records every event `socket` receives from now on, whatever its name, as `[event, ...args]`. */
export function recordAll(socket: AnyEventSocket): Recording {
  const heard: Heard[] = [];
  const listener = (event: string, ...args: unknown[]): void => {
    heard.push([event, ...args]);
  };
  socket.onAny(listener);
  return { heard, stop: () => socket.offAny(listener) };
}

/**
 * Resolves with the first `event` that `socket`'s recording `heard` has (already, or still to come); rejects
 * naming the event after a deadline. The recording must have been started first (its listener runs before
 * this one, so the event is in `heard` when this one sees it).
 */
export function arrival(socket: AnyEventSocket, heard: readonly Heard[], event: string): Promise<Heard> {
  const found = (): Heard | undefined => heard.find(([name]) => name === event);
  let listener: ((name: string) => void) | undefined;
  const arrived = new Promise<Heard>((resolve) => {
    const now = found();
    if (now) return resolve(now);
    listener = (name) => {
      if (name === event) resolve(found() ?? [event]);
    };
    socket.onAny(listener);
  });
  return withDeadline(arrived, `event ${event}`).finally(() => {
    if (listener) socket.offAny(listener);
  });
}

/** Collects every `event` on `socket` from now on, in arrival order. */
export function collect<T = unknown>(socket: EventSocket, event: string): T[] {
  const seen: T[] = [];
  socket.on(event, (value: T) => seen.push(value));
  return seen;
}

/**
 * Sends `event` with `args` and resolves with the ack's response; rejects naming the event after a deadline.
 * Works with v4 and legacy v2 clients alike (both take the ack as the last argument).
 */
export function ack<T = unknown>(socket: EventSocket, event: string, ...args: unknown[]): Promise<T> {
  const answered = new Promise<T>((resolve) => socket.emit(event, ...args, (response: T) => resolve(response)));
  return withDeadline(answered, `the ack of ${event}`);
}

/**
 * Resolves once every message the server sent `socket` before this call has arrived. The server writes to
 * one connection in order, so a round trip on `socket` started after the action under test comes back
 * after any message the action caused for it — no sleeping. (An unknown event is acked with BAD_REQUEST.)
 */
export async function barrier(socket: EventSocket): Promise<void> {
  await ack(socket, '__barrier__');
}

/**
 * Waits until everything the server already sent each socket has arrived. One after the other, so that
 * an ack-less request sent by an earlier socket has been processed (and its effects sent to the later
 * ones) before their barriers: a barrier orders only within its own connection.
 */
export async function settle(...sockets: readonly EventSocket[]): Promise<void> {
  for (const socket of sockets) await barrier(socket);
}

/**
 * Asserts that `socket` receives no `event` as a result of what `action` does, using a {@link barrier}
 * rather than a sleep: listening starts before `action`, and ends after a round trip that follows it.
 */
export async function silent(socket: EventSocket, event: string, action?: () => Promise<unknown>): Promise<void> {
  const seen = collect(socket, event);
  if (action) await action();
  await barrier(socket);
  socket.off(event);
  if (seen.length > 0) throw new Error(`expected no ${event}, got ${JSON.stringify(seen)}`);
}

/** Resolves with the payloads of the next `count` `event`s on `socket`; rejects naming how many came after a deadline. */
export function received<T = unknown>(socket: EventSocket, event: string, count: number, ms = DEADLINE_MS): Promise<T[]> {
  const seen: T[] = [];
  let listener: ((value: T) => void) | undefined;
  const all = new Promise<T[]>((resolve) => {
    // None to wait for (a caller counting what is still to come, when everything has come already).
    if (count <= 0) return resolve(seen);
    listener = (value: T) => {
      seen.push(value);
      if (seen.length === count) resolve(seen);
    };
    socket.on(event, listener);
  });
  return withDeadline(all, `${count} × event ${event}`, ms).finally(() => {
    // Never `off(event)` without a listener: that would remove every listener of the event.
    if (listener) socket.off(event, listener);
  });
}
