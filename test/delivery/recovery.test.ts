import { expect } from 'chai';
import type { Socket } from 'socket.io-client';
import { two } from '../support/arrays.js';
import { startNodes } from '../support/cluster.js';
import { dropAndReturn, dropConnection, reconnectTo } from '../support/drop.js';
import { randomPrefix, requireRedis, startRedis } from '../support/redis.js';
import { idOf, startServer, type ClientOptions, type TestServer } from '../support/server.js';
import { recordLog } from '../support/log.js';
import { heldMemory } from '../support/memory.js';
import { ack, collect, next, silent } from '../support/wait.js';
import { OFFSET_EVENT } from '../../lib/delivery/recovery.js';
import type { ServerResponse } from 'node:http';
import type { AccessConfig } from '../../lib/config/access.js';
import { parseSitesFile } from '../../lib/config/sites-file.js';
import { reply, startBackend } from '../support/backend.js';
import { withDeadline } from '../support/wait.js';

/** A client over WebSocket only (so that its connection can be dropped), which reconnects when told to. */
const RECONNECTING: ClientOptions = { transports: ['websocket'] };

/** The messages of `EVENT` payloads, in arrival order. */
const messagesOf = (events: readonly { message: unknown }[]): unknown[] => events.map((event) => event.message);

/** A client of `/layout` on `server` in room `room` as `name`, that reconnects by itself. */
async function member(server: TestServer, room: string, name: string, options: ClientOptions = {}): Promise<Socket> {
  const socket = await server.connect('/layout', { ...RECONNECTING, ...options });
  await ack(socket, 'JOIN', { room, name });
  return socket;
}

