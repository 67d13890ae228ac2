import { expect } from 'chai';
import type { Socket } from 'socket.io-client';
import { expectUsageError, isClusterReadyLine, runCli, startCli, type CliServer } from '../support/cli.js';
import { randomPrefix, requireRedis, startRedis, type TestRedis } from '../support/redis.js';
import { connectV4, idOf } from '../support/server.js';
import { ack, next, withDeadline } from '../support/wait.js';

const PASSWORD = 'cluster-secret';
/** admin-ui broadcasts each node's stats every 2 s: two rounds, and some. */
const STATS_MS = 6000;

async function adminNode(redis: TestRedis, prefix: string, mode: string): Promise<CliServer> {
  const node = await startCli(['-p', '0', '-H', '127.0.0.1', '--redis', redis.url, '--redis-prefix', prefix, '--admin-mode', mode], {
    env: { ADMIN_PASSWORD: PASSWORD },
  });
  await node.waitForLog(isClusterReadyLine, 'the cluster ready line');
  return node;
}

/** Resolves with the server ids of the `server_stats` `admin` receives once it has seen `count` different ones. */
function serverIds(admin: Socket, count: number): Promise<Set<string>> {
  const seen = new Set<string>();
  return withDeadline(
    new Promise<Set<string>>((resolve) => {
      admin.on('server_stats', (stats: { serverId: string }, ...rest: unknown[]) => {
        // No recovery offset behind it: /admin is not a recovering namespace.
        expect(rest).to.deep.equal([]);
        seen.add(stats.serverId);
        if (seen.size === count) resolve(seen);
      });
    }),
    `server_stats of ${count} nodes`,
    STATS_MS,
  );
}

describe('admin namespace with --redis', function () {
  this.timeout(30_000);
  before(requireRedis);

  it('shows the admin socket of node A the stats and the sockets of node B', async () => {
    const redis = await startRedis();
    const prefix = randomPrefix();
    const [A, B] = await Promise.all([adminNode(redis, prefix, 'development'), adminNode(redis, prefix, 'development')]);
    const member = await connectV4(`${B.url}/layout`);
    expect(await ack(member, 'JOIN', { room: 'stage', name: 'tv' })).to.deep.equal({ ok: true });

    let listed: Promise<{ id: string; nsp: string; rooms: string[] }[]> | undefined;
    let servers: Promise<Set<string>> | undefined;
    const admin = await connectV4(`${A.url}/admin`, { auth: { username: 'admin', password: PASSWORD } }, (socket) => {
      listed = next(socket, 'all_sockets');
      servers = serverIds(socket, 2);
    });
    const entry = ((await listed) ?? []).find((socket) => socket.id === idOf(member));
    expect(entry).to.deep.include({ nsp: '/layout' });
    expect(entry?.rooms).to.include('room:stage');
    expect((await servers)?.size).to.equal(2);

    // A socket that connects to B later is announced to A's admin socket as it happens.
    const announced = next<{ id: string; nsp: string }>(admin, 'socket_connected');
    const late = await connectV4(`${B.url}/layout`);
    expect(await announced).to.deep.include({ id: idOf(late), nsp: '/layout' });
  });

  it('sends the stats of every node in production mode too', async () => {
    const redis = await startRedis();
    const prefix = randomPrefix();
    const [A] = await Promise.all([adminNode(redis, prefix, 'production'), adminNode(redis, prefix, 'production')]);
    let servers: Promise<Set<string>> | undefined;
    await connectV4(`${A.url}/admin`, { auth: { username: 'admin', password: PASSWORD } }, (socket) => {
      servers = serverIds(socket, 2);
    });
    expect((await servers)?.size).to.equal(2);
  });
});

describe('admin namespace with --workers', function () {
  this.timeout(30_000);

  it('sends the stats of every worker to an admin socket of one of them', async () => {
    const cli = await startCli(['-p', '0', '-H', '127.0.0.1', '--workers', '2'], { env: { ADMIN_PASSWORD: PASSWORD } });
    await Promise.all([1, 2].map((worker) => cli.waitForLog((line) => line.msg === `worker ${worker} ready`, `worker ${worker} ready`)));
    let servers: Promise<Set<string>> | undefined;
    await connectV4(`${cli.url}/admin`, { auth: { username: 'admin', password: PASSWORD } }, (socket) => {
      servers = serverIds(socket, 2);
    });
    expect((await servers)?.size).to.equal(2);
  });

  it('refuses development mode without --redis: the workers cannot send its sockets to each other', async () => {
    expectUsageError(
      await runCli(['-p', '0', '--workers', '2', '--admin-mode', 'development'], { env: { ADMIN_PASSWORD: PASSWORD } }),
      /--admin-mode development needs --redis with --workers/,
    );
  });
});
