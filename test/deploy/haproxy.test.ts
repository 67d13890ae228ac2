import { expect } from 'chai';
import type { Socket } from 'socket.io-client';
import type { LegacySocket } from 'socket.io-client-v2';
import { isClusterReadyLine, startCli, type CliServer, type LogLine } from '../support/cli.js';
import { REDIS_DEADLINE_MS, SHUTDOWN_DEADLINE_MS, scaled } from '../support/deadlines.js';
import { requireHaproxy, startHaproxy, type TestHaproxy } from '../support/haproxy.js';
import { randomPrefix, requireRedis, startRedis, type TestRedis } from '../support/redis.js';
import { connectV2, connectV4, refusedV4, type ClientOptions } from '../support/server.js';
import { ack, next, withDeadline, type EventSocket } from '../support/wait.js';

/**
 * The nodes' `--drain-delay`: above HAProxy's `inter 200ms fall 2` (docs/haproxy.cfg), so that HAProxy has
 * seen two 503s from /readyz and taken the node out before it disconnects its clients.
 */
const DRAIN_DELAY_MS = 1_000;

/**
 * How long after SIGTERM the clients of a draining node are back in their room on the other node: the
 * drain delay, then socket.io-client's default first reconnection delay (0.5–1.5 s), through HAProxy,
 * and a JOIN on 'connect'. README "Behind a reverse proxy" gives this figure.
 */
const DRAIN_RECONNECT_BOUND_MS = 4_000;

/** The room every client of these tests joins, and re-joins on every 'connect'. */
const ROOM = 'living-room';

/** The two nodes of a test, in the order of the `server` lines of docs/haproxy.cfg. */
type Nodes = readonly [CliServer, CliServer];

/**
 * Two CLI nodes (real child processes) on one redis-server, or in memory mode without one, believing the
 * X-Forwarded-For of HAProxy on 127.0.0.1 and logging at debug: their `connected` lines say which node a
 * client landed on, their `incoming request` lines show HAProxy's health checks.
 */
async function startNodes(redis?: TestRedis): Promise<Nodes> {
  const prefix = randomPrefix();
  const args = [...'-p 0 -H 127.0.0.1 --trust-proxy 127.0.0.1 --log-level debug'.split(' '), '--drain-delay', String(DRAIN_DELAY_MS)];
  const cluster = redis ? ['-r', redis.url, '--redis-prefix', prefix] : [];
  const start = async (): Promise<CliServer> => {
    const node = await startCli([...args, ...cluster]);
    if (redis) await node.waitForLog(isClusterReadyLine, 'the cluster ready line');
    return node;
  };
  const [A, B] = await Promise.all([start(), start()]);
  return [A, B];
}

/** HAProxy in front of `nodes`, with docs/haproxy.cfg. */
function proxy(nodes: Nodes, sticky = true): Promise<TestHaproxy> {
  return startHaproxy(
    nodes.map((node) => node.port),
    { sticky },
  );
}

/** Which of `nodes` logged the connection of socket `id`, as 0 or 1. */
function nodeOf(nodes: Nodes, id: string): Promise<number> {
  const connected = (line: LogLine): boolean => line.msg === 'connected' && line.socketId === id;
  // The other node's wait ends when that node exits (at teardown at the latest); any() ignores it.
  return Promise.any(nodes.map((node, index) => node.waitForLog(connected, `the connection of ${id}`).then(() => index)));
}

/** A client in ROOM that JOINs on every 'connect', the first one and every reconnect, as the README recommends. */
interface Member {
  readonly name: string;
  readonly socket: EventSocket;
  /** Its socket id now. */
  id(): string;
  /** Resolves once it has been acked `count` JOINs in all (1: the first connect; 2: after one reconnect). */
  joined(count: number, ms?: number): Promise<void>;
}

/** Registers the JOIN-on-connect of a client, before it connects. */
function rejoining(name: string, socket: EventSocket & { readonly id?: string }): Member {
  let joins = 0;
  const waiting = new Set<() => void>();
  socket.on('connect', () => {
    socket.emit('JOIN', { room: ROOM, name }, () => {
      joins += 1;
      for (const wake of waiting) wake();
    });
  });
  return {
    name,
    socket,
    id: () => socket.id ?? '',
    joined: (count, ms) =>
      withDeadline(
        new Promise<void>((resolve) => {
          const check = (): void => {
            if (joins < count) return;
            waiting.delete(check);
            resolve();
          };
          waiting.add(check);
          check();
        }),
        `${name} to be in ${ROOM} (JOIN ${count})`,
        ms,
      ),
  };
}