for (const fastPath of [true, false]) {
  describe(`connection-state recovery, one process (fast path ${fastPath ? 'on' : 'off'})`, () => {
    it('gives a dropped client back its id, rooms and name, and every broadcast it missed, once and in order', async () => {
      const server = await startServer({ fastPath });
      const sender = await member(server, 'r', 'sender');
      const phone = await member(server, 'r', 'phone');
      await ack(phone, 'NOTIFY', { room: 'r', message: 'before' });
      const id = idOf(phone);
      const heard = collect<{ message: unknown }>(phone, 'EVENT');

      await dropAndReturn(server, '/layout', phone, async () => {
        for (const message of [1, 2, 3]) await ack(sender, 'NOTIFY', { room: 'r', message });
      });
      expect(phone.recovered).to.equal(true);
      expect(idOf(phone)).to.equal(id);
      expect(server.roomsOf('/layout', id)).to.have.length(1);
      const after = next<{ sender: string }>(sender, 'EVENT');
      await ack(phone, 'NOTIFY', { room: 'r', message: 'after' });
      expect((await after).sender).to.equal('phone');
      await ack(sender, 'NOTIFY', { room: 'r', message: 4 });
      expect(await ack(sender, 'CLIENTS', { room: 'r' })).to.deep.include({ clients: ['sender', 'phone'] });
      expect(messagesOf(heard)).to.deep.equal([1, 2, 3, 4]);
    });

    it('recovers a client that had received nothing before its connection dropped: it got a start offset at connect', async () => {
      const server = await startServer({ fastPath });
      const sender = await member(server, 'r', 'sender');
      const offsets: unknown[] = [];
      const quiet = await server.connect('/layout', RECONNECTING, (socket) =>
        socket.on(OFFSET_EVENT, (offset: unknown) => offsets.push(offset)),
      );
      await ack(quiet, 'JOIN', { room: 'r', name: 'quiet' });
      expect(offsets).to.have.length(1);
      expect(offsets[0]).to.be.a('string');
      const heard = collect<{ message: unknown }>(quiet, 'EVENT');

      await dropAndReturn(server, '/layout', quiet, () => ack(sender, 'NOTIFY', { room: 'r', message: 'missed' }));
      expect(quiet.recovered).to.equal(true);
      expect(messagesOf(heard)).to.deep.equal(['missed']);
    });

    it('keeps a missed broadcast in a small buffer however many clients connect meanwhile: their start offsets are not kept', async () => {
      const server = await startServer({ fastPath, recoveryBuffer: 4096, eventRate: 0, connectRate: 0 });
      const sender = await member(server, 'r', 'sender');
      const phone = await member(server, 'r', 'phone');
      const heard = collect<{ message: unknown }>(phone, 'EVENT');
      await dropAndReturn(server, '/layout', phone, async () => {
        await ack(sender, 'NOTIFY', { room: 'r', message: 'missed' });
        // Each start offset kept as a broadcast was about 40 bytes: 200 of them are twice the 4 KB buffer.
        for (let i = 0; i < 200; i++) {
          let offset: Promise<string> | undefined;
          const newcomer = await server.connect('/layout', RECONNECTING, (socket) => {
            offset = next<string>(socket, OFFSET_EVENT);
          });
          await offset;
          newcomer.disconnect();
        }
      });
      expect(phone.recovered).to.equal(true);
      expect(messagesOf(heard)).to.deep.equal(['missed']);
    });

    it('gives a clean session, never a partial replay, when a broadcast it missed was dropped from the bounded buffer', async () => {
      const server = await startServer({ fastPath, recoveryBuffer: 4096, eventRate: 0 });
      const sender = await member(server, 'r', 'sender');
      const phone = await member(server, 'r', 'phone');
      const heard = collect<{ message: unknown }>(phone, 'EVENT');
      await dropAndReturn(server, '/layout', phone, async () => {
        // 20 × 1 KB: more than the 4 KB buffer keeps, so the oldest are gone.
        for (let i = 0; i < 20; i++) await ack(sender, 'NOTIFY', { room: 'r', message: `${i}:${'x'.repeat(1000)}` });
      });
      expect(phone.recovered).to.equal(false);
      expect(heard).to.deep.equal([]);
      expect(server.roomsOf('/layout', idOf(phone))).to.deep.equal([]);
      expect(await ack(sender, 'CLIENTS', { room: 'r' })).to.deep.include({ clients: ['sender'] });
    });

    it('holds at most --recovery-buffer of broadcasts while a session is away, whatever is sent meanwhile', async () => {
      const buffer = 4 * 1024 * 1024;
      const server = await startServer({ fastPath, recoveryBuffer: buffer, eventRate: 0, maxPayload: 64 * 1024 });
      const sender = await member(server, 'r', 'sender');
      const phone = await member(server, 'r', 'phone');
      const message = 'x'.repeat(60_000);
      const volume = 32 * 1024 * 1024;
      let grown = 0;
      await dropAndReturn(server, '/layout', phone, async () => {
        const before = heldMemory();
        // To a room with a session away: Socket.IO's own adapter keeps all of it for the window (32 MB and more).
        for (let sent = 0; sent < volume; sent += message.length) await ack(sender, 'NOTIFY', { room: 'r', message });
        grown = heldMemory() - before;
      });
      // As the outbound bound's test: half the volume, where the buffer's 4 MB and the heap's slack fit.
      expect(grown, `held ${grown} bytes more after sending ${volume}, with a ${buffer}-byte buffer`).to.be.below(volume / 2);
      expect(phone.recovered).to.equal(false);
    });

    it('keeps the other rooms of the buffer recoverable when only another room overflowed it', async () => {
      const server = await startServer({ fastPath, recoveryBuffer: 4096, eventRate: 0 });
      const busy = await member(server, 'busy', 'sender');
      const quietSender = await member(server, 'quiet', 'sender');
      const phone = await member(server, 'quiet', 'phone');
      const heard = collect<{ message: unknown }>(phone, 'EVENT');
      await dropAndReturn(server, '/layout', phone, async () => {
        for (let i = 0; i < 20; i++) await ack(busy, 'NOTIFY', { room: 'busy', message: 'x'.repeat(1000) });
        await ack(quietSender, 'NOTIFY', { room: 'quiet', message: 'for the phone' });
      });
      expect(phone.recovered).to.equal(true);
      expect(messagesOf(heard)).to.deep.equal(['for the phone']);
    });

    it('recovers nothing with --recovery-window 0, and sends no start offset', async () => {
      const server = await startServer({ fastPath, recoveryWindow: 0 });
      const offsets: unknown[] = [];
      const phone = await server.connect('/layout', RECONNECTING, (socket) =>
        socket.on(OFFSET_EVENT, (offset: unknown) => offsets.push(offset)),
      );
      await ack(phone, 'JOIN', { room: 'r', name: 'phone' });
      const sender = await member(server, 'r', 'sender');
      const [event] = await Promise.all([
        new Promise<unknown[]>((resolve) => phone.once('EVENT', (...args: unknown[]) => resolve(args))),
        ack(sender, 'NOTIFY', { room: 'r', message: 1 }),
      ]);
      // Without recovery no offset is appended to broadcasts.
      expect(event).to.have.length(1);
      await dropAndReturn(server, '/layout', phone);
      expect(phone.recovered).to.not.equal(true);
      expect(offsets).to.deep.equal([]);
    });

    it('recovers again after a second drop, from the session the first recovery started', async () => {
      const server = await startServer({ fastPath });
      const phone = await member(server, 'r', 'phone');
      await dropAndReturn(server, '/layout', phone);
      expect(phone.recovered).to.equal(true);
      // Dropped again at once: the new session (not the used one) is what recovers now.
      await dropAndReturn(server, '/layout', phone);
      expect(phone.recovered).to.equal(true);
      expect(server.roomsOf('/layout', idOf(phone))).to.have.length(1);
    });

    it('serves a legacy v2 client as before: no recovery, no start offset, broadcasts it can read', async () => {
      const server = await startServer({ fastPath });
      const legacy = await server.connectLegacy('/layout');
      const events: unknown[] = [];
      legacy.on(OFFSET_EVENT, (offset: unknown) => events.push(offset));
      legacy.emit('JOIN', JSON.stringify({ room: 'r', name: 'legacy' }));
      const sender = await member(server, 'r', 'sender');
      await ack(sender, 'CLIENTS', { room: 'r' });
      const event = next<{ message: unknown }>(legacy, 'EVENT');
      await ack(sender, 'NOTIFY', { room: 'r', message: 'hello' });
      expect((await event).message).to.equal('hello');
      expect(events).to.deep.equal([]);
    });
  });
}

