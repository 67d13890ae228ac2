import { expect } from 'chai';
import { SignJWT } from 'jose';
import type { Socket } from 'socket.io-client';
import { Compile } from 'typebox/compile';
import type { ServiceOptions } from '../../lib/config/options.js';
import { resolveSecret } from '../../lib/config/secrets.js';
import { parseSitesFile } from '../../lib/config/sites-file.js';
import { MAX_LISTED_ROOMS, RoomCountResultSchema, RosterResultSchema } from '../../protocol/index.js';
import { one, two } from '../support/arrays.js';
import { tokenBackend } from '../support/backend.js';
import { expectUsageError, isClusterReadyLine, runCli, startCli } from '../support/cli.js';
import { startNodes } from '../support/cluster.js';
import { scaled } from '../support/deadlines.js';
import { expectErrorBody, request, type HttpResult, type HttpTarget } from '../support/http.js';
import { recordLog } from '../support/log.js';
import { randomPrefix, requireRedis, startRedis } from '../support/redis.js';
import { idOf, startServer, type TestServer } from '../support/server.js';
import { onTeardown } from '../support/teardown.js';
import { ack, barrier, withDeadline } from '../support/wait.js';

const TOKEN = 'operator-token';
const SHOP_KEY = 'shop-key';
const HMAC = 'a-hmac-secret-of-at-least-32-bytes!!';
const checkRoster = Compile(RosterResultSchema);
const checkCounts = Compile(RoomCountResultSchema);

/** GET `path` with `key` as the Bearer token (none when null). */
function get(target: HttpTarget, path: string, key: string | null = TOKEN): Promise<HttpResult> {
  return request(`${target.url}${path}`, key === null ? {} : { headers: { authorization: `Bearer ${key}` } });
}

/** The roster of `room` on `ns`, with `key`. */
function roster(target: HttpTarget, ns: string, room: string, key: string | null = TOKEN): Promise<HttpResult> {
  return get(target, `/api/namespaces/${ns}/rooms/${encodeURIComponent(room)}/clients`, key);
}

/** The body of a 200 answer, checked against `check`. */
function okBody(res: HttpResult, check: { Check(value: unknown): boolean }): unknown {
  expect(res.status, JSON.stringify(res.body)).to.equal(200);
  expect(check.Check(res.body), JSON.stringify(res.body)).to.equal(true);
  return res.body;
}

/**
 * The operator token, site `shop` (token-url auth, `userRoomPrefix` `user_`, key {@link SHOP_KEY}), site
 * `app` (jwt, key `app-key`) and site `open` (no key).
 */
async function rosterServer(options: Partial<ServiceOptions> = {}, token: string | null = TOKEN): Promise<TestServer> {
  const backend = await tokenBackend({ alice: ['user_alice', 'staff'], bob: ['user_bob', 'staff'], carol: ['staff'] });
  const auth = { mode: 'token-url', url: `${backend.url}/rooms` };
  const access = parseSitesFile(
    {
      sites: {
        shop: { auth, apiKey: SHOP_KEY, userRoomPrefix: 'user_' },
        app: { auth: { mode: 'jwt', algorithms: ['HS256'], secret: HMAC }, apiKey: 'app-key' },
        open: { auth },
      },
    },
    'test',
    {},
  );
  return startServer({ access, ...(token === null ? {} : { apiToken: resolveSecret(token, {}) }), ...options });
}

async function layoutMember(srv: TestServer, room: string, name?: string): Promise<Socket> {
  const socket = await srv.connect('/layout');
  if (name !== undefined) await ack(socket, 'JOIN', { room, name });
  return socket;
}

