import { expect } from 'chai';
import type { Socket } from 'socket.io-client';
import { SignJWT } from 'jose';
import { Compile } from 'typebox/compile';
import { PresenceEventSchema, type PresenceEvent } from '../../protocol/index.js';
import { parseSitesFile } from '../../lib/config/sites-file.js';
import { reply, startBackend } from '../support/backend.js';
import { expectUsageError, runCli } from '../support/cli.js';
import { startNodes } from '../support/cluster.js';
import { dropAndReturn } from '../support/drop.js';
import { requireRedis, startRedis } from '../support/redis.js';
import { idOf, startServer, type ClientOptions, type TestServer } from '../support/server.js';
import { ack, barrier, collect, next, received } from '../support/wait.js';

/** A client over WebSocket only (so that its connection can be dropped), which reconnects when told to. */
const RECONNECTING: ClientOptions = { transports: ['websocket'] };

/** A `/layout` client in `room` as `name`. */
async function member(server: TestServer, room: string, name: string, options: ClientOptions = {}): Promise<Socket> {
  const socket = await server.connect('/layout', options);
  await ack(socket, 'JOIN', { room, name });
  return socket;
}

describe('PRESENCE (--presence, presence: true)', () => {
  it('tells the other members of a room who joined, was renamed and left, never the socket itself', async () => {
    const server = await startServer({ presence: ['layout'] });
    const a = await member(server, 'r', 'a');
    const aHeard = received<PresenceEvent>(a, 'PRESENCE', 6);
    const b = await server.connect('/layout');
    const bHeard = collect<PresenceEvent>(b, 'PRESENCE');
    const bId = idOf(b);
    await ack(b, 'JOIN', { room: 'r', name: 'b' });
    // The same name again: nothing changes, nothing is said.
    await ack(b, 'JOIN', { room: 'r', name: 'b' });
    await ack(b, 'JOIN', { room: 'r', name: 'b2' });
    // A new room under a new name: joined there, renamed in r (the name is the socket's).
    await ack(b, 'JOIN', { room: 's', name: 'b3' });
    await ack(b, 'LEAVE', { room: 'r' });
    // Not a member: nothing.
    await ack(b, 'LEAVE', { room: 'r' });
    const c = await member(server, 'r', 'c');
    const cId = idOf(c);
    c.disconnect();
    expect(await aHeard).to.deep.equal([
      { room: 'r', event: 'joined', id: bId, name: 'b', userId: null },
      { room: 'r', event: 'renamed', id: bId, name: 'b2', userId: null },
      { room: 'r', event: 'renamed', id: bId, name: 'b3', userId: null },
      { room: 'r', event: 'left', id: bId, name: 'b3', userId: null },
      { room: 'r', event: 'joined', id: cId, name: 'c', userId: null },
      { room: 'r', event: 'left', id: cId, name: 'c', userId: null },
    ]);
    // Of its own JOINs, renames and LEAVE b heard nothing; of c nothing either (it had left r by then).
    await barrier(b);
    expect(bHeard).to.deep.equal([]);
  });

  it('sends no PRESENCE at all on a namespace without it: the next EVENT arrives with nothing before it', async () => {
    const server = await startServer({ presence: ['bus'] });
    const a = await member(server, 'r', 'a');
    const heard = collect<PresenceEvent>(a, 'PRESENCE');
    const b = await member(server, 'r', 'b');
    await ack(b, 'JOIN', { room: 'r', name: 'b2' });
    await ack(b, 'LEAVE', { room: 'r' });
    const c = await member(server, 'r', 'c');
    const gone = server.serverDisconnect('/layout', idOf(b));
    b.disconnect();
    await gone;
    const event = next(a, 'EVENT');
    await ack(c, 'NOTIFY', { room: 'r', message: 'after all that' });
    await event;
    expect(heard).to.deep.equal([]);
  });

  it('says nothing while a dropped member may recover, and nothing once it has', async () => {
    const server = await startServer({ presence: ['layout'] });
    const stays = await member(server, 'r', 'stays');
    const heard = collect<PresenceEvent>(stays, 'PRESENCE');
    const phone = await member(server, 'r', 'phone', RECONNECTING);
    const phoneId = idOf(phone);
    await dropAndReturn(server, '/layout', phone);
    expect(phone.recovered).to.equal(true);
    const event = next(stays, 'EVENT');
    await ack(phone, 'NOTIFY', { room: 'r', message: 'back' });
    await event;
    expect(heard).to.deep.equal([{ room: 'r', event: 'joined', id: phoneId, name: 'phone', userId: null }]);
  });

  it('says left once the recovery window has passed without the member coming back', async () => {
    const server = await startServer({ presence: ['layout'], recoveryWindow: 200 });
    const stays = await member(server, 'r', 'stays');
    const gone = await member(server, 'r', 'gone', RECONNECTING);
    const goneId = idOf(gone);
    await dropAndReturn(server, '/layout', gone, async () => {
      expect(await next<PresenceEvent>(stays, 'PRESENCE')).to.deep.equal({
        room: 'r',
        event: 'left',
        id: goneId,
        name: 'gone',
        userId: null,
      });
    });
    expect(gone.recovered).to.equal(false);
  });

  it('serves a legacy v2 client in a presence room: it gets PRESENCE as the v2 wire carries objects, and is announced', async () => {
    const server = await startServer({ presence: ['layout'] });
    const legacy = await server.connectLegacy('/layout');
    legacy.emit('JOIN', JSON.stringify({ room: 'r', name: 'L' }));
    await barrier(legacy);
    const modern = await server.connect('/layout');
    const told = next<PresenceEvent>(legacy, 'PRESENCE');
    await ack(modern, 'JOIN', { room: 'r', name: 'M' });
    expect(await told).to.deep.equal({ room: 'r', event: 'joined', id: idOf(modern), name: 'M', userId: null });
    const left = next<PresenceEvent>(modern, 'PRESENCE');
    legacy.emit('LEAVE', JSON.stringify({ room: 'r' }));
    // The id as the server knows it: `/layout#<engine id>` for Engine.IO 3, the form the 2.x client has too.
    expect(await left).to.deep.equal({ room: 'r', event: 'left', id: legacy.id, name: 'L', userId: null });
  });

  it('on a site with presence: true, announces each granted room with the user, and the disconnect', async () => {
    const backend = await startBackend((_request, res) => reply(res, 200, ['staff', 'user_8']));
    const access = parseSitesFile(
      { sites: { shop: { auth: { mode: 'token-url', url: `${backend.url}/rooms` }, userRoomPrefix: 'user_', presence: true } } },
      'test',
      {},
    );
    const server = await startServer({ access });
    const first = await server.connect('/shop', { query: { token: 't' } });
    const heard = received<PresenceEvent>(first, 'PRESENCE', 4);
    const second = await server.connect('/shop', { query: { token: 't' } });
    const secondId = idOf(second);
    second.disconnect();
    const user = { id: secondId, name: null, userId: '8' };
    expect(await heard).to.have.deep.members([
      { room: 'staff', event: 'joined', ...user },
      { room: 'user_8', event: 'joined', ...user },
      { room: 'staff', event: 'left', ...user },
      { room: 'user_8', event: 'left', ...user },
    ]);
  });

  it('on /layout with jwt auth: announces the rooms the token grants at connect, with the user, valid against the schema', async () => {
    const secret = 'a-secret-of-at-least-32-characters!!';
    const access = parseSitesFile({ namespaces: { layout: { auth: { mode: 'jwt', algorithms: ['HS256'], secret } } } }, 'test', {});
    const server = await startServer({ access, presence: ['layout'] });
    const token = (sub: string): Promise<string> =>
      new SignJWT({ sub, rooms: ['team'] }).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(secret));
    const first = await server.connect('/layout', { auth: { token: await token('alice') } });
    const heard = received<PresenceEvent>(first, 'PRESENCE', 2);
    const second = await server.connect('/layout', { auth: { token: await token('bob') } });
    await ack(second, 'JOIN', { room: 'team', name: 'Bob' });
    const events = await heard;
    expect(events).to.deep.equal([
      { room: 'team', event: 'joined', id: idOf(second), name: null, userId: 'bob' },
      { room: 'team', event: 'renamed', id: idOf(second), name: 'Bob', userId: 'bob' },
    ]);
    for (const event of events) expect(Compile(PresenceEventSchema).Check(event)).to.equal(true);
  });

  it('refuses --presence naming a namespace without named rooms, or none, at start-up', async () => {
    expectUsageError(await runCli(['--presence', 'layout,lobby']), /presence .*'lobby' is not one: \/lobby has JOINED and LEFT of its own/);
    expectUsageError(await runCli(['--presence', 'shop']), /presence takes a list of layout, bus; 'shop' is not one/);
  });
});

describe('PRESENCE across nodes (real redis-server)', function () {
  before(requireRedis);

  it('reaches a member on node B for a join, a rename and a leave on node A', async () => {
    const redis = await startRedis();
    const [A, B] = await startNodes(redis, 2, undefined, { presence: ['layout'] });
    if (!A || !B) throw new Error('two nodes expected');
    const onB = await member(B, 'r', 'b');
    const heard = received<PresenceEvent>(onB, 'PRESENCE', 3);
    const onA = await A.connect('/layout');
    const id = idOf(onA);
    await ack(onA, 'JOIN', { room: 'r', name: 'a' });
    await ack(onA, 'JOIN', { room: 'r', name: 'a2' });
    onA.disconnect();
    expect(await heard).to.deep.equal([
      { room: 'r', event: 'joined', id, name: 'a', userId: null },
      { room: 'r', event: 'renamed', id, name: 'a2', userId: null },
      { room: 'r', event: 'left', id, name: 'a2', userId: null },
    ]);
  });
});