describe('connection-state recovery in lobbies: a recovered peer is never announced as LEFT then JOINED', () => {
  it('sends no LEFT while a dropped peer may come back, and tells only the peers who joined meanwhile that it JOINED', async () => {
    const server = await startServer();
    const stays = await server.connect('/lobby', RECONNECTING);
    await ack(stays, 'JOIN', 'l');
    const phone = await server.connect('/lobby', RECONNECTING);
    await ack(phone, 'JOIN', 'l');
    const phoneId = idOf(phone);
    const staysHeard = collect<string>(stays, 'LEFT');
    const staysJoined = collect<string>(stays, 'JOINED');
    const replayed = collect<string>(phone, 'JOINED');
    let newcomer: Socket | undefined;

    await dropAndReturn(server, '/lobby', phone, async () => {
      newcomer = await server.connect('/lobby');
      const joined = await ack<{ peers: string[] }>(newcomer, 'JOIN', 'l');
      // The dropped peer is not in the lobby while it is away.
      expect(joined.peers).to.deep.equal([idOf(stays)]);
    });
    if (!newcomer) throw new Error('no newcomer');
    const welcomed = await next<string>(newcomer, 'JOINED');
    expect(phone.recovered).to.equal(true);
    expect(welcomed).to.equal(phoneId);
    // The recovered peer got the JOINED it missed; the peer from before heard neither LEFT nor JOINED of it.
    expect(replayed).to.deep.equal([idOf(newcomer)]);
    await ack(stays, 'BROADCAST', { message: 'still here?' });
    expect(staysHeard).to.deep.equal([]);
    expect(staysJoined).to.deep.equal([idOf(newcomer)]);
    const signal = next<{ from: string }>(stays, 'RTCSIGNAL');
    await ack(phone, 'RTCSIGNAL', { to: idOf(stays), sdp: 'x' });
    expect((await signal).from).to.equal(phoneId);
  });

  it('sends LEFT once the window has passed without the peer coming back, which then gets a clean session', async () => {
    const server = await startServer({ recoveryWindow: 200 });
    const stays = await server.connect('/lobby');
    await ack(stays, 'JOIN', 'l');
    const gone = await server.connect('/lobby', RECONNECTING);
    await ack(gone, 'JOIN', 'l');
    const goneId = idOf(gone);
    // LEFT comes after the window (and its grace): when the peer reconnects then, its session has expired.
    await dropAndReturn(server, '/lobby', gone, async () => {
      expect(await next<string>(stays, 'LEFT')).to.equal(goneId);
    });
    expect(gone.recovered).to.equal(false);
    expect(idOf(gone)).to.not.equal(goneId);
    expect(server.roomsOf('/lobby', idOf(gone))).to.deep.equal([]);
  });

  it('sends LEFT at once for a peer that disconnects on purpose', async () => {
    const server = await startServer();
    const stays = await server.connect('/lobby');
    await ack(stays, 'JOIN', 'l');
    const leaving = await server.connect('/lobby');
    await ack(leaving, 'JOIN', 'l');
    const left = next<string>(stays, 'LEFT');
    const id = idOf(leaving);
    leaving.disconnect();
    expect(await left).to.equal(id);
  });
});

