import { expect } from 'chai';
import type { Socket } from 'socket.io-client';
import { Compile } from 'typebox/compile';
import { memoryDirectory } from '../../lib/cluster/memory.js';
import { roomKey } from '../../lib/core/rooms.js';
import { LayoutEventSchemas, LobbyEventSchemas } from '../../protocol/index.js';
import { one } from '../support/arrays.js';
import { isClusterReadyLine, startCli, type CliServer } from '../support/cli.js';
import { startNodes } from '../support/cluster.js';
import { READY_DEADLINE_MS, scaled } from '../support/deadlines.js';
import { recordLog, type LogRecorder } from '../support/log.js';
import { randomPrefix, requireRedis, startRedis } from '../support/redis.js';
import { connectV4, idOf, startServer, type TestServer } from '../support/server.js';
import { onTeardown } from '../support/teardown.js';
import { ack, barrier, next, withDeadline } from '../support/wait.js';

/** The cluster timeout of the healthy nodes: the default, scaled with the suite's deadlines on a slow machine. */
const CLUSTER_TIMEOUT_MS = scaled(500);
/** Well before Socket.IO's own 5 s, after which every lookup used to fail while a node was frozen. */
const PROMPT_MS = scaled(2_000);

/** `promise`, which must settle well before the adapter's 5 s timeout. */
function promptly<T>(promise: Promise<T>, what: string): Promise<T> {
  return withDeadline(promise, `${what}, well before the adapter's own 5 s`, PROMPT_MS);
}

const isPartialWarning = (line: Record<string, unknown>): boolean =>
  line.level === 40 && typeof line.msg === 'string' && line.msg.includes('did not answer a lookup');
const isRecoveryLine = (line: Record<string, unknown>): boolean => line.msg === 'every node answers cluster lookups again';

/** Two nodes in this process (A logs to `log`) and a third, C, as a child process, with clients on each. */
interface Cluster {
  readonly A: TestServer;
  readonly B: TestServer;
  readonly C: CliServer;
  readonly log: LogRecorder;
  /** `/layout` clients in room `r`, named `a`, `b`, `c` after their node. */
  readonly layout: { readonly a: Socket; readonly b: Socket; readonly c: Socket };
  /** `/lobby` clients in lobby `L`, one per node. */
  readonly lobby: { readonly la: Socket; readonly lb: Socket; readonly lc: Socket };
}

async function threeNodes(maxLobbyMembers = 1000): Promise<Cluster> {
  const redis = await startRedis();
  const prefix = randomPrefix();
  const log = recordLog('info');
  const options = { clusterTimeout: CLUSTER_TIMEOUT_MS, maxLobbyMembers };
  const A = await startServer({ ...options, redis: redis.options(prefix) }, { log: log.log });
  await withDeadline(A.app.untilReady(), 'node A to be ready', READY_DEADLINE_MS);
  const B = one(await startNodes(redis, 1, prefix, options));
  const C = await startCli(['-p', '0', '-H', '127.0.0.1', '--redis', redis.url, '--redis-prefix', prefix]);
  // Before the child's own teardown (newest first), which sends SIGTERM: a stopped process acts on no signal but SIGKILL and SIGCONT.
  onTeardown(() => {
    if (C.child.exitCode === null && C.child.signalCode === null) C.child.kill('SIGCONT');
  });
  await C.waitForLog(isClusterReadyLine, 'the cluster ready line');

  const a = await A.connect('/layout');
  const b = await B.connect('/layout');
  const c = await connectV4(`${C.url}/layout`);
  for (const [socket, name] of [
    [a, 'a'],
    [b, 'b'],
    [c, 'c'],
  ] as const) {
    await ack(socket, 'JOIN', { room: 'r', name });
  }
  const la = await A.connect('/lobby');
  const lb = await B.connect('/lobby');
  const lc = await connectV4(`${C.url}/lobby`);
  for (const socket of [la, lb, lc]) await ack(socket, 'JOIN', 'L');
  // Every node answers before the freeze: complete answers, no `partial`.
  expect(await ack(a, 'CLIENTS', { room: 'r' })).to.deep.equal({ ok: true, room: 'r', clients: ['a', 'b', 'c'] });
  return { A, B, C, log, layout: { a, b, c }, lobby: { la, lb, lc } };
}

