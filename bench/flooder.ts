/**
 * The flood scenario's attacker, in a process of its own (the parent starts it slightly niced on the
 * generator's core, so that the measured clients come first there): one raw WebSocket connection to
 * `/layout` that sends NOTIFY, CLIENTS or JOIN/LEAVE packets as fast as the connection takes them, every
 * other one with an ack, and reads every answer. When the server cuts it off it reconnects at once and
 * goes on, as a real attacker would. Driven over the IPC channel: `connect` (answered `ready` once the
 * first connection is up), then `start` a kind and `stop` to get its counts, kind after kind.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { WebSocket } from 'ws';
import { connectPacket, eventPacket, parseFrame } from './framing.js';

/** What the flooder sends. */
export type FloodKind = 'notify' | 'clients' | 'join-leave';

/** Counts over one `start` … `stop`. */
export interface FlooderStats {
  kind: FloodKind;
  durationMs: number;
  /** Packets written (each one event). */
  sent: number;
  /** Answers, one per request: acks, `ERROR` events, and the `CLIENTS` events of successful CLIENTS requests. */
  answered: number;
  /** Answers that were successes. */
  ok: number;
  /** Answers (acks or `ERROR`) with the code `RATE_LIMITED`. */
  rateLimited: number;
  /** Answers with any other error code. */
  otherErrors: number;
  /** Times the server closed a connected flooder. */
  disconnects: number;
  /** Connection attempts that never reached the namespace (refused handshake, connect error, closed). */
  refusedConnects: number;
  /** Connections the flood went through: the one carried over from the previous kind, and every reconnect. */
  connects: number;
  /**
   * From the end of the flood until the server had answered every acked packet still queued on the
   * connection (it reads them from its socket after the flooder has stopped writing), ms.
   */
  backlogMs: number;
  /** Whether that backlog was answered within the drain time (false: the figures that follow overlap it). */
  drained: boolean;
}

/** Messages the parent sends. */
export type FlooderCommand =
  { type: 'connect'; port: number; address: string } | { type: 'start'; kind: FloodKind; room: string } | { type: 'stop' };

/** How long `stop` waits for the server to work through the flood already written, ms. */
const DRAIN_MS = 60_000;

const NSP = '/layout';
/** Packets written per batch; the next batch waits until the last one has left (back-pressure). */
const BATCH = 64;

let ws: WebSocket | undefined;
let connected = false;
/** Where to connect; set once by `connect`. The connection is kept (and re-made) between floods too. */
let target: { port: number; address: string } | undefined;
/** Whether the parent has been told the first connection is up. */
let announced = false;
let flooding: { kind: FloodKind; room: string; started: number } | undefined;
let stats: FlooderStats = emptyStats('notify');
let pumping = false;
let nextAck = 1;
/** Acked packets written on the current connection and not answered yet. */
let pendingAcks = 0;
let packetIndex = 0;

function emptyStats(kind: FloodKind): FlooderStats {
  return {
    kind,
    durationMs: 0,
    sent: 0,
    answered: 0,
    ok: 0,
    rateLimited: 0,
    otherErrors: 0,
    disconnects: 0,
    refusedConnects: 0,
    connects: 0,
    backlogMs: 0,
    drained: true,
  };
}

function nextPacket(kind: FloodKind, room: string): string {
  const i = packetIndex++;
  const ack = i % 2 === 0 ? nextAck++ : undefined;
  if (ack !== undefined) pendingAcks++;
  switch (kind) {
    case 'notify':
      // A number, not a stamped string: the measured clients of the room skip it.
      return eventPacket(NSP, ['NOTIFY', { room, message: i }], ack);
    case 'clients':
      return eventPacket(NSP, ['CLIENTS', { room }], ack);
    case 'join-leave':
      // JOIN and LEAVE in turn, ack or not in turn: every combination within four packets.
      return Math.floor(i / 2) % 2 === 0
        ? eventPacket(NSP, ['JOIN', { room, name: 'flooder' }], ack)
        : eventPacket(NSP, ['LEAVE', { room }], ack);
  }
}