/**
 * The four kinds of client, all through HAProxy's one URL: socket.io-client v4 on long-polling, on
 * WebSocket, and upgrading from one to the other (both with `withCredentials`, without which v4 keeps no
 * cookie in Node, so no sticky session), and the legacy 2.x client on WebSocket only (it has no cookie jar
 * in Node). Connected one after the other, so that round robin sends them to alternate nodes.
 */
async function connectClients(url: string, reconnection: boolean): Promise<Member[]> {
  const layout = `${url}/layout`;
  const v4 = async (name: string, options: ClientOptions): Promise<Member> => {
    let member: Member | undefined;
    await connectV4(layout, { reconnection, ...options }, (socket) => (member = rejoining(name, socket)));
    if (!member) throw new Error('unreachable: the member is made before the connect');
    await member.joined(1);
    return member;
  };
  const polling = await v4('polling', { transports: ['polling'], withCredentials: true });
  const websocket = await v4('websocket', { transports: ['websocket'] });
  let upgraded: Promise<unknown> | undefined;
  const upgrading = await v4('upgrading', { withCredentials: true });
  const engine = (upgrading.socket as Socket).io.engine;
  // The upgrade request carries the cookie: without it, it would reach the other node and fail.
  if (engine.transport.name !== 'websocket') upgraded = next(engine as unknown as EventSocket, 'upgrade');
  await upgraded;
  expect(engine.transport.name).to.equal('websocket');
  let legacy: Member | undefined;
  await connectV2(layout, { transports: ['websocket'], reconnection }, (socket: LegacySocket) => (legacy = rejoining('legacy', socket)));
  if (!legacy) throw new Error('unreachable: the member is made before the connect');
  await legacy.joined(1);
  expect((polling.socket as Socket).io.engine.transport.name).to.equal('polling');
  return [polling, websocket, upgrading, legacy];
}

/** Resolves with the members of ROOM that `socket` gets from CLIENTS, on every node. */
async function clientsOf(socket: EventSocket): Promise<string[]> {
  return (await ack<{ clients: string[] }>(socket, 'CLIENTS', { room: ROOM })).clients;
}

/** Whether a node's log line is HAProxy's health check arriving. */
function isHealthCheck(line: LogLine): boolean {
  return line.msg === 'incoming request' && line.url === '/readyz';
}

