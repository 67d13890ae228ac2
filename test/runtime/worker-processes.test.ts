import { availableParallelism } from 'node:os';
import { expect } from 'chai';
import type { Socket } from 'socket.io-client';
import { parseWorkers } from '../../lib/config/parse.js';
import { expectUsageError, isClusterReadyLine, runCli, startCli, type CliServer, type LogLine } from '../support/cli.js';
import { SHUTDOWN_DEADLINE_MS } from '../support/deadlines.js';
import { randomPrefix, requireRedis, startRedis } from '../support/redis.js';
import { connectV4 } from '../support/server.js';
import { ack, next, withDeadline } from '../support/wait.js';

const isReadyLine = (line: LogLine): boolean => typeof line.msg === 'string' && /^worker \d+ ready$/.test(line.msg);

/** Starts `--workers 2` on 127.0.0.1 (debug logs: each worker's 'connected' line names it) and waits for both workers. */
async function startWorkers(args: readonly string[] = []): Promise<CliServer> {
  const server = await startCli(['--workers', '2', '-H', '127.0.0.1', '-p', '0', '--log-level', 'debug', ...args]);
  await server.waitForLog((line) => isReadyLine(line) && line.worker === 1, 'worker 1 ready');
  await server.waitForLog((line) => isReadyLine(line) && line.worker === 2, 'worker 2 ready');
  return server;
}

/** The cluster worker id that logged the 'connected' line of socket `socket` on namespace `nsp`. */
async function workerOf(server: CliServer, nsp: string, socket: Socket): Promise<number> {
  const line = await server.waitForLog(
    (l) => l.msg === 'connected' && l.nsp === nsp && l.socketId === socket.id,
    `the 'connected' line of ${String(socket.id)}`,
  );
  expect(line.worker).to.be.a('number');
  return line.worker as number;
}

