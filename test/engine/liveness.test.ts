import { expect } from 'chai';
import type { Socket as EngineSocket } from 'engine.io';
import { pino } from 'pino';
import { createSocketServer } from '../../lib/engine/index.js';
import { engineWebSocket, type Eio } from '../support/engine-io.js';
import { connectV2, connectV4, FAST_PATH } from '../support/server.js';
import { onTeardown } from '../support/teardown.js';
import { withDeadline } from '../support/wait.js';
import { listenWith, testBounds, type TestBounds } from './support.js';

/**
 * Liveness (lib/engine/liveness.ts): a client heartbeat counts only as the answer to the server's last
 * heartbeat once that has left the server. Short ping intervals keep each case well under a second.
 */

const PING_INTERVAL = 200;
const PING_TIMEOUT = 200;
/** Queued for a client that reads nothing: more than the kernel's socket buffers take, below the bound. */
const BACKLOG = 32 * 1024 * 1024;
const CHUNK = 'x'.repeat(64 * 1024);

/** A server built by createSocketServer with short heartbeats and a 64 MB bound, and its hits. */
async function start(): Promise<{ url: string; guard: TestBounds; connections: EngineSocket[] }> {
  const guard = testBounds(64 * 1024 * 1024);
  const log = pino({ level: 'silent' });
  const { io, url } = await listenWith((httpServer) =>
    createSocketServer(
      httpServer,
      { allowEIO3: true, pingInterval: PING_INTERVAL, pingTimeout: PING_TIMEOUT },
      { fastPath: FAST_PATH, log, bounds: guard.bounds },
    ),
  );
  const connections: EngineSocket[] = [];
  io.engine.on('connection', (conn: EngineSocket) => connections.push(conn));
  return { url, guard, connections };
}

/** Sends blind client heartbeats every few milliseconds until the test ends (an attacker's timer). */
function blindHeartbeats(send: () => void): void {
  const timer = setInterval(send, 20);
  onTeardown(() => clearInterval(timer));
}

/** Resolves once `conn` closes, with its reason. */
function closed(conn: EngineSocket): Promise<string> {
  return withDeadline(new Promise<string>((resolve) => conn.once('close', resolve)), 'the connection to close');
}

/** Resolves after `count` heartbeats Engine.IO accepted on `conn` (its `heartbeat` event). */
function heartbeats(conn: EngineSocket, count: number): Promise<void> {
  return withDeadline(
    new Promise<void>((resolve) => {
      let seen = 0;
      const onBeat = (): void => {
        if (++seen < count) return;
        conn.off('heartbeat', onBeat);
        resolve();
      };
      conn.on('heartbeat', onBeat);
    }),
    `${count} heartbeats of a connection`,
  );
}

describe(`liveness (lib/engine/liveness.ts)${FAST_PATH ? '' : ', fast path off'}`, () => {
  for (const eio of [4, 3] as const satisfies readonly Eio[]) {
    const beat = eio === 4 ? 'pongs' : 'pings';
    it(`cuts off an Engine.IO ${eio} client that reads nothing and sends blind ${beat}, as a liveness hit`, async () => {
      const { url, guard, connections } = await start();
      const client = await engineWebSocket(url, eio);
      client.pause();
      const [conn] = connections;
      if (!conn) throw new Error('no Engine.IO connection');
      // The server's next heartbeat queues behind this and never leaves: the client reads nothing.
      for (let queued = 0; queued < BACKLOG; queued += CHUNK.length) conn.send(CHUNK);
      const done = closed(conn);
      blindHeartbeats(() => void client.heartbeat());
      expect(await guard.nextHit()).to.deep.equal({
        limit: 'liveness',
        action: 'disconnected',
        address: '127.0.0.1',
        socketId: client.sid,
      });
      expect(await done).to.equal('ping timeout');
      expect(guard.hits).to.have.length(1);
    });
  }

  it('does not let unsolicited pongs postpone the server’s ping; answered pings keep the client', async () => {
    const { url, guard, connections } = await start();
    const client = await engineWebSocket(url, 4);
    blindHeartbeats(() => void client.heartbeat());
    for (let round = 0; round < 3; round++) {
      await client.frame((text) => text === '2', 'the server’s ping');
      client.send('3');
    }
    expect(guard.hits).to.deep.equal([]);
    expect(connections[0]?.readyState).to.equal('open');
  });

  it('keeps socket.io-client 4 and 2 connections alive over several heartbeats', async () => {
    const { url, guard, connections } = await start();
    await Promise.all([connectV4(`${url}/`), connectV2(`${url}/`)]);
    await Promise.all(connections.map((conn) => heartbeats(conn, 3)));
    expect(guard.hits).to.deep.equal([]);
    expect(connections.map((conn) => conn.readyState)).to.deep.equal(['open', 'open']);
  });
});