describe('behind HAProxy (docs/haproxy.cfg; real nodes, real redis-server)', function () {
  before(requireHaproxy);
  before(requireRedis);

  it(`v4 polling, WebSocket and upgrading clients and v2 WebSocket clients land on both nodes and share rooms and lobbies across them; when one drains, its clients are back on the other within ${DRAIN_RECONNECT_BOUND_MS} ms`, async () => {
    const nodes = await startNodes(await startRedis());
    const haproxy = await proxy(nodes);
    const members = await connectClients(haproxy.url, true);
    const landed = await Promise.all(members.map((member) => nodeOf(nodes, member.id())));
    expect(new Set(landed), `nodes of ${members.map((m) => m.name).join(', ')}: ${landed.join(', ')}`).to.deep.equal(new Set([0, 1]));

    const [polling, ...others] = members;
    if (!polling) throw new Error('no members');
    expect(await clientsOf(polling.socket)).to.deep.equal(members.map((member) => member.name));
    const events = others.map((member) => next(member.socket, 'EVENT'));
    expect(await ack(polling.socket, 'NOTIFY', { room: ROOM, message: 'hello' })).to.deep.equal({ ok: true });
    for (const event of await Promise.all(events)) expect(event).to.deep.equal({ sender: 'polling', room: ROOM, message: 'hello' });

    // Two lobby clients, which round robin puts on different nodes: each sees the other.
    const first = await connectV4(`${haproxy.url}/lobby`, { transports: ['websocket'] });
    const second = await connectV4(`${haproxy.url}/lobby`, { transports: ['websocket'] });
    expect(new Set(await Promise.all([first, second].map((socket) => nodeOf(nodes, socket.id ?? ''))))).to.have.lengthOf(2);
    await ack(first, 'JOIN', 'call-7');
    const joined = next(first, 'JOINED');
    expect(await ack(second, 'JOIN', 'call-7')).to.deep.equal({ ok: true, lobby: 'call-7', peers: [first.id] });
    expect(await joined).to.equal(second.id);

    // Drain node1: its /readyz answers 503 for the drain delay, HAProxy takes it out, then it disconnects
    // its clients, which reconnect through HAProxy to node2 and JOIN again on 'connect'.
    const drained = members.filter((_member, index) => landed[index] === 0);
    const [A] = nodes;
    const started = performance.now();
    A.child.kill('SIGTERM');
    await Promise.all(drained.map((member) => member.joined(2, scaled(DRAIN_RECONNECT_BOUND_MS))));
    const elapsed = performance.now() - started;
    console.log(`      (${drained.length} clients of the drained node back in ${Math.round(elapsed)} ms)`);
    const down = await haproxy.waitForLine(/Server realtime\/node1 is DOWN/, 'node1 DOWN');
    expect(down, 'taken out by its 503, while it still served').to.match(/Layer7 wrong status, code: 503/);
    const exit = await withDeadline(A.exited, 'node1 to exit after SIGTERM', SHUTDOWN_DEADLINE_MS + DRAIN_DELAY_MS);
    expect(exit.code, exit.stderr).to.equal(0);

    // Recovered (through Redis) on node2 with the socket id they had on node1: found in node2's log.
    const [, B] = nodes;
    for (const member of drained)
      await B.waitForLog((line) => line.msg === 'connected' && line.socketId === member.id(), `${member.name} on node2`);
    expect(await clientsOf(polling.socket)).to.have.members(members.map((member) => member.name));
    const again = others.map((member) => next(member.socket, 'EVENT'));
    await ack(polling.socket, 'NOTIFY', { room: ROOM, message: 'after' });
    for (const event of await Promise.all(again)) expect(event).to.deep.equal({ sender: 'polling', room: ROOM, message: 'after' });
  });

  it('keeps both nodes in service through a Redis outage: /readyz stays 200 (degraded), so clients still connect through the proxy and are served by their node', async () => {
    const redis = await startRedis();
    const nodes = await startNodes(redis);
    const haproxy = await proxy(nodes);
    await redis.kill();
    // Three health checks of each node after it lost Redis: HAProxy has read the answers to the first two
    // (checks of a server do not overlap), as many as `fall 2` needs to take a node out.
    await Promise.all(
      nodes.map(async (node) => {
        const lost = await node.waitForLog(
          (line) => typeof line.msg === 'string' && line.msg.startsWith('cluster degraded'),
          'the cluster degraded line',
        );
        const from = node.logs.indexOf(lost);
        let checks = 0;
        await node.waitForLog((line) => isHealthCheck(line) && node.logs.indexOf(line) > from && ++checks === 3, 'three health checks');
      }),
    );
    expect(haproxy.lines.filter((line) => / is DOWN/.test(line))).to.deep.equal([]);

    const readyz = await fetch(`${haproxy.url}/readyz`);
    expect(readyz.status).to.equal(200);
    expect(await readyz.text()).to.match(/degraded/i);
    const healthcheck = await fetch(`${haproxy.url}/healthcheck`);
    expect(healthcheck.status).to.equal(200);

    // Round robin: of three clients, two share a node. It serves them while Redis is away: CLIENTS answers
    // from its own sockets, NOTIFY is acked and its EVENT held until Redis is back.
    const sockets: { name: string; socket: Socket; node: number }[] = [];
    for (const name of ['a', 'b', 'c']) {
      const socket = await connectV4(`${haproxy.url}/layout`, { transports: ['websocket'] });
      expect(await ack(socket, 'JOIN', { room: ROOM, name })).to.include({ ok: true });
      sockets.push({ name, socket, node: await nodeOf(nodes, socket.id ?? '') });
    }
    const [sender, receiver] = sockets.filter((entry, _index, all) => all.filter((other) => other.node === entry.node).length === 2);
    if (!sender || !receiver) throw new Error(`no two clients on one node: ${sockets.map((entry) => entry.node).join(', ')}`);
    expect(await clientsOf(sender.socket)).to.deep.equal([sender.name, receiver.name]);
    const event = next(receiver.socket, 'EVENT', REDIS_DEADLINE_MS);
    expect(await ack(sender.socket, 'NOTIFY', { room: ROOM, message: 'held' })).to.deep.equal({ ok: true });
    await redis.restart();
    expect(await event).to.deep.equal({ sender: sender.name, room: ROOM, message: 'held' });
  });

  it('needs the sticky cookie for long-polling: without it, round robin sends the next request elsewhere, answered 400 "Session ID unknown"', async () => {
    const haproxy = await proxy(await startNodes(), false);
    const handshake = await fetch(`${haproxy.url}/socket.io/?EIO=4&transport=polling`);
    expect(handshake.status).to.equal(200);
    const sid = /"sid":"([^"]+)"/.exec(await handshake.text())?.[1];
    expect(sid).to.be.a('string');
    const poll = await fetch(`${haproxy.url}/socket.io/?EIO=4&transport=polling&sid=${sid ?? ''}`);
    expect(poll.status).to.equal(400);
    expect(await poll.json()).to.deep.equal({ code: 1, message: 'Session ID unknown' });

    const refused = await refusedV4(`${haproxy.url}/layout`, { transports: ['polling'], withCredentials: true });
    expect(refused.message).to.match(/^xhr (poll|post) error$/);
    expect((refused as { description?: unknown }).description).to.equal(400);
  });
});