describe('roster API (GET /api/namespaces/:ns/rooms/…)', () => {
  it('lists a /layout room in join order with names, and /lobby and /trigger members without', async () => {
    const srv = await rosterServer();
    const b = await layoutMember(srv, 'r', 'bee');
    const a = await layoutMember(srv, 'r', 'ant');
    await layoutMember(srv, 'other', 'x');
    expect(okBody(await roster(srv, 'layout', 'r'), checkRoster)).to.deep.equal({
      ok: true,
      namespace: 'layout',
      room: 'r',
      clients: [
        { id: idOf(b), name: 'bee', userId: null },
        { id: idOf(a), name: 'ant', userId: null },
      ],
    });
    // /bus has its own rooms: nobody is in /bus's `r`.
    expect(okBody(await roster(srv, 'bus', 'r'), checkRoster)).to.deep.include({ clients: [] });

    const peer = await srv.connect('/lobby');
    await ack(peer, 'JOIN', 'L 1/2');
    expect(okBody(await roster(srv, 'lobby', 'L 1/2'), checkRoster)).to.deep.include({
      room: 'L 1/2',
      clients: [{ id: idOf(peer), name: null, userId: null }],
    });
    const trigger = await srv.connect('/trigger');
    await ack(trigger, 'JOIN', 'ü');
    expect(okBody(await roster(srv, 'trigger', 'ü'), checkRoster)).to.deep.include({
      clients: [{ id: idOf(trigger), name: null, userId: null }],
    });
  });

  it('names the users of a site: the userRoomPrefix room of token-url, the user claim of jwt', async () => {
    const srv = await rosterServer();
    const alice = await srv.connect('/shop', { auth: { token: 'alice' } });
    const carol = await srv.connect('/shop', { auth: { token: 'carol' } });
    const res = await roster(srv, 'shop', 'staff', SHOP_KEY);
    expect(okBody(res, checkRoster)).to.deep.include({ namespace: 'shop', room: 'staff' });
    expect((res.body as { clients: unknown[] }).clients).to.have.deep.members([
      { id: idOf(alice), name: null, userId: 'alice' },
      { id: idOf(carol), name: null, userId: null },
    ]);

    const token = await new SignJWT({ sub: 'u1', rooms: ['team'] })
      .setProtectedHeader({ alg: 'HS256' })
      .sign(new TextEncoder().encode(HMAC));
    const u1 = await srv.connect('/app', { auth: { token } });
    expect(okBody(await roster(srv, 'app', 'team', 'app-key'), checkRoster)).to.deep.include({
      clients: [{ id: idOf(u1), name: null, userId: 'u1' }],
    });
  });

  it('counts the rooms of a namespace, largest first, and leaves out the socket id rooms', async () => {
    const srv = await rosterServer();
    await layoutMember(srv, 'big', 'a');
    const b = await layoutMember(srv, 'big', 'b');
    await ack(b, 'JOIN', { room: 'small', name: 'b' });
    await srv.connect('/layout');
    expect(okBody(await get(srv, '/api/namespaces/layout/rooms'), checkCounts)).to.deep.equal({
      ok: true,
      namespace: 'layout',
      rooms: [
        { room: 'big', clients: 2 },
        { room: 'small', clients: 1 },
      ],
      total: 2,
    });
    await srv.connect('/shop', { auth: { token: 'alice' } });
    expect(okBody(await get(srv, '/api/namespaces/shop/rooms', SHOP_KEY), checkCounts)).to.deep.include({
      rooms: [
        { room: 'staff', clients: 1 },
        { room: 'user_alice', clients: 1 },
      ],
    });
  });

  it(`lists at most ${MAX_LISTED_ROOMS} rooms and says it truncated`, async () => {
    const srv = await rosterServer({ eventRate: 0 });
    const [even, odd] = [await srv.connect('/trigger'), await srv.connect('/trigger')];
    const extra = 5;
    for (let i = 0; i < MAX_LISTED_ROOMS + extra; i++) (i % 2 === 0 ? even : odd).emit('JOIN', `r${i}`);
    for (const socket of [even, odd]) await barrier(socket);
    await ack(even, 'JOIN', 'r1');
    const body = okBody(await get(srv, '/api/namespaces/trigger/rooms'), checkCounts) as {
      rooms: unknown[];
      total: number;
      truncated?: true;
    };
    expect(body.rooms).to.have.lengthOf(MAX_LISTED_ROOMS);
    expect(body.rooms[0]).to.deep.equal({ room: 'r1', clients: 2 });
    expect(body.total).to.equal(MAX_LISTED_ROOMS + extra);
    expect(body.truncated).to.equal(true);
  });

  it('refuses bad paths: unknown namespace 404, over-long namespace or over-long or empty room 400, unknown routes 404', async () => {
    const srv = await rosterServer({ maxIdLength: 8 });
    expectErrorBody(await roster(srv, 'nope', 'r'), 404, 'NOT_FOUND', /no namespace 'nope'/);
    expectErrorBody(await get(srv, '/api/namespaces/nope/rooms'), 404, 'NOT_FOUND');
    // The namespace with its slash is no namespace name.
    expectErrorBody(await get(srv, '/api/namespaces/%2Flayout/rooms'), 404, 'NOT_FOUND');
    expectErrorBody(await get(srv, `/api/namespaces/${'n'.repeat(65)}/rooms`), 400, 'BAD_REQUEST');
    expectErrorBody(await roster(srv, 'layout', 'r'.repeat(9)), 400, 'BAD_REQUEST', /room/);
    expectErrorBody(await get(srv, '/api/namespaces/layout/rooms//clients'), 400, 'BAD_REQUEST', /room/);
    expectErrorBody(await get(srv, '/api/namespaces/layout/rooms/r/clients/x'), 404, 'NOT_FOUND');
    // A room of 8 UTF-16 units, percent-encoded far past fastify's default parameter bound, is a room.
    expect(okBody(await roster(srv, 'layout', '😀😀😀😀'), checkRoster)).to.deep.include({ room: '😀😀😀😀' });
  });

  it('refuses a missing or wrong key with 401, through the failed-auth budget, and never logs the key', async () => {
    const log = recordLog('debug');
    const srv = await startServer(
      {
        access: parseSitesFile({ sites: { shop: { auth: { mode: 'none' }, apiKey: SHOP_KEY } } }, 'test', {}),
        apiToken: resolveSecret(TOKEN, {}),
        maxAuthFailures: 3,
      },
      { log: log.log },
    );
    // Right keys refund their attempt: they do not use up the budget.
    for (let i = 0; i < 4; i++)
      expect((await roster(srv, i % 2 === 0 ? 'shop' : 'layout', 'r', i % 2 === 0 ? SHOP_KEY : TOKEN)).status).to.equal(200);
    expectErrorBody(await roster(srv, 'layout', 'r', null), 401, 'UNAUTHORIZED', /Authorization: Bearer/);
    expectErrorBody(await roster(srv, 'layout', 'r', 'wrong-guess'), 401, 'UNAUTHORIZED');
    // The operator token does not open a site, nor a site's key the built-ins.
    expectErrorBody(await get(srv, '/api/namespaces/shop/rooms', TOKEN), 401, 'UNAUTHORIZED');
    // The budget is spent: even the right key is refused now, before any hash is computed.
    expectErrorBody(await get(srv, '/api/namespaces/layout/rooms', 'wrong-again'), 429, 'RATE_LIMITED');
    expectErrorBody(await roster(srv, 'layout', 'r'), 429, 'RATE_LIMITED');
    const logged = JSON.stringify(log.lines);
    for (const key of ['wrong-guess', 'wrong-again', TOKEN, SHOP_KEY]) expect(logged).not.to.include(key);
    expect(log.lines.filter((line) => line.msg === 'roster rejected: bad key')).to.have.lengthOf(3);
  });

  it('without API_TOKEN the built-ins answer 401 "disabled", and a site without apiKey too; sites with keys still answer', async () => {
    const srv = await rosterServer({}, null);
    expectErrorBody(await roster(srv, 'layout', 'r'), 401, 'UNAUTHORIZED', /disabled: set API_TOKEN/);
    expectErrorBody(await get(srv, '/api/namespaces/lobby/rooms', null), 401, 'UNAUTHORIZED', /disabled/);
    expectErrorBody(await roster(srv, 'open', 'r', 'anything'), 401, 'UNAUTHORIZED', /no apiKey configured/);
    expect(okBody(await roster(srv, 'shop', 'staff', SHOP_KEY), checkRoster)).to.deep.include({ clients: [] });
  });
});

