import { expect } from 'chai';
import type { LimitHit } from '../../lib/core/types.js';
import { pollingSession, webSocketSession, type Eio, type RawSession } from '../support/engine-io.js';
import { heldMemory } from '../support/memory.js';
import { FAST_PATH, startServer, type TestServer, WITHOUT_RECOVERY } from '../support/server.js';
import { ack } from '../support/wait.js';

/**
 * The outbound bound against its attack: a client that joins a room and stops reading, while another
 * connection NOTIFYs large messages to that room, on every path (long-polling without GETs, a paused
 * WebSocket on the coalescing transport or, with FAST_PATH=off, Engine.IO's own), in Engine.IO 4 and 3,
 * with and without blind heartbeats.
 */

/** The bound under test: small, so that the attack is short. */
const MAX_OUTBOUND = 256 * 1024;
const MAX_PAYLOAD = 64 * 1024;
/** One NOTIFY's message: near --max-payload. */
const MESSAGE = 'x'.repeat(60_000);
/** What the attack sends to the stalled client: 128 times the bound. */
const VOLUME = 32 * 1024 * 1024;
/**
 * What the server may hold more after the attack than before it (heap and buffers after a collection):
 * half the volume. Without the bound it holds all of it; with it, at most the bound.
 */
const MARGIN = VOLUME / 2;
const ROOM = 'stalled';

interface AttackResult {
  readonly hits: LimitHit[];
  /** Bytes the server holds more after the attack than before. */
  readonly grown: number;
  /** Engine.IO connections the server lost during the attack. */
  readonly dropped: number;
}

/**
 * NOTIFYs {@link VOLUME} bytes to the room of `victim`, a session that reads nothing, with its blind
 * heartbeats every few messages if `heartbeats`; a bystander's round trip every few messages proves
 * another client is served meanwhile.
 */
async function attack(srv: TestServer, victim: RawSession, heartbeats: boolean): Promise<AttackResult> {
  const hits: LimitHit[] = [];
  srv.app.hooks.on('limited', (hit) => void hits.push(hit));
  const notifier = await srv.connect('/layout');
  const bystander = await srv.connect('/layout');
  await ack(bystander, 'JOIN', { room: 'elsewhere', name: 'bystander' });
  const clients = srv.app.io.engine.clientsCount;
  const before = heldMemory();
  for (let sent = 0, i = 0; sent < VOLUME; sent += MESSAGE.length, i++) {
    expect(await ack(notifier, 'NOTIFY', { room: ROOM, message: MESSAGE })).to.deep.equal({ ok: true });
    if (heartbeats && i % 8 === 0) await victim.heartbeat();
    if (i % 64 === 0)
      expect(await ack(bystander, 'CLIENTS', { room: 'elsewhere' })).to.deep.equal({ ok: true, room: 'elsewhere', clients: ['bystander'] });
  }
  const grown = heldMemory() - before;
  expect(await ack(bystander, 'CLIENTS', { room: 'elsewhere' })).to.deep.equal({ ok: true, room: 'elsewhere', clients: ['bystander'] });
  return { hits, grown, dropped: clients - srv.app.io.engine.clientsCount };
}

/** Asserts the victim was cut off once, as an outbound hit, and the server kept no more than the margin. */
function expectCutOff(result: AttackResult, victim: RawSession): void {
  expect(result.hits).to.deep.equal([{ limit: 'outbound', action: 'disconnected', address: '127.0.0.1', socketId: victim.sid }]);
  expect(result.dropped).to.equal(1);
  expect(result.grown, `held ${result.grown} bytes more after sending ${VOLUME}`).to.be.below(MARGIN);
}

describe(`outbound bound (lib/engine/connection-guard.ts)${FAST_PATH ? '' : ', fast path off'}`, () => {
  // The publisher sends far above one client's event rate on purpose: it is the victim's reading that is tested.
  const start = (): Promise<TestServer> =>
    startServer({ ...WITHOUT_RECOVERY, maxOutbound: MAX_OUTBOUND, maxPayload: MAX_PAYLOAD, eventRate: 0 });

  for (const eio of [4, 3] as const satisfies readonly Eio[]) {
    const heartbeat = eio === 4 ? 'pongs' : 'pings';
    it(`cuts off an Engine.IO ${eio} long-polling session that stops GETting but POSTs ${heartbeat}`, async () => {
      const srv = await start();
      const victim = await pollingSession(srv.url, eio, ROOM);
      expectCutOff(await attack(srv, victim, true), victim);
    });

    it(`cuts off an Engine.IO ${eio} WebSocket client that stops reading and sends ${heartbeat}`, async () => {
      const srv = await start();
      const victim = await webSocketSession(srv.url, eio, ROOM);
      victim.pause();
      expectCutOff(await attack(srv, victim, true), victim);
    });
  }

  it('cuts off a WebSocket client that stops reading and sends nothing', async () => {
    const srv = await start();
    const victim = await webSocketSession(srv.url, 4, ROOM);
    victim.pause();
    expectCutOff(await attack(srv, victim, false), victim);
  });

  it('drops volatile packets for a client that stops reading, so that only reliable ones cut it off', async () => {
    const srv = await start();
    const victim = await webSocketSession(srv.url, 4, ROOM);
    victim.pause();
    const hits: LimitHit[] = [];
    srv.app.hooks.on('limited', (hit) => void hits.push(hit));
    const bystander = await srv.connect('/layout');
    const room = srv.app.io.of('/layout').to(`room:${ROOM}`);
    const clients = srv.app.io.engine.clientsCount;
    // One volatile message a turn (a round trip between them), far past the bound in all.
    for (let sent = 0; sent < 4 * MAX_OUTBOUND + 16 * 1024 * 1024; sent += MESSAGE.length) {
      room.volatile.emit('EVENT', { sender: 'server', room: ROOM, message: MESSAGE });
      await ack(bystander, 'CLIENTS', { room: ROOM });
    }
    expect(hits).to.deep.equal([]);
    expect(srv.app.io.engine.clientsCount).to.equal(clients);
    for (let sent = 0; sent <= 4 * MAX_OUTBOUND + 16 * 1024 * 1024 && hits.length === 0; sent += MESSAGE.length) {
      room.emit('EVENT', { sender: 'server', room: ROOM, message: MESSAGE });
      await ack(bystander, 'CLIENTS', { room: ROOM });
    }
    expect(hits).to.deep.equal([{ limit: 'outbound', action: 'disconnected', address: '127.0.0.1', socketId: victim.sid }]);
    expect(srv.app.io.engine.clientsCount).to.equal(clients - 1);
  });
});
