/**
 * Just enough of the Engine.IO v4 / Socket.IO v5 text framing for the load generator and the raw-ws
 * baselines: `4` is an Engine.IO message, followed by a Socket.IO packet `<type>/<nsp>,<ackId?><json>`.
 */

/** Engine.IO packet types used here. */
export const EIO = { OPEN: '0', PING: '2', PONG: '3', MESSAGE: '4' } as const;

/** `40/ns,`: connect to a namespace. */
export function connectPacket(nsp: string): string {
  return `40${nsp},`;
}

/** `42/ns,<id>["event",...args]`: an event, with an ack id when `ackId` is given. */
export function eventPacket(nsp: string, args: readonly unknown[], ackId?: number): string {
  return `42${nsp},${ackId ?? ''}${JSON.stringify(args)}`;
}

/** Parsed Socket.IO packet of interest to the bench. */
export type SioPacket =
  | { kind: 'open' }
  | { kind: 'ping' }
  | { kind: 'connect'; nsp: string; body: string }
  | { kind: 'event'; nsp: string; ackId: number | undefined; body: string }
  | { kind: 'ack'; nsp: string; ackId: number; body: string }
  | { kind: 'other'; raw: string };

/**
 * Parses a frame without JSON-decoding its body (receivers in the hot loop only need a few characters).
 */
export function parseFrame(frame: string): SioPacket {
  const eio = frame.charCodeAt(0);
  if (eio === 0x30) return { kind: 'open' };
  if (eio === 0x32) return { kind: 'ping' };
  if (eio !== 0x34) return { kind: 'other', raw: frame };
  const type = frame.charCodeAt(1);
  let i = 2;
  let nsp = '/';
  if (frame.charCodeAt(i) === 0x2f) {
    const comma = frame.indexOf(',', i);
    nsp = frame.slice(i, comma);
    i = comma + 1;
  }
  let ackId: number | undefined;
  let j = i;
  while (j < frame.length && frame.charCodeAt(j) >= 0x30 && frame.charCodeAt(j) <= 0x39) j++;
  if (j > i) ackId = Number(frame.slice(i, j));
  const body = frame.slice(j);
  if (type === 0x30) return { kind: 'connect', nsp, body };
  if (type === 0x32) return { kind: 'event', nsp, ackId, body };
  if (type === 0x33 && ackId !== undefined) return { kind: 'ack', nsp, ackId, body };
  return { kind: 'other', raw: frame };
}
