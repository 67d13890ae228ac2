import { expect } from 'chai';
import type { Socket } from 'socket.io-client';
import { createClient } from 'redis';
import type { ServiceOptions } from '../../lib/config/options.js';
import { parseSitesFile } from '../../lib/config/sites-file.js';
import { NODE_TTL_MS, SWEEP_INTERVAL_MS } from '../../lib/cluster/node-registry.js';
import { tokenBackend } from '../support/backend.js';
import { isClusterReadyLine, startCli } from '../support/cli.js';
import { startNodes } from '../support/cluster.js';
import { DEADLINE_MS, REDIS_DEADLINE_MS } from '../support/deadlines.js';
import { postSend, type HttpResult } from '../support/http.js';
import { randomPrefix, requireRedis, startRedis, type TestRedis } from '../support/redis.js';
import { connectV4, idOf, type TestServer } from '../support/server.js';
import { onTeardown } from '../support/teardown.js';
import { barrier, nextArgs, recordAll, withDeadline, type Heard, arrival as heardArrival, ackOf } from '../support/wait.js';

const KEY = 'shop-key';

interface Cluster {
  readonly redis: TestRedis;
  readonly prefix: string;
  readonly nodes: readonly [TestServer, TestServer, TestServer];
}

/** Three nodes on one real redis-server, each serving site `shop` (userRoomPrefix `user_`). */
async function threeNodes(options: Partial<ServiceOptions> = {}): Promise<Cluster> {
  const backend = await tokenBackend({ alice: ['user_alice', 'staff'], bob: ['user_bob', 'staff'] });
  const access = parseSitesFile(
    { sites: { shop: { auth: { mode: 'token-url', url: `${backend.url}/rooms` }, apiKey: KEY, userRoomPrefix: 'user_' } } },
    'test',
    {},
  );
  const redis = await startRedis();
  const prefix = randomPrefix();
  const [a, b, c] = await startNodes(redis, 3, prefix, { access, connectRate: 0, eventRate: 0, ...options });
  if (!a || !b || !c) throw new Error('three nodes expected');
  return { redis, prefix, nodes: [a, b, c] };
}

interface Device {
  readonly socket: Socket;
  readonly heard: Heard[];
}

async function device(node: TestServer, token: string, deviceId: string): Promise<Device> {
  let heard: Heard[] = [];
  const socket = await node.connect('/shop', { auth: { token, deviceId, messageIds: true } }, (s) => (heard = recordAll(s).heard));
  return { socket, heard };
}

function push(node: TestServer, body: Record<string, unknown>, query = ''): Promise<HttpResult> {
  return postSend(node, `site=shop${query}`, body, { authorization: `Bearer ${KEY}` });
}

async function leave(node: TestServer, client: Device): Promise<void> {
  const gone = node.serverDisconnect('/shop', idOf(client.socket));
  client.socket.disconnect();
  await gone;
}

/** The first `event` the client heard, already or still to come. */
function arrival(client: Device, event: string): Promise<Heard> {
  return heardArrival(client.socket, client.heard, event);
}

/** Pushes a probe through `via` and waits for it: a `_batch` the connect was to send would have come first. */
async function probe(via: TestServer, client: Device, user: string): Promise<void> {
  const arrived = nextArgs(client.socket, 'probe');
  await push(via, { rooms: [`user_${user}`], event: 'probe' });
  ackOf(['probe', ...(await arrived)])();
}

