import { WebSocket } from 'ws';
import { onTeardown } from './teardown.js';
import { withDeadline } from './wait.js';

/**
 * Raw Engine.IO clients, speaking the wire by hand the way an attacker does: a session that joins a
 * `/layout` room and then reads what it chooses, over long-polling or WebSocket, in Engine.IO protocol 4
 * (socket.io-client 4) or 3 (socket.io-client 2.x).
 */

/** Engine.IO protocol revision. */
export type Eio = 3 | 4;

/** A raw session joined to a `/layout` room. */
export interface RawSession {
  /** The Engine.IO session id (what a connection-level limit hit names as `socketId`). */
  readonly sid: string;
  /**
   * Sends the client's heartbeat without reading anything: a `pong` in protocol 4 (answering no ping it
   * has seen), a `ping` in protocol 3.
   */
  heartbeat(): Promise<void>;
}

/** A raw long-polling session: it POSTs what it likes and GETs only when told. */
export interface RawPollingSession extends RawSession {
  /** POSTs `packets` (Engine.IO packets, e.g. `4…` messages or `b…` base64 binaries) in one body. */
  post(packets: readonly string[]): Promise<void>;
  /** GETs until the server closes the session (a close packet, or the session unknown: 400). */
  closed(): Promise<void>;
}

/** A raw WebSocket session: it can stop reading its socket. */
export interface RawWebSocketSession extends RawSession {
  /** Stops reading: the server's frames pile up in its TCP socket. */
  pause(): void;
  /** Resolves with the next text frame matching `wanted` (reading must not be paused). */
  frame(wanted: (text: string) => boolean, what: string): Promise<string>;
  /** Sends one Engine.IO packet as a text frame. */
  send(packet: string): void;
}

const ENGINE_PATH = '/socket.io/';

/** The packets of a long-polling body: protocol 4 separates them with U+001E, protocol 3 prefixes each with its length. */
function decodePayload(body: string, eio: Eio): string[] {
  if (eio === 4) return body.split('\x1e');
  const packets: string[] = [];
  let at = 0;
  while (at < body.length) {
    const colon = body.indexOf(':', at);
    if (colon < 0) break;
    const length = Number(body.slice(at, colon));
    packets.push(body.slice(colon + 1, colon + 1 + length));
    at = colon + 1 + length;
  }
  return packets;
}

/** A long-polling body of `packets`. */
function encodePayload(packets: readonly string[], eio: Eio): string {
  return eio === 4 ? packets.join('\x1e') : packets.map((packet) => `${packet.length}:${packet}`).join('');
}

/** The session id of an Engine.IO `open` packet (`0{"sid":…}`). */
export function sidOf(open: string | undefined): string {
  const parsed: unknown = open?.startsWith('0') ? JSON.parse(open.slice(1)) : undefined;
  if (typeof parsed !== 'object' || parsed === null || !('sid' in parsed) || typeof parsed.sid !== 'string')
    throw new Error(`not an Engine.IO open packet: ${String(open)}`);
  return parsed.sid;
}

/** The Socket.IO packets that put a session in `/layout` room `room`: CONNECT, then JOIN with ack id 1. */
const joinPackets = (room: string): [connect: string, join: string] => [
  '40/layout,',
  `42/layout,1${JSON.stringify(['JOIN', { room, name: 'stalled' }])}`,
];
const JOIN_ACK = '43/layout,1';

/**
 * Opens a long-polling session on `url` (`http://host:port`), joins `/layout` room `room` and returns it;
 * from then on it GETs nothing unless told (`closed`), so everything sent to it waits on the server.
 */
export async function pollingSession(url: string, eio: Eio, room: string): Promise<RawPollingSession> {
  const base = `${url}${ENGINE_PATH}?EIO=${eio}&transport=polling`;
  /** The packets of one GET; undefined once the session is unknown (400). */
  const poll = async (query: string): Promise<string[] | undefined> => {
    const res = await withDeadline(fetch(`${base}${query}`), 'a long-polling GET');
    if (res.status === 400) return undefined;
    if (res.status !== 200) throw new Error(`long-polling GET answered ${res.status}`);
    return decodePayload(await res.text(), eio);
  };
  const get = async (query: string): Promise<string[]> => {
    const packets = await poll(query);
    if (packets === undefined) throw new Error('long-polling GET answered 400');
    return packets;
  };
  const sid = sidOf((await get('')).find((packet) => packet.startsWith('0')));
  const session = `&sid=${encodeURIComponent(sid)}`;
  const post = async (packets: readonly string[]): Promise<void> => {
    // After a cut-off the session is gone (400): the attacker does not care.
    await withDeadline(
      fetch(`${base}${session}`, { method: 'POST', body: encodePayload(packets, eio), headers: { 'content-type': 'text/plain' } }),
      'a long-polling POST',
    ).then((res) => res.text());
  };
  const [connect, join] = joinPackets(room);
  await post([connect]);
  await post([join]);
  // The CONNECT answer and the JOIN ack may come in one response or two (a GET returns what is there).
  let joined = false;
  for (let polls = 0; !joined && polls < 3; polls++) joined = (await get(session)).some((packet) => packet.startsWith(JOIN_ACK));
  if (!joined) throw new Error('no JOIN ack on the long-polling session');
  const closed = async (): Promise<void> => {
    for (;;) {
      const packets = await poll(session);
      if (packets === undefined || packets.includes('1')) return;
    }
  };
  return {
    sid,
    heartbeat: () => post([eio === 4 ? '3' : '2']),
    post,
    closed: () => withDeadline(closed(), 'the close of the long-polling session'),
  };
}