/** Stops the child where it is (SIGSTOP): its connections stay open, so Redis still counts its subscriptions. */
function freeze(node: CliServer): void {
  node.child.kill('SIGSTOP');
}

describe('a frozen node (SIGSTOP) of a cluster (two nodes in process and a child process, real redis-server)', function () {
  before(requireRedis);

  it('CLIENTS, lobby JOIN and RTCSIGNAL on a healthy node answer promptly from the nodes that answer, saying so; one warn line for the outage', async () => {
    const { A, C, log, layout, lobby } = await threeNodes(3);
    const { a } = layout;
    const { la, lb, lc } = lobby;
    const lcId = idOf(lc);
    // The lobby is full while every node answers: its three members count against --max-lobby-members 3.
    const newcomer = await A.connect('/lobby');
    expect(await ack(newcomer, 'JOIN', 'L')).to.deep.include({ ok: false });

    freeze(C);
    const pushed = next(a, 'CLIENTS');
    const clients = await promptly(ack(a, 'CLIENTS', { room: 'r' }), 'CLIENTS');
    expect(clients).to.deep.equal({ ok: true, room: 'r', clients: ['a', 'b'], partial: true });
    const event = await pushed;
    expect(event).to.deep.equal({ room: 'r', clients: ['a', 'b'], partial: true });
    expect(Compile(LayoutEventSchemas.CLIENTS).Check(event)).to.equal(true);

    // JOIN counts the members on the nodes that answered: two, under the limit of three.
    const peers = next<string[]>(newcomer, 'PEERS');
    const joined = await promptly(ack<Record<string, unknown>>(newcomer, 'JOIN', 'L'), 'lobby JOIN');
    expect(joined).to.deep.include({ ok: true, lobby: 'L', partial: true });
    expect(joined.peers).to.have.members([idOf(la), idOf(lb)]);
    expect(await peers).to.have.members([idOf(la), idOf(lb)]);
    const { ok: _ok, ...result } = joined;
    expect(Compile(LobbyEventSchemas.JOIN_RESULT).Check(result)).to.equal(true);

    // The peer on the frozen node cannot be found: retryable UNAVAILABLE, not UNKNOWN_PEER.
    const refused = await promptly(
      ack<Record<string, unknown>>(la, 'RTCSIGNAL', { to: lcId, sdp: 'offer' }),
      'RTCSIGNAL to the frozen node',
    );
    expect(refused).to.have.nested.property('error.code', 'UNAVAILABLE');
    expect(refused)
      .to.have.nested.property('error.message')
      .that.matches(/some node did not answer in time/);
    // A peer on the other healthy node is found and signalled; one on this node too.
    const atB = next(lb, 'RTCSIGNAL');
    expect(await promptly(ack(la, 'RTCSIGNAL', { to: idOf(lb), sdp: 'offer' }), 'RTCSIGNAL to node B')).to.deep.equal({ ok: true });
    expect(await atB).to.deep.equal({ to: idOf(lb), from: idOf(la), sdp: 'offer' });
    const atNewcomer = next(newcomer, 'RTCSIGNAL');
    expect(await promptly(ack(la, 'RTCSIGNAL', { to: idOf(newcomer), sdp: 'x' }), 'RTCSIGNAL on node A')).to.deep.equal({ ok: true });
    expect(await atNewcomer).to.deep.equal({ to: idOf(newcomer), from: idOf(la), sdp: 'x' });

    // Every lookup above missed node C; the outage was logged once, naming how many nodes did not answer.
    const warnings = log.lines.filter(isPartialWarning);
    expect(warnings).to.have.lengthOf(1);
    expect(warnings[0]).to.deep.include({ unanswered: 1, nodes: 3, timeoutMs: CLUSTER_TIMEOUT_MS });
  });

  it('a frozen node killed (SIGKILL) stops counting at once: CLIENTS is complete and prompt, RTCSIGNAL to its peer is UNKNOWN_PEER', async () => {
    const { C, log, layout, lobby } = await threeNodes();
    const lcId = idOf(lobby.lc);
    freeze(C);
    expect(await promptly(ack(layout.a, 'CLIENTS', { room: 'r' }), 'CLIENTS')).to.deep.include({ partial: true });

    C.child.kill('SIGKILL');
    await withDeadline(C.exited, 'node C to die');
    // Redis drops a dead process's connections, and with them its subscriptions, as soon as the kernel closes them.
    expect(await promptly(ack(layout.a, 'CLIENTS', { room: 'r' }), 'CLIENTS')).to.deep.equal({ ok: true, room: 'r', clients: ['a', 'b'] });
    expect(await promptly(ack(layout.b, 'CLIENTS', { room: 'r' }), 'CLIENTS on B')).to.deep.equal({
      ok: true,
      room: 'r',
      clients: ['a', 'b'],
    });
    expect(await promptly(ack(lobby.la, 'RTCSIGNAL', { to: lcId }), 'RTCSIGNAL')).to.have.nested.property('error.code', 'UNKNOWN_PEER');
    await log.line(isRecoveryLine, 'the recovery line');
  });

  it('a frozen node that runs again (SIGCONT) is answered for again: its late answers are dropped, every answer is complete', async () => {
    const { A, C, log, layout, lobby } = await threeNodes();
    const { a, c } = layout;
    freeze(C);
    // Requests the frozen node will answer late, once it runs again.
    for (let i = 0; i < 3; i++) expect(await promptly(ack(a, 'CLIENTS', { room: 'r' }), 'CLIENTS')).to.deep.include({ partial: true });
    expect(await promptly(ack(lobby.la, 'RTCSIGNAL', { to: idOf(lobby.lc) }), 'RTCSIGNAL')).to.have.nested.property(
      'error.code',
      'UNAVAILABLE',
    );

    C.child.kill('SIGCONT');
    // A round trip to the node: it runs, and has read the requests Redis kept for it (and answered them, late).
    await barrier(c);
    expect(await promptly(ack(a, 'CLIENTS', { room: 'r' }), 'CLIENTS')).to.deep.equal({ ok: true, room: 'r', clients: ['a', 'b', 'c'] });
    const rtc = next(lobby.lc, 'RTCSIGNAL');
    expect(await promptly(ack(lobby.la, 'RTCSIGNAL', { to: idOf(lobby.lc), n: 1 }), 'RTCSIGNAL')).to.deep.equal({ ok: true });
    expect(await rtc).to.deep.equal({ to: idOf(lobby.lc), from: idOf(lobby.la), n: 1 });
    const newcomer = await A.connect('/lobby');
    const joined = await promptly(ack<Record<string, unknown>>(newcomer, 'JOIN', 'L'), 'lobby JOIN');
    expect(joined).not.to.have.property('partial');
    expect(joined.peers).to.have.members([idOf(lobby.la), idOf(lobby.lb), idOf(lobby.lc)]);
    await log.line(isRecoveryLine, 'the recovery line');
    expect(log.lines.filter(isPartialWarning)).to.have.lengthOf(1);
  });
});

