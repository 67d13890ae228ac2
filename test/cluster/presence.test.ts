import { expect } from 'chai';
import { NODE_TTL_MS, SWEEP_INTERVAL_MS } from '../../lib/cluster/node-registry.js';
import { reply, startBackend, type Backend, type RecordedRequest } from '../support/backend.js';
import { isClusterReadyLine, startCli, type CliServer } from '../support/cli.js';
import { DEADLINE_MS, READY_DEADLINE_MS } from '../support/deadlines.js';
import { parseSitesFile } from '../../lib/config/sites-file.js';
import { randomPrefix, requireRedis, startRedis } from '../support/redis.js';
import type { Socket } from 'socket.io-client';
import { connectV4, startServer } from '../support/server.js';
import { tempFile } from '../support/temp.js';
import { barrier, withDeadline } from '../support/wait.js';

/** The documented bound for a dead node's users to be reported offline, plus the time the survivor's own work may take. */
const LOST_NODE_DEADLINE_MS = NODE_TTL_MS + SWEEP_INTERVAL_MS + DEADLINE_MS;

/** A site backend: GET /rooms grants `user_8`; PUT /users/:id is recorded and answered 204. */
async function siteBackend(): Promise<Backend> {
  return startBackend((request, res) => (request.method === 'GET' ? reply(res, 200, ['user_8']) : res.writeHead(204).end()));
}

/** A sites file of site `shop` with the backend's token-url auth and `updateUserUrl`. */
function sitesOf(backend: Backend) {
  return {
    sites: {
      shop: {
        auth: { mode: 'token-url', url: `${backend.url}/rooms` },
        userRoomPrefix: 'user_',
        updateUserUrl: `${backend.url}/users/:id`,
      },
    },
  };
}

/** Two nodes on one Redis serving site `shop` with the backend's auth and `updateUserUrl`. */
async function twoNodes(backend: Backend): Promise<[CliServer, CliServer]> {
  const redis = await startRedis();
  const prefix = randomPrefix();
  const config = await tempFile('sites.yml', JSON.stringify(sitesOf(backend)));
  const start = async (): Promise<CliServer> => {
    const child = await startCli(['-p', '0', '-H', '127.0.0.1', '-r', redis.url, '--redis-prefix', prefix, '--config', config]);
    await child.waitForLog(isClusterReadyLine, 'the cluster ready line');
    return child;
  };
  return Promise.all([start(), start()]);
}

/** The `n`th PUT the backend received, as `[url, field]` (GETs of the auth check are interleaved). */
async function nthUpdate(backend: Backend, n: number, ms = DEADLINE_MS): Promise<[string, string]> {
  let request: RecordedRequest | undefined;
  for (let i = 1; n > 0; i += 1) {
    request = await backend.nth(i, ms);
    if (request.method === 'PUT') n -= 1;
  }
  const body = JSON.parse(request?.body ?? '{}') as { user?: Record<string, string> };
  return [request?.url ?? '', Object.keys(body.user ?? {})[0] ?? ''];
}

