import { expect } from 'chai';
import { one, two } from '../support/arrays.js';
import { startNodes } from '../support/cluster.js';
import { READY_DEADLINE_MS } from '../support/deadlines.js';
import { freePort } from '../support/net.js';
import { randomPrefix, requireRedis, startRedis } from '../support/redis.js';
import { connectV4, startServer } from '../support/server.js';
import { recordLog, type LogRecord } from '../support/log.js';
import { ack, next, withDeadline } from '../support/wait.js';

/** Whether a `cluster degraded` line was logged before `line`. */
function hasDegradedBefore(lines: readonly LogRecord[], line: LogRecord): boolean {
  const at = lines.indexOf(line);
  return lines.slice(0, at).some((earlier) => typeof earlier.msg === 'string' && earlier.msg.startsWith('cluster degraded'));
}

describe('cluster mode faults (real redis-server)', function () {
  before(requireRedis);

  it('Redis down at start: the node starts and serves, /readyz is 503 (starting) and /healthcheck 200, and it joins the cluster once Redis is up', async () => {
    const port = await freePort();
    const prefix = randomPrefix();
    const url = `redis://127.0.0.1:${port}`;
    const lonely = await startServer({ redis: { url, database: undefined, prefix } });

    const notReady = await fetch(`${lonely.url}/readyz`);
    expect(notReady.status).to.equal(503);
    expect(await notReady.json()).to.deep.equal({
      ok: false,
      error: { code: 'INTERNAL', message: 'not ready: starting; the cluster adapter has not reached Redis yet' },
    });
    expect(lonely.app.readiness()).to.equal('starting');
    expect((await fetch(`${lonely.url}/healthcheck`)).status).to.equal(200);
    // Local clients are served meanwhile.
    const local = await lonely.connect('/layout');
    expect(await ack(local, 'JOIN', { room: 'r', name: 'early' })).to.deep.equal({ ok: true });
    expect(await ack(local, 'CLIENTS', { room: 'r' })).to.deep.include({ ok: true });

    const redis = await startRedis(port);
    await withDeadline(lonely.app.untilReady(), 'the node to connect once Redis is up', READY_DEADLINE_MS);
    expect((await fetch(`${lonely.url}/readyz`)).status).to.equal(200);

    const other = one(await startNodes(redis, 1, prefix));
    const remote = await other.connect('/layout');
    await ack(remote, 'JOIN', { room: 'r', name: 'late' });
    const event = next(local, 'EVENT');
    await ack(remote, 'NOTIFY', { room: 'r', message: 'hello' });
    expect(await event).to.deep.equal({ sender: 'late', room: 'r', message: 'hello' });
    expect(await ack(remote, 'CLIENTS', { room: 'r' })).to.deep.equal({ ok: true, room: 'r', clients: ['early', 'late'] });
  });

  it('Redis restarted mid-run: /readyz stays 200 with a degraded body, one log line per change, and broadcasts and CLIENTS work across nodes again', async () => {
    const redis = await startRedis();
    const recorder = recordLog('info');
    const [A, B] = two(await startNodes(redis, 2, randomPrefix(), {}, [{ log: recorder.log }, {}]));
    const a = await A.connect('/layout');
    const b = await B.connect('/layout');
    await ack(a, 'JOIN', { room: 'r', name: 'a' });
    await ack(b, 'JOIN', { room: 'r', name: 'b' });
    const before = next(b, 'EVENT');
    await ack(a, 'NOTIFY', { room: 'r', message: 1 });
    expect(await before).to.deep.include({ message: 1 });

    await redis.kill();
    await withDeadline(Promise.all([A.app.untilReady(false), B.app.untilReady(false)]), 'both nodes to notice that Redis is gone');
    // Still serving: a load balancer that checks /readyz keeps the node (lib/runtime/readiness.ts).
    const degraded = await fetch(`${A.url}/readyz`);
    expect(degraded.status).to.equal(200);
    expect(await degraded.text()).to.match(/^READY \(degraded\): cut off from Redis/);
    expect(A.app.readiness()).to.equal('degraded');
    expect(await (await fetch(`${A.url}/metrics`)).text()).to.include('realtime_rooms_readiness{state="degraded"} 1');
    await recorder.line((line) => line.msg === 'cluster degraded: cut off from the other nodes until Redis is back', 'cluster degraded');
    // Local service goes on meanwhile.
    const local = await A.connect('/layout');
    expect(await ack(local, 'JOIN', { room: 'r', name: 'local' })).to.deep.equal({ ok: true });
    await redis.restart();
    await withDeadline(Promise.all([A.app.untilReady(), B.app.untilReady()]), 'both nodes to reconnect', READY_DEADLINE_MS);
    expect((await fetch(`${A.url}/readyz`)).status).to.equal(200);
    expect(A.app.readiness()).to.equal('ready');
    await recorder.line(
      (line) => line.msg === 'cluster ready: reading the stream and subscribed' && hasDegradedBefore(recorder.lines, line),
      'cluster ready again after the restart',
    );
    const unavailable = recorder.lines.filter((line) => typeof line.msg === 'string' && line.msg.startsWith('redis unavailable'));
    expect(unavailable, 'one redis unavailable line per outage').to.have.length(1);
    local.close();

    for (const [from, to, message] of [
      [a, b, 2],
      [b, a, 3],
    ] as const) {
      const after = next(to, 'EVENT');
      expect(await ack(from, 'NOTIFY', { room: 'r', message })).to.deep.equal({ ok: true });
      expect(await after).to.deep.include({ message });
    }
    expect(await ack(b, 'CLIENTS', { room: 'r' })).to.deep.equal({ ok: true, room: 'r', clients: ['a', 'b'] });
  });
});