describe('--api-token (API_TOKEN)', () => {
  it('is a usage error when it names a variable that is not set, and says which option', async () => {
    expectUsageError(
      await runCli(['-p', '0', '-H', '127.0.0.1'], { env: { API_TOKEN: 'env:NO_SUCH_ROSTER_TOKEN' } }),
      /--api-token \(API_TOKEN\): environment variable NO_SUCH_ROSTER_TOKEN is not set/,
    );
  });
});

describe('roster API across a cluster (real redis-server)', function () {
  before(requireRedis);

  it('lists and counts the members of every node in one answer, with their names and users', async () => {
    const redis = await startRedis();
    const backend = await tokenBackend({ alice: ['user_alice', 'staff'], bob: ['user_bob', 'staff'] });
    const access = parseSitesFile(
      { sites: { shop: { auth: { mode: 'token-url', url: `${backend.url}/rooms` }, apiKey: SHOP_KEY, userRoomPrefix: 'user_' } } },
      'test',
      {},
    );
    const options = { apiToken: resolveSecret(TOKEN, {}), access };
    const [A, B] = two(await startNodes(redis, 2, randomPrefix(), options));
    const a = await layoutMember(A, 'r', 'a');
    const b = await layoutMember(B, 'r', 'b');
    const a2 = await layoutMember(A, 'r', 'a2');
    for (const node of [A, B]) {
      expect(okBody(await roster(node, 'layout', 'r'), checkRoster)).to.deep.include({
        clients: [
          { id: idOf(a), name: 'a', userId: null },
          { id: idOf(b), name: 'b', userId: null },
          { id: idOf(a2), name: 'a2', userId: null },
        ],
      });
    }
    // The user of a socket on the other node: its data travels with the node's answer.
    const alice = await B.connect('/shop', { auth: { token: 'alice' } });
    const bob = await A.connect('/shop', { auth: { token: 'bob' } });
    const staff = await roster(A, 'shop', 'staff', SHOP_KEY);
    expect((okBody(staff, checkRoster) as { clients: unknown[] }).clients).to.have.deep.members([
      { id: idOf(alice), name: null, userId: 'alice' },
      { id: idOf(bob), name: null, userId: 'bob' },
    ]);
    await ack(b, 'JOIN', { room: 'solo', name: 'b' });
    expect(okBody(await get(A, '/api/namespaces/layout/rooms'), checkCounts)).to.deep.equal({
      ok: true,
      namespace: 'layout',
      rooms: [
        { room: 'r', clients: 3 },
        { room: 'solo', clients: 1 },
      ],
      total: 2,
    });
  });

  it('a frozen node (SIGSTOP) makes a roster and a room count 503 UNAVAILABLE within about --cluster-timeout; API_TOKEN from the environment', async () => {
    const redis = await startRedis();
    const prefix = randomPrefix();
    const clusterTimeout = scaled(500);
    const A = one(await startNodes(redis, 1, prefix, { apiToken: resolveSecret(TOKEN, {}), clusterTimeout }));
    const C = await startCli(['-p', '0', '-H', '127.0.0.1', '--redis', redis.url, '--redis-prefix', prefix], {
      env: { API_TOKEN: 'env:ROSTER_TOKEN', ROSTER_TOKEN: TOKEN },
    });
    onTeardown(() => {
      if (C.child.exitCode === null && C.child.signalCode === null) C.child.kill('SIGCONT');
    });
    await C.waitForLog(isClusterReadyLine, 'the cluster ready line');
    const a = await layoutMember(A, 'r', 'a');
    // The CLI read API_TOKEN (as a reference to another variable) and answers for both nodes.
    expect(okBody(await roster(C, 'layout', 'r'), checkRoster)).to.deep.include({ clients: [{ id: idOf(a), name: 'a', userId: null }] });
    expectErrorBody(await roster(C, 'layout', 'r', 'wrong'), 401, 'UNAUTHORIZED');

    C.child.kill('SIGSTOP');
    // Well before socket.io-adapter's own 5 s: the cluster timeout, plus a round trip.
    const prompt = clusterTimeout + scaled(1500);
    const started = performance.now();
    const refused = await withDeadline(roster(A, 'layout', 'r'), 'the roster while a node is frozen', prompt);
    expectErrorBody(refused, 503, 'UNAVAILABLE', /did not answer within --cluster-timeout .*roster would be incomplete/);
    expect(performance.now() - started).to.be.at.least(clusterTimeout - 50);
    expectErrorBody(
      await withDeadline(get(A, '/api/namespaces/layout/rooms'), 'the room count while a node is frozen', prompt),
      503,
      'UNAVAILABLE',
      /room count would be incomplete/,
    );

    // Running again, it answers: once it has served a request of its own, A's rosters are complete again.
    C.child.kill('SIGCONT');
    expect((await roster(C, 'layout', 'r')).status).to.equal(200);
    expect(okBody(await roster(A, 'layout', 'r'), checkRoster)).to.deep.include({ clients: [{ id: idOf(a), name: 'a', userId: null }] });
  });
});
