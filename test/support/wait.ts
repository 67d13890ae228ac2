/** Default deadline for anything a test waits for. Generous: a deadline only bounds a failing test. */
export const DEADLINE_MS = 3000;

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

/** Records `events` on `socket` in arrival order as `[event, payload]` pairs (v2 sockets have no onAny). */
export function inOrder(socket: EventSocket, events: readonly string[]): [string, unknown][] {
  const seen: [string, unknown][] = [];
  for (const event of events) socket.on(event, (payload: unknown) => seen.push([event, payload]));
  return seen;
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