describe('the memory directory (one process)', () => {
  it('answers at once, not with a promise, and always complete', async () => {
    const srv = await startServer();
    const member = await srv.connect('/lobby');
    await ack(member, 'JOIN', 'L');
    const nsp = srv.app.io.of('/lobby');
    const key = roomKey('L');

    const ids = memoryDirectory.memberIds(nsp, key);
    expect(ids).not.to.be.instanceOf(Promise);
    expect(ids).to.deep.equal({ members: [idOf(member)], complete: true });
    expect(memoryDirectory.isMember(nsp, key, idOf(member))).to.equal('member');
    expect(memoryDirectory.isMember(nsp, key, 'nobody')).to.equal('absent');
    const members = await memoryDirectory.members(nsp, key);
    expect(members.complete).to.equal(true);
    expect(members.members.map((socket) => socket.id)).to.deep.equal([idOf(member)]);

    // And what the clients see carries no `partial`.
    const layout = await srv.connect('/layout');
    await ack(layout, 'JOIN', { room: 'r', name: 'n' });
    expect(await ack(layout, 'CLIENTS', { room: 'r' })).to.deep.equal({ ok: true, room: 'r', clients: ['n'] });
    const other = await srv.connect('/lobby');
    expect(await ack(other, 'JOIN', 'L')).to.deep.equal({ ok: true, lobby: 'L', peers: [idOf(member)] });
    expect(await ack(other, 'RTCSIGNAL', { to: 'nobody' })).to.have.nested.property('error.code', 'UNKNOWN_PEER');
  });
});
