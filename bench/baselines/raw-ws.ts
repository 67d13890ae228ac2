/**
 * Baselines: a raw `ws` server that speaks just enough Engine.IO v4 / Socket.IO framing for the bench
 * (`/layout` JOIN and NOTIFY, `/lobby` JOIN and RTCSIGNAL) and builds each broadcast frame once.
 * With COALESCE=1 every target socket is corked until the end of the event-loop turn, so the frames of
 * several broadcasts leave in one write: the practical limit for Node on this path. Listens on $PORT.
 */
import type { Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { Sender, WebSocketServer, type WebSocket } from 'ws';
import { connectPacket, parseFrame } from '../framing.js';

const coalesce = process.env.COALESCE === '1';

interface Peer {
  ws: WebSocket;
  raw: Socket;
  id: string;
  name?: string;
  lobby?: string;
}

const rooms = new Map<string, Set<Peer>>();
const peersById = new Map<string, Peer>();
const corked = new Set<Socket>();
let flushScheduled = false;

function flush(): void {
  flushScheduled = false;
  for (const raw of corked) raw.uncork();
  corked.clear();
}

/** Writes a complete pre-built frame straight to the TCP socket (no compression is negotiated). */
function writeFrame(peer: Peer, frame: readonly Buffer[]): void {
  const raw = peer.raw;
  if (coalesce && !corked.has(raw)) {
    raw.cork();
    corked.add(raw);
    if (!flushScheduled) {
      flushScheduled = true;
      setImmediate(flush);
    }
  }
  if (coalesce) {
    for (const part of frame) raw.write(part);
    return;
  }
  // Header and payload in one write, as ws itself does for a single frame.
  raw.cork();
  for (const part of frame) raw.write(part);
  raw.uncork();
}

function buildFrame(text: string): Buffer[] {
  return Sender.frame(Buffer.from(text), { fin: true, opcode: 1, mask: false, readOnly: false, rsv1: false });
}

function send(peer: Peer, text: string): void {
  writeFrame(peer, buildFrame(text));
}

const wss = new WebSocketServer({ port: Number(process.env.PORT ?? 0), host: '127.0.0.1', perMessageDeflate: false, path: '/socket.io/' });

wss.on('connection', (ws, request) => {
  const peer: Peer = { ws, raw: request.socket, id: randomBytes(15).toString('base64url') };
  peersById.set(peer.id, peer);
  send(peer, `0${JSON.stringify({ sid: peer.id, upgrades: [], pingInterval: 600000, pingTimeout: 600000, maxPayload: 1000000 })}`);
  ws.on('message', (data: Buffer) => onMessage(peer, data.toString()));
  ws.on('close', () => {
    peersById.delete(peer.id);
    for (const members of rooms.values()) members.delete(peer);
  });
});

function onMessage(peer: Peer, frame: string): void {
  const packet = parseFrame(frame);
  if (packet.kind === 'connect') {
    send(peer, `${connectPacket(packet.nsp)}${JSON.stringify({ sid: peer.id })}`);
    return;
  }
  if (packet.kind !== 'event') return;
  const [event, payload] = JSON.parse(packet.body) as [string, unknown];
  const ack = (): void => {
    if (packet.ackId !== undefined) send(peer, `43${packet.nsp},${packet.ackId}[{"ok":true}]`);
  };
  if (packet.nsp === '/layout' && event === 'JOIN') {
    const { room, name } = payload as { room: string; name: string };
    peer.name = name;
    let members = rooms.get(room);
    if (!members) rooms.set(room, (members = new Set()));
    members.add(peer);
    ack();
  } else if (packet.nsp === '/layout' && event === 'NOTIFY') {
    const { room, message } = payload as { room: string; message: unknown };
    const frameParts = buildFrame(`42/layout,${JSON.stringify(['EVENT', { sender: peer.name ?? 'unknown', room, message }])}`);
    for (const member of rooms.get(room) ?? []) if (member !== peer) writeFrame(member, frameParts);
    ack();
  } else if (packet.nsp === '/lobby' && event === 'JOIN') {
    const lobby = payload as string;
    peer.lobby = lobby;
    const key = `lobby:${lobby}`;
    let members = rooms.get(key);
    if (!members) rooms.set(key, (members = new Set()));
    members.add(peer);
    const joined = buildFrame(`42/lobby,${JSON.stringify(['JOINED', peer.id])}`);
    for (const member of members) writeFrame(member, joined);
    ack();
  } else if (packet.nsp === '/lobby' && event === 'RTCSIGNAL') {
    const signal = payload as { to: string } & Record<string, unknown>;
    const target = peersById.get(signal.to);
    if (target && peer.lobby !== undefined && target.lobby === peer.lobby) {
      send(target, `42/lobby,${JSON.stringify(['RTCSIGNAL', { ...signal, from: peer.id }])}`);
    }
    ack();
  }
}

wss.on('listening', () => {
  process.stdout.write(`${JSON.stringify({ msg: 'listening on', port: (wss.address() as { port: number }).port })}\n`);
});
process.on('SIGTERM', () => process.exit(0));