describe('reliable delivery across nodes (three nodes, one real redis-server)', function () {
  before(requireRedis);

  it('queues on the publisher, delivers and takes acks where the socket is, and hands what is unacked to the new node', async () => {
    const { nodes } = await threeNodes();
    const [publisher, oldNode, newNode] = nodes;
    const phone = await device(oldNode, 'alice', 'phone');
    await arrival(phone, '_settings');

    const acked = nextArgs(phone.socket, 'first');
    const first = await push(publisher, { rooms: ['user_alice'], event: 'first', args: [1] });
    expect(first.body).to.include({ ok: true, delivered: 1, queued: 1 });
    const firstId = (first.body as { id: string }).id;
    const firstArgs = await acked;
    expect(firstArgs.slice(0, 2)).to.deep.equal([1, { _id: firstId }]);
    ackOf(['first', ...firstArgs])();

    const unacked = nextArgs(phone.socket, 'second');
    const second = await push(publisher, { rooms: ['staff'], event: 'second', args: [2] });
    await unacked; // not acked
    await barrier(phone.socket); // the first ack has reached the old node
    await leave(oldNode, phone);
    const third = await push(publisher, { rooms: ['user_alice'], event: 'third', args: [3] });
    expect(third.body).to.include({ delivered: 0, queued: 1 });

    const back = await device(newNode, 'alice', 'phone');
    const [, entries, batchAck] = await arrival(back, '_batch');
    expect(entries).to.deep.equal([
      ['second', 2, { _id: (second.body as { id: string }).id }],
      ['third', 3, { _id: (third.body as { id: string }).id }],
    ]);
    // A push while the batch is unacked: the batch's ack removes only the batch.
    const fourth = nextArgs(back.socket, 'fourth');
    await push(oldNode, { rooms: ['user_alice'], event: 'fourth' });
    await fourth;
    (batchAck as () => void)();
    await barrier(back.socket);
    await leave(newNode, back);

    const again = await device(publisher, 'alice', 'phone');
    const [, left] = await arrival(again, '_batch');
    expect((left as unknown[][]).map(([event]) => event)).to.deep.equal(['fourth']);
  });

  it('a resync ack out of order on one node clears the queue that the next node reads', async () => {
    const { nodes } = await threeNodes();
    const [publisher, oldNode, newNode] = nodes;
    const phone = await device(oldNode, 'alice', 'phone');
    await arrival(phone, '_settings');
    const second = nextArgs(phone.socket, 'sync');
    await push(publisher, { rooms: ['user_alice'], event: 'sync', args: [1] }, '&resync=true');
    await second;
    const next = nextArgs(phone.socket, 'sync');
    await push(publisher, { rooms: ['user_alice'], event: 'sync', args: [2] }, '&resync=true');
    ackOf(['sync', ...(await next)])();
    await arrival(phone, '_resync');
    await leave(oldNode, phone);
    const back = await device(newNode, 'alice', 'phone');
    await probe(publisher, back, 'alice');
    expect(back.heard.map(([event]) => event)).to.deep.equal(['_settings', 'probe']);
  });

  it('expires a device queue in Redis once the device has been away longer than its TTL; a connect stops the clock', async () => {
    const { redis, prefix, nodes } = await threeNodes({ deviceTtl: 1 });
    const [publisher, oldNode, newNode] = nodes;
    const key = `${prefix}:dev:shop:alice:phone`;
    const phone = await device(oldNode, 'alice', 'phone');
    await arrival(phone, '_settings');
    await push(publisher, { rooms: ['user_alice'], event: 'kept' });
    await arrival(phone, 'kept');
    expect(await redis.command(['PTTL', key]), 'connected: no expiry').to.equal(-1);

    // Redis says when the key expires: no sleeping.
    await redis.command(['CONFIG', 'SET', 'notify-keyspace-events', 'Ex']);
    const subscriber = createClient({ url: redis.url });
    subscriber.on('error', () => undefined);
    onTeardown(() => subscriber.destroy());
    await withDeadline(subscriber.connect(), 'a subscriber to reach redis', REDIS_DEADLINE_MS);
    let expired: () => void = () => undefined;
    const gone = new Promise<void>((resolve) => (expired = resolve));
    await subscriber.subscribe('__keyevent@0__:expired', (name) => {
      if (name === key) expired();
    });

    await leave(oldNode, phone);
    const ttl = await redis.command(['PTTL', key]);
    expect(ttl).to.be.a('number').within(1, 1000);
    const back = await device(newNode, 'alice', 'phone');
    await arrival(back, '_batch'); // within the TTL: still there, not acked
    expect(await redis.command(['PTTL', key]), 'connected again: the clock stopped').to.equal(-1);
    await leave(newNode, back);
    await withDeadline(gone, `${key} to expire`);
    const late = await device(publisher, 'alice', 'phone');
    await probe(oldNode, late, 'alice');
    expect(late.heard.map(([event]) => event)).to.deep.equal(['_settings', 'probe']);
  });

  it('past --device-queue the device gets _resync on its next connect, on any node', async () => {
    const { nodes } = await threeNodes({ deviceQueue: 2 });
    const [publisher, oldNode, newNode] = nodes;
    const phone = await device(oldNode, 'alice', 'phone');
    await arrival(phone, '_settings');
    await leave(oldNode, phone);
    for (let i = 0; i < 3; i++) await push(publisher, { rooms: ['user_alice'], event: 'n', args: [i] });
    const back = await device(newNode, 'alice', 'phone');
    await arrival(back, '_resync');
    await probe(publisher, back, 'alice');
    expect(back.heard.map(([event]) => event)).to.deep.equal(['_settings', '_resync', 'probe']);
  });

  it('starts the TTL of the devices of a node that died without shutting down, from a surviving node', async () => {
    const backend = await tokenBackend({ alice: ['user_alice'] });
    const redis = await startRedis();
    const prefix = randomPrefix();
    const access = parseSitesFile(
      { sites: { shop: { auth: { mode: 'token-url', url: `${backend.url}/rooms` }, apiKey: KEY, userRoomPrefix: 'user_' } } },
      'test',
      {},
    );
    await startNodes(redis, 1, prefix, { access, deviceTtl: 60 });
    const doomed = await startCli(['-p', '0', '-H', '127.0.0.1', '-r', redis.url, '--redis-prefix', prefix], {
      env: { SITE_NAME: 'shop', AUTH_URL: `${backend.url}/rooms`, API_KEY: KEY, USER_ROOM_PREFIX: 'user_', DEVICE_TTL: '60' },
    });
    await doomed.waitForLog(isClusterReadyLine, 'the cluster ready line');
    const key = `${prefix}:dev:shop:alice:phone`;
    await redis.command(['CONFIG', 'SET', 'notify-keyspace-events', 'Eg']);
    const subscriber = createClient({ url: redis.url });
    subscriber.on('error', () => undefined);
    onTeardown(() => subscriber.destroy());
    await withDeadline(subscriber.connect(), 'a subscriber to reach redis', REDIS_DEADLINE_MS);
    let expiring: () => void = () => undefined;
    const clockStarted = new Promise<void>((resolve) => (expiring = resolve));
    await subscriber.subscribe('__keyevent@0__:expire', (name) => {
      if (name === key) expiring();
    });

    // Listening before the connect: `_settings` may come in the same read as the connect packet.
    let settings: Promise<unknown[]> | undefined;
    const phone = await connectV4(`${doomed.url}/shop`, { auth: { token: 'alice', deviceId: 'phone' } }, (socket) => {
      settings = nextArgs(socket, '_settings');
    });
    await settings;
    await barrier(phone);
    expect(await redis.command(['PTTL', key]), 'connected: no expiry').to.equal(-1);
    doomed.child.kill('SIGKILL');
    await withDeadline(doomed.exited, 'the node to die');
    // Within the registry's bound for a dead node's members (its liveness TTL, then a sweep).
    await withDeadline(clockStarted, `the TTL of ${key} to start`, NODE_TTL_MS + SWEEP_INTERVAL_MS + DEADLINE_MS);
    expect(await redis.command(['PTTL', key]))
      .to.be.a('number')
      .within(1, 60_000);
  });
});