/**
 * Opens a raw Engine.IO WebSocket connection on `url` (`http://host:port`) and waits for its `open` packet;
 * it is terminated after the test.
 */
export async function engineWebSocket(url: string, eio: Eio): Promise<RawWebSocketSession> {
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}${ENGINE_PATH}?EIO=${eio}&transport=websocket`);
  onTeardown(() => ws.terminate());
  const waiting = new Set<{ wanted: (text: string) => boolean; resolve: (text: string) => void }>();
  // Frames nobody waits for are kept until the first wait for a later one: the handshake's come in a burst.
  const seen: string[] = [];
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    if (isBinary) return;
    const text = data.toString();
    for (const waiter of waiting) {
      if (!waiter.wanted(text)) continue;
      waiting.delete(waiter);
      waiter.resolve(text);
      return;
    }
    if (seen.length < 16) seen.push(text);
  });
  const frame = (wanted: (text: string) => boolean, what: string): Promise<string> => {
    const index = seen.findIndex(wanted);
    if (index >= 0) return Promise.resolve(seen.splice(0, index + 1)[index] as string);
    seen.length = 0;
    return withDeadline(new Promise<string>((resolve) => waiting.add({ wanted, resolve })), what);
  };
  const send = (packet: string): void => {
    if (ws.readyState === WebSocket.OPEN) ws.send(packet);
  };
  const sid = sidOf(await frame((text) => text.startsWith('0{'), 'the Engine.IO open packet'));
  return {
    sid,
    heartbeat: () => {
      send(eio === 4 ? '3' : '2');
      return Promise.resolve();
    },
    pause: () => ws.pause(),
    frame,
    send,
  };
}

/** Opens a WebSocket session on `url` (`http://host:port`) and joins `/layout` room `room`. */
export async function webSocketSession(url: string, eio: Eio, room: string): Promise<RawWebSocketSession> {
  const session = await engineWebSocket(url, eio);
  const [connect, join] = joinPackets(room);
  session.send(connect);
  await session.frame((text) => text.startsWith('40/layout'), 'the /layout CONNECT');
  session.send(join);
  await session.frame((text) => text.startsWith(JOIN_ACK), 'the JOIN ack');
  return session;
}

/** Namespaces a {@link connectAll} sends CONNECTs for before it waits for their answers. */
const CONNECT_BATCH = 200;

/**
 * Sends a CONNECT with `auth` for each of `names` over one raw WebSocket `session` (multiplexed, as a
 * client does), {@link CONNECT_BATCH} at a time, and resolves with what each was answered, in the order
 * the answers came: the refusal's `data.code` (or its message, without one), or `connected`. Only the
 * answers are waited for: the session must not be connecting other namespaces meanwhile.
 */
export async function connectAll(session: RawWebSocketSession, names: readonly string[], auth: unknown = {}): Promise<string[]> {
  const answers: string[] = [];
  for (let from = 0; from < names.length; from += CONNECT_BATCH) {
    const batch = names.slice(from, from + CONNECT_BATCH);
    for (const name of batch) session.send(`40${name},${JSON.stringify(auth)}`);
    const target = answers.length + batch.length;
    await session.frame((text) => {
      if (text.startsWith('40/')) answers.push('connected');
      else if (text.startsWith('44/')) answers.push(refusalCode(text));
      else return false;
      return answers.length === target;
    }, `the answers to ${batch.length} CONNECTs`);
  }
  return answers;
}

/** The code of a CONNECT_ERROR frame (`44/<nsp>,{"message":…,"data":{"code":…}}`), or its message. */
function refusalCode(frame: string): string {
  const body = JSON.parse(frame.slice(frame.indexOf(',') + 1)) as { message?: string; data?: { code?: string } };
  return body.data?.code ?? body.message ?? frame;
}