function answer(body: string): void {
  stats.answered++;
  if (body.includes('"RATE_LIMITED"')) stats.rateLimited++;
  else if (body.includes('"ok":false') || body.startsWith('["ERROR"')) stats.otherErrors++;
  else stats.ok++;
}

/** Starts the send loop on `socket` unless one runs (a stop and a start must not leave two). */
function pump(socket: WebSocket): void {
  if (pumping) return;
  pumping = true;
  step(socket);
}

function step(socket: WebSocket): void {
  if (!flooding || socket !== ws || !connected) {
    if (socket === ws) pumping = false;
    return;
  }
  const { kind, room } = flooding;
  for (let i = 0; i < BATCH - 1; i++) socket.send(nextPacket(kind, room));
  stats.sent += BATCH;
  // The callback runs once the batch has been handed to the kernel, i.e. as fast as the server reads.
  socket.send(nextPacket(kind, room), (err) => {
    if (err) {
      if (socket === ws) pumping = false;
      return;
    }
    setImmediate(() => step(socket));
  });
}

function connect(): void {
  if (!target) return;
  connected = false;
  pumping = false;
  const socket = new WebSocket(`ws://127.0.0.1:${target.port}/socket.io/?EIO=4&transport=websocket`, {
    perMessageDeflate: false,
    skipUTF8Validation: true,
    localAddress: target.address,
  });
  ws = socket;
  socket.on('error', () => undefined);
  socket.on('close', () => {
    if (socket !== ws) return;
    if (connected) stats.disconnects++;
    else stats.refusedConnects++;
    connected = false;
    pumping = false;
    pendingAcks = 0;
    ws = undefined;
    // At once, like an attacker; through setImmediate so that a refusing server does not recurse.
    setImmediate(connect);
  });
  socket.on('message', (data: Buffer) => {
    const packet = parseFrame(data.toString());
    switch (packet.kind) {
      case 'open':
        socket.send(connectPacket(NSP));
        break;
      case 'ping':
        socket.send('3');
        break;
      case 'connect':
        connected = true;
        stats.connects++;
        if (!announced) {
          announced = true;
          process.send?.({ type: 'ready' });
        }
        pump(socket);
        break;
      case 'ack':
        pendingAcks--;
        // A CLIENTS request that succeeds is answered twice, by the ack and by the CLIENTS event: the event counts.
        if (stats.kind !== 'clients' || packet.body.includes('"ok":false')) answer(packet.body);
        break;
      case 'event':
        // The room's own EVENTs reach a flooder that JOINed it; only answers to its requests count.
        if (packet.body.startsWith('["ERROR"') || packet.body.startsWith('["CLIENTS"')) answer(packet.body);
        break;
      default:
        // A connect error (`44/layout,…`): the namespace refused this connection.
        if (packet.raw.startsWith('44')) socket.terminate();
        break;
    }
  });
}

process.on('message', (command: FlooderCommand) => {
  if (command.type === 'connect') {
    target = { port: command.port, address: command.address };
    connect();
    return;
  }
  if (command.type === 'start') {
    stats = emptyStats(command.kind);
    flooding = { ...command, started: performance.now() };
    if (ws && connected) {
      stats.connects = 1;
      pump(ws);
    }
    return;
  }
  if (flooding) stats.durationMs = performance.now() - flooding.started;
  flooding = undefined;
  void drain().then(() => process.send?.({ type: 'stats', stats }));
});

/** Waits (polling: this is the harness) until the server has answered what was written, or the drain time passed. */
async function drain(): Promise<void> {
  const start = performance.now();
  while (pendingAcks > 0 && ws && performance.now() - start < DRAIN_MS) await delay(5);
  stats.backlogMs = performance.now() - start;
  stats.drained = pendingAcks <= 0 || !ws;
}

// The parent's end is this process's end.
process.on('disconnect', () => process.exit(0));