describe('cluster-wide presence for updateUserUrl with --redis (CLI nodes, real redis-server)', function () {
  before(requireRedis);

  it('a user with a socket on each node is disconnected once, when the second goes', async () => {
    const backend = await siteBackend();
    const [A, B] = await twoNodes(backend);
    const onA = await connectV4(`${A.url}/shop`, { query: { token: 'tok' } });
    expect(await nthUpdate(backend, 1)).to.deep.equal(['/users/8', 'last_connected']);
    const onB = await connectV4(`${B.url}/shop`, { query: { token: 'tok' } });
    // The client hears CONNECT before B's connection subscribers have run: a round trip after it has B's
    // count sent to Redis before A's (a user closing one tab within a millisecond of opening the other would
    // be reported gone and back).
    await barrier(onB);
    onA.disconnect();
    onB.disconnect();
    expect(await nthUpdate(backend, 2)).to.deep.equal(['/users/8', 'last_disconnected']);
    // Had closing the first socket been reported too, this third update would be a second last_disconnected.
    await connectV4(`${B.url}/shop`, { query: { token: 'tok' } });
    expect(await nthUpdate(backend, 3)).to.deep.equal(['/users/8', 'last_connected']);
    expect(backend.requests.filter((r) => r.method === 'PUT')).to.have.lengthOf(3);
  });

  it('a user whose only socket was on a node killed with SIGKILL is disconnected once, by the survivor, within the bound', async () => {
    const backend = await siteBackend();
    const [A, B] = await twoNodes(backend);
    await connectV4(`${B.url}/shop`, { query: { token: 'tok' } });
    expect(await nthUpdate(backend, 1)).to.deep.equal(['/users/8', 'last_connected']);
    B.child.kill('SIGKILL');
    await withDeadline(B.exited, 'node B to die');
    // Within NODE_TTL_MS + SWEEP_INTERVAL_MS: B's liveness key expires, and A's next sweep takes its counts over.
    expect(await nthUpdate(backend, 2, LOST_NODE_DEADLINE_MS)).to.deep.equal(['/users/8', 'last_disconnected']);
    const put = backend.requests.filter((r) => r.method === 'PUT')[1];
    expect(put?.headers.authorization).to.equal('Bearer tok');
    // Exactly once: the next update is the user's new connection, not a second report of B's socket.
    await connectV4(`${A.url}/shop`, { query: { token: 'tok' } });
    expect(await nthUpdate(backend, 3)).to.deep.equal(['/users/8', 'last_connected']);
  });

  it('a user whose last socket goes while Redis is down is disconnected once Redis is back, even a Redis that restarted empty', async () => {
    const backend = await siteBackend();
    const redis = await startRedis();
    const access = parseSitesFile(sitesOf(backend), 'test', {});
    const node = await startServer({ access, redis: redis.options() });
    await withDeadline(node.app.untilReady(), 'the node to be ready', READY_DEADLINE_MS);
    const socket = await node.connect('/shop', { query: { token: 'tok' } });
    expect(await nthUpdate(backend, 1)).to.deep.equal(['/users/8', 'last_connected']);
    await redis.kill();
    await withDeadline(node.app.untilReady(false), 'the node to notice the outage', READY_DEADLINE_MS);
    const gone = node.serverDisconnect('/shop', socket.id);
    socket.disconnect();
    await gone;
    await redis.restart();
    // Within Redis's reconnect back-off (at most 2 s): the node writes its counts back and reports the user.
    expect(await nthUpdate(backend, 2, READY_DEADLINE_MS)).to.deep.equal(['/users/8', 'last_disconnected']);
    await node.connect('/shop', { query: { token: 'tok' } });
    expect(await nthUpdate(backend, 3)).to.deep.equal(['/users/8', 'last_connected']);
  });
});

describe('presence for updateUserUrl with --workers (the primary counts)', () => {
  it('a user with a socket on each of two workers is disconnected once, when the second goes', async () => {
    const backend = await siteBackend();
    const config = await tempFile('sites.yml', JSON.stringify(sitesOf(backend)));
    const server = await startCli(['--workers', '2', '-H', '127.0.0.1', '-p', '0', '--log-level', 'debug', '--config', config]);
    for (const id of [1, 2]) await server.waitForLog((line) => line.msg === `worker ${id} ready`, `worker ${id} ready`);
    const first = await connectV4(`${server.url}/shop`, { query: { token: 'tok' } });
    expect(await nthUpdate(backend, 1)).to.deep.equal(['/users/8', 'last_connected']);
    const second = await connectV4(`${server.url}/shop`, { query: { token: 'tok' } });
    // least-connection puts the second socket on the other worker: their 'connected' lines say which.
    const workerOf = async (socket: Socket): Promise<unknown> =>
      (
        await server.waitForLog(
          (line) => line.msg === 'connected' && line.socketId === socket.id,
          `the 'connected' line of ${String(socket.id)}`,
        )
      ).worker;
    expect(await workerOf(first)).to.not.equal(await workerOf(second));
    await barrier(second);
    first.disconnect();
    second.disconnect();
    expect(await nthUpdate(backend, 2)).to.deep.equal(['/users/8', 'last_disconnected']);
    await connectV4(`${server.url}/shop`, { query: { token: 'tok' } });
    expect(await nthUpdate(backend, 3)).to.deep.equal(['/users/8', 'last_connected']);
  });
});