describe('connection-state recovery across nodes (real redis-server)', function () {
  before(requireRedis);

  it('recovers a client on another node: its id, rooms, name and the broadcasts it missed, in order', async () => {
    const redis = await startRedis();
    const [A, B] = two(await startNodes(redis, 2, randomPrefix()));
    const sender = await member(B, 'r', 'sender');
    const phone = await member(A, 'r', 'phone');
    await ack(phone, 'NOTIFY', { room: 'r', message: 'hello' });
    const heard = collect<{ message: unknown }>(phone, 'EVENT');
    const id = idOf(phone);

    reconnectTo(phone, `${B.url}/layout`);
    await dropAndReturn(A, '/layout', phone, async () => {
      for (const message of [1, 2, 3]) await ack(sender, 'NOTIFY', { room: 'r', message });
    });
    expect(phone.recovered).to.equal(true);
    expect(idOf(phone)).to.equal(id);
    expect(B.roomsOf('/layout', id)).to.have.length(1);
    await ack(sender, 'NOTIFY', { room: 'r', message: 4 });
    expect(await ack(sender, 'CLIENTS', { room: 'r' })).to.deep.include({ clients: ['sender', 'phone'] });
    expect(messagesOf(heard)).to.deep.equal([1, 2, 3, 4]);
  });

  it('recovers a client that had received nothing, from the stream offset the node gave it at connect', async () => {
    const redis = await startRedis();
    const [A, B] = two(await startNodes(redis, 2, randomPrefix()));
    const offsets: unknown[] = [];
    const quiet = await A.connect('/layout', RECONNECTING, (socket) => socket.on(OFFSET_EVENT, (offset: unknown) => offsets.push(offset)));
    await ack(quiet, 'JOIN', { room: 'r', name: 'quiet' });
    expect(offsets).to.have.length(1);
    expect(offsets[0]).to.match(/^\d+-\d+$/);
    const sender = await member(B, 'r', 'sender');
    const heard = collect<{ message: unknown }>(quiet, 'EVENT');
    reconnectTo(quiet, `${B.url}/layout`);
    await dropAndReturn(A, '/layout', quiet, () => ack(sender, 'NOTIFY', { room: 'r', message: 'missed' }));
    expect(quiet.recovered).to.equal(true);
    expect(messagesOf(heard)).to.deep.equal(['missed']);
  });

  it('says LEFT at once for the peers of a node that shuts down, and JOINED when such a peer recovers on another node', async () => {
    const redis = await startRedis();
    const [A, B] = two(await startNodes(redis, 2, randomPrefix()));
    const stays = await B.connect('/lobby');
    await ack(stays, 'JOIN', 'l');
    const phone = await A.connect('/lobby', RECONNECTING);
    await ack(phone, 'JOIN', 'l');
    const id = idOf(phone);
    const left = next<string>(stays, 'LEFT');
    const dropped = next(phone, 'disconnect');
    await A.app.close();
    expect(await left).to.equal(id);
    await dropped;
    const joined = next<string>(stays, 'JOINED');
    const back = next(phone, 'connect');
    reconnectTo(phone, `${B.url}/lobby`);
    phone.connect();
    await back;
    expect(phone.recovered).to.equal(true);
    expect(await joined).to.equal(id);
    const signal = next<{ from: string }>(stays, 'RTCSIGNAL');
    await ack(phone, 'RTCSIGNAL', { to: idOf(stays), sdp: 'x' });
    expect((await signal).from).to.equal(id);
  });

  it('keeps a lobby peer that comes back through another node: no LEFT, and the lobby works across both nodes', async () => {
    const redis = await startRedis();
    const recorder = recordLog('debug');
    const [A, B] = two(await startNodes(redis, 2, randomPrefix(), { recoveryWindow: 500 }, [{ log: recorder.log }]));
    const stays = await B.connect('/lobby');
    await ack(stays, 'JOIN', 'l');
    const phone = await A.connect('/lobby', RECONNECTING);
    await ack(phone, 'JOIN', 'l');
    const left = collect<string>(stays, 'LEFT');
    reconnectTo(phone, `${B.url}/lobby`);
    await dropAndReturn(A, '/lobby', phone);
    expect(phone.recovered).to.equal(true);
    // Past the window and its grace, node A's deferred LEFT finds the peer in the lobby on B and stays quiet.
    const check = await recorder.line((line) => line.msg === 'dropped peer came back: no LEFT', 'the deferred check of node A');
    expect(check).to.include({ socketId: idOf(phone), lobby: 'l' });
    await silent(stays, 'LEFT');
    expect(left).to.deep.equal([]);
  });
});