describe('cluster mode: --strict-readiness (real redis-server)', function () {
  before(requireRedis);

  it('answers /readyz 503 while Redis is unreachable, and 200 again once it is back', async () => {
    const redis = await startRedis();
    const node = one(await startNodes(redis, 1, randomPrefix(), { strictReadiness: true }));
    expect((await fetch(`${node.url}/readyz`)).status).to.equal(200);
    await redis.kill();
    await withDeadline(node.app.untilReady(false), 'the node to notice that Redis is gone');
    const strict = await fetch(`${node.url}/readyz`);
    expect(strict.status).to.equal(503);
    expect(await strict.json()).to.deep.equal({
      ok: false,
      error: { code: 'INTERNAL', message: 'not ready: the cluster adapter is not connected to Redis (--strict-readiness)' },
    });
    await redis.restart();
    await withDeadline(node.app.untilReady(), 'the node to reconnect', READY_DEADLINE_MS);
    expect((await fetch(`${node.url}/readyz`)).status).to.equal(200);
  });
});

describe('cluster mode: graceful shutdown of a node under load (real redis-server)', function () {
  before(requireRedis);

  it('its clients reconnect to another node and rejoin with the recommended on-connect JOIN', async () => {
    const [A, B] = two(await startNodes(await startRedis(), 2));
    const observer = await B.connect('/layout');
    await ack(observer, 'JOIN', { room: 'r', name: 'observer' });

    const names = ['c0', 'c1', 'c2', 'c3', 'c4'];
    const rejoined: Promise<void>[] = [];
    const clients = await Promise.all(
      names.map(async (name) => {
        const socket = await connectV4(`${A.url}/layout`, {
          reconnection: true,
          reconnectionDelay: 50,
          reconnectionDelayMax: 100,
          transports: ['websocket'],
        });
        // A client that knows several nodes (or one load-balanced URL): this one moves to B on reconnect.
        socket.io.on('reconnect_attempt', () => {
          (socket.io as unknown as { uri: string }).uri = B.url;
        });
        // The recommended pattern: (re)JOIN on every connect.
        let connects = 0;
        rejoined.push(
          new Promise<void>((resolve) => {
            const join = (): void => {
              connects += 1;
              const reconnected = connects > 1;
              socket.emit('JOIN', { room: 'r', name }, () => {
                if (reconnected) resolve();
              });
            };
            socket.on('connect', join);
            join();
          }),
        );
        return socket;
      }),
    );
    expect((await ack<{ clients: string[] }>(observer, 'CLIENTS', { room: 'r' })).clients).to.have.members(['observer', ...names]);

    // Load: every client keeps notifying while A shuts down.
    const load = setInterval(() => {
      for (const socket of clients) if (socket.connected) socket.emit('NOTIFY', { room: 'r', message: 'tick' });
    }, 5);
    try {
      await A.app.close();
      await withDeadline(Promise.all(rejoined), 'every client to reconnect to B and rejoin', READY_DEADLINE_MS);
    } finally {
      clearInterval(load);
    }
    expect((await ack<{ clients: string[] }>(observer, 'CLIENTS', { room: 'r' })).clients).to.have.members(['observer', ...names]);
    // Ticks sent before the load stopped may still be on their way: wait for this one message.
    const after = withDeadline(
      new Promise<unknown>((resolve) => {
        observer.on('EVENT', (event: { message: unknown }) => {
          if (event.message === 'after') resolve(event);
        });
      }),
      'the EVENT after the move',
    );
    await ack(one(clients), 'NOTIFY', { room: 'r', message: 'after' });
    expect(await after).to.deep.equal({ sender: 'c0', room: 'r', message: 'after' });
  });
});