describe('--workers (node:cluster, sticky sessions, cluster adapter)', () => {
  it('the primary logs one start line with the URL and the worker count; each worker logs that it is ready', async () => {
    const server = await startWorkers();
    const starts = server.logs.filter((line) => typeof line.msg === 'string' && line.msg.startsWith('listening on'));
    expect(starts).to.have.lengthOf(1);
    expect(starts[0]).to.deep.include({ role: 'primary', workers: 2, urls: [server.url] });
    expect(server.logs.filter(isReadyLine).map((line) => line.worker)).to.have.members([1, 2]);
    expect((await fetch(`${server.url}/healthcheck`)).status).to.equal(200);
  });

  it('rooms span the workers: websocket and long-polling clients on both workers JOIN, NOTIFY, CLIENTS; lobby peers on two workers signal', async () => {
    const server = await startWorkers();
    const url = `${server.url}/layout`;
    // least-connection alternates: a and c land on one worker, b and d on the other; polling works because
    // the primary sends every request of a session to the worker that has it.
    const a = await connectV4(url, { transports: ['websocket'] });
    const b = await connectV4(url);
    const c = await connectV4(url);
    const d = await connectV4(url, { transports: ['websocket'] });
    const clients = [a, b, c, d];
    const workers = await Promise.all(clients.map((socket) => workerOf(server, '/layout', socket)));
    expect(new Set(workers), `workers of a, b, c, d: ${workers.join(', ')}`).to.have.keys([1, 2]);

    const names = ['a', 'b', 'c', 'd'];
    for (const [i, socket] of clients.entries()) {
      expect(await ack(socket, 'JOIN', { room: 'r', name: names[i] })).to.deep.include({ ok: true });
    }
    const events = clients.slice(1).map((socket) => next(socket, 'EVENT'));
    await ack(a, 'NOTIFY', { room: 'r', message: 'hello' });
    for (const event of events) expect(await event).to.deep.include({ sender: 'a', message: 'hello' });
    expect(await ack(b, 'CLIENTS', { room: 'r' })).to.deep.equal({ ok: true, room: 'r', clients: names });

    // Two lobby peers on different workers (the third connection makes sure there is such a pair).
    // One after the other: the primary counts a worker's connections when the worker reports them.
    const lobby: Socket[] = [];
    for (let i = 0; i < 3; i++) lobby.push(await connectV4(`${server.url}/lobby`));
    const lobbyWorkers = await Promise.all(lobby.map((socket) => workerOf(server, '/lobby', socket)));
    const la = lobby[0];
    const lb = lobby.find((_socket, i) => lobbyWorkers[i] !== lobbyWorkers[0]);
    if (!la || !lb) throw new Error(`no two lobby clients on different workers: ${lobbyWorkers.join(', ')}`);
    expect(await ack(lb, 'JOIN', 'L')).to.deep.include({ ok: true });
    expect(await ack(la, 'JOIN', 'L')).to.deep.equal({ ok: true, lobby: 'L', peers: [lb.id] });
    const signal = next(lb, 'RTCSIGNAL');
    expect(await ack(la, 'RTCSIGNAL', { to: lb.id, type: 'offer', sdp: 'v=0' })).to.deep.equal({ ok: true });
    expect(await signal).to.deep.equal({ to: lb.id, from: la.id, type: 'offer', sdp: 'v=0' });
  });

  it('SIGTERM to the primary stops the workers, disconnects the clients and exits 0 within 5 s', async () => {
    const server = await startWorkers();
    const pids = server.logs.filter(isReadyLine).map((line) => line.pid);
    expect(pids).to.have.lengthOf(2);
    const a = await connectV4(`${server.url}/layout`, { transports: ['websocket'] });
    const b = await connectV4(`${server.url}/layout`);
    expect(new Set(await Promise.all([a, b].map((socket) => workerOf(server, '/layout', socket)))).size).to.equal(2);
    const disconnected = Promise.all([a, b].map((socket) => next(socket, 'disconnect', SHUTDOWN_DEADLINE_MS)));

    server.child.kill('SIGTERM');
    const exit = await withDeadline(server.exited, 'the primary to exit after SIGTERM', SHUTDOWN_DEADLINE_MS);
    expect(exit.code, exit.stderr).to.equal(0);
    // One `message` listener per namespace's cluster adapter is the design, not a leak to warn of.
    expect(exit.stderr).to.not.include('MaxListenersExceededWarning');
    await disconnected;
    for (const pid of pids) {
      expect(() => process.kill(pid as number, 0), `worker pid ${String(pid)} still alive`).to.throw(/ESRCH/);
    }
  });

  it('rejects a bad value with one error line and exit code 2', async () => {
    expectUsageError(await runCli(['--workers', '0']), /workers must be an integer of 1 or more, or 'auto', got '0'/);
    expectUsageError(await runCli(['--workers', 'two']), /workers .* got 'two'/);
    expectUsageError(await runCli([], { env: { WORKERS: '1.5' } }), /workers .* got '1.5'/);
    expectUsageError(await runCli(['--workers', '2', '--https']), /--workers above 1 serves plain HTTP only/);
  });

  it("parses 'auto' as the number of CPU cores", () => {
    expect(parseWorkers('auto')).to.equal(availableParallelism());
    expect(parseWorkers(' 3 ')).to.equal(3);
  });
});

describe('--workers with --redis (the workers join the Redis cluster instead)', function () {
  before(requireRedis);

  it('both workers are Redis cluster nodes; rooms span them', async () => {
    const redis = await startRedis();
    const server = await startWorkers(['-r', redis.url, '--redis-prefix', randomPrefix()]);
    for (const worker of [1, 2]) {
      await server.waitForLog((line) => line.worker === worker && isClusterReadyLine(line), `worker ${worker} in the Redis cluster`);
    }
    const a = await connectV4(`${server.url}/layout`, { transports: ['websocket'] });
    const b = await connectV4(`${server.url}/layout`);
    const workers = await Promise.all([a, b].map((socket) => workerOf(server, '/layout', socket)));
    expect(new Set(workers), `workers of a, b: ${workers.join(', ')}`).to.have.keys([1, 2]);
    await ack(a, 'JOIN', { room: 'r', name: 'a' });
    await ack(b, 'JOIN', { room: 'r', name: 'b' });
    const event = next(b, 'EVENT');
    await ack(a, 'NOTIFY', { room: 'r', message: 'x' });
    expect(await event).to.deep.include({ sender: 'a', message: 'x' });
    expect(await ack(b, 'CLIENTS', { room: 'r' })).to.deep.equal({ ok: true, room: 'r', clients: ['a', 'b'] });
  });
});