/**
 * A `/layout` whose auth backend answers at once until `hold()`; then it keeps the next request open until
 * `release()`, as a slow backend would: a recovering socket is then restored but not yet connected.
 */
interface SlowAuth {
  readonly access: AccessConfig;
  hold(): void;
  held(): Promise<void>;
  release(): void;
}

async function slowAuth(): Promise<SlowAuth> {
  let holding = false;
  let open: ServerResponse | undefined;
  let arrived: () => void = () => undefined;
  const came = new Promise<void>((resolve) => (arrived = resolve));
  const backend = await startBackend((_request, res) => {
    if (!holding) return reply(res, 200, []);
    holding = false;
    open = res;
    arrived();
  });
  const access = parseSitesFile({ namespaces: { layout: { auth: { mode: 'token-url', url: `${backend.url}/rooms` } } } }, 'test', {});
  return {
    access,
    hold: () => (holding = true),
    held: () => withDeadline(came, 'the held auth request'),
    release: () => {
      if (open) reply(open, 200, []);
    },
  };
}

/**
 * Drops `phone` (on `A`, in room `r` with `sender`), and brings it back through `B` while its auth request
 * is held: a broadcast then finds its session restored, in its rooms, and not yet connected.
 */
async function meanwhileDelivered(auth: SlowAuth, A: TestServer, B: TestServer): Promise<void> {
  const sender = await member(B, 'r', 'sender', { auth: { token: 't' } });
  const phone = await member(A, 'r', 'phone', { auth: { token: 't' } });
  const heard = collect<{ message: unknown }>(phone, 'EVENT');
  if (A !== B) reconnectTo(phone, `${B.url}/layout`);
  const gone = A.serverDisconnect('/layout', idOf(phone));
  dropConnection(phone);
  await gone;
  await ack(sender, 'NOTIFY', { room: 'r', message: 'missed' });
  auth.hold();
  const back = next(phone, 'connect');
  phone.connect();
  await auth.held();
  await ack(sender, 'NOTIFY', { room: 'r', message: 'meanwhile' });
  auth.release();
  await back;
  expect(phone.recovered).to.equal(true);
  const last = new Promise<void>((resolve) => phone.on('EVENT', ({ message }: { message: unknown }) => message === 'after' && resolve()));
  await ack(sender, 'NOTIFY', { room: 'r', message: 'after' });
  await withDeadline(last, 'EVENT after');
  expect(messagesOf(heard)).to.deep.equal(['missed', 'meanwhile', 'after']);
}

describe('connection-state recovery while the recovered socket is still in its middlewares (a slow auth backend)', function () {
  it('one process: a broadcast meanwhile reaches the client after the ones it missed, once', async () => {
    const auth = await slowAuth();
    const server = await startServer({ access: auth.access });
    await meanwhileDelivered(auth, server, server);
  });

  describe('two nodes, real redis-server', function () {
    before(requireRedis);

    it('a broadcast meanwhile reaches the client after the ones it missed, once', async () => {
      const auth = await slowAuth();
      const redis = await startRedis();
      const [A, B] = two(await startNodes(redis, 2, randomPrefix(), { access: auth.access }));
      await meanwhileDelivered(auth, A, B);
    });
  });
});
