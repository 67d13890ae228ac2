import type { EventSocket } from './wait.js';

/** A socket that can flood: v4 and legacy v2 clients both say whether they are connected. */
export interface FloodingSocket extends EventSocket {
  readonly connected: boolean;
}

/** What a flood got back. */
export interface FloodResult {
  /** Events sent before the socket was disconnected (or `max` was reached). */
  readonly sent: number;
  /** The acks that came back, in arrival order (empty for a flood without acks). */
  readonly acks: unknown[];
}

/** How many events a flood sends between two turns of the event loop: enough to outrun any rate limit. */
const BATCH = 100;

/**
 * Sends `events` round-robin from `socket`, as fast as the client can, until the server disconnects it,
 * `max` events are sent or `signal` aborts (so that a flood the server never stops still ends). With `withAcks`, every
 * event asks for an ack and the answers are collected. It yields to the event loop between batches
 * (no timer): the server and the other clients of the test share this process.
 */
export async function flood(
  socket: FloodingSocket,
  events: readonly (readonly [event: string, payload: unknown])[],
  { max, withAcks, signal }: { readonly max: number; readonly withAcks: boolean; readonly signal?: AbortSignal },
): Promise<FloodResult> {
  const acks: unknown[] = [];
  const onAck = (response: unknown): void => {
    acks.push(response);
  };
  let sent = 0;
  while (socket.connected && sent < max && signal?.aborted !== true) {
    for (let i = 0; i < BATCH && sent < max; i++, sent++) {
      const entry = events[sent % events.length];
      if (!entry) break;
      if (withAcks) socket.emit(entry[0], entry[1], onAck);
      else socket.emit(entry[0], entry[1]);
    }
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return { sent, acks };
}
