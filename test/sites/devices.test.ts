import { expect } from 'chai';
import type { Socket } from 'socket.io-client';
import type { LegacySocket } from 'socket.io-client-v2';
import type { ServiceOptions } from '../../lib/config/options.js';
import { DEFAULT_OPTIONS } from '../../lib/config/options.js';
import { parseSitesFile } from '../../lib/config/sites-file.js';
import { MemoryDeviceQueue } from '../../lib/delivery/device-queue-memory.js';
import { tokenBackend } from '../support/backend.js';
import { expectErrorBody, postSend, type HttpResult } from '../support/http.js';
import { rawClient } from '../support/raw-engine.js';
import { idOf, startServer, type ClientOptions, type TestServer } from '../support/server.js';
import { dropConnection } from '../support/drop.js';
import { onTeardown } from '../support/teardown.js';
import { barrier, nextArgs, recordAll, received, type Heard, type Recording, arrival as heardArrival, ackOf } from '../support/wait.js';

const KEY = 'shop-key';
const GRANTS = { alice: ['user_alice', 'staff'], bob: ['user_bob', 'staff'], carol: ['staff'] };

/** A service with site `shop` (userRoomPrefix `user_`), site `plain` (none), and the device queue's clock. */
interface DeviceServer extends TestServer {
  /** Moves the device queue's clock on. */
  advance(ms: number): void;
}

async function deviceServer(options: Partial<ServiceOptions> = {}, shop: Record<string, unknown> = {}): Promise<DeviceServer> {
  const backend = await tokenBackend(GRANTS);
  const auth = { mode: 'token-url', url: `${backend.url}/rooms` };
  const access = parseSitesFile(
    { sites: { shop: { auth, apiKey: KEY, userRoomPrefix: 'user_', ...shop }, plain: { auth, apiKey: KEY } } },
    'test',
    {},
  );
  const config = { ...DEFAULT_OPTIONS, ...options };
  let now = 1_700_000_000_000;
  const deviceQueue = new MemoryDeviceQueue(
    { maxMessages: config.deviceQueue, maxBytes: Math.floor(config.maxOutbound / 2), maxDevices: config.maxDevices },
    () => now,
  );
  onTeardown(() => deviceQueue.close());
  const srv = await startServer({ access, connectRate: 0, eventRate: 0, ...options }, { deviceQueue });
  return {
    ...srv,
    advance: (ms) => {
      now += ms;
    },
  };
}

/** A device socket of `token`'s user, recording everything from before its connect. */
interface Device {
  readonly socket: Socket;
  readonly heard: Heard[];
  readonly recording: Recording;
}

async function device(srv: TestServer, token: string, deviceId?: string, extra: ClientOptions = {}, site = 'shop'): Promise<Device> {
  let recording: Recording | undefined;
  const auth = { token, ...(deviceId === undefined ? {} : { deviceId }), ...((extra.auth as object | undefined) ?? {}) };
  const socket = await srv.connect(`/${site}`, { ...extra, auth }, (s) => (recording = recordAll(s)));
  if (!recording) throw new Error('no recording');
  return { socket, heard: recording.heard, recording };
}

function push(srv: TestServer, body: Record<string, unknown>, query = ''): Promise<HttpResult> {
  return postSend(srv, `site=shop${query}`, body, { authorization: `Bearer ${KEY}` });
}

/** Disconnects a client once the server has processed it (its queue's clock started). */
async function leave(srv: TestServer, client: Device, site = 'shop'): Promise<void> {
  const gone = srv.serverDisconnect(`/${site}`, idOf(client.socket));
  client.socket.disconnect();
  await gone;
}

/** The arguments of an event as heard, the trailing ack function (if any) replaced by the word 'ack'. */
function shape(args: readonly unknown[]): unknown[] {
  return args.map((arg) => (typeof arg === 'function' ? 'ack' : arg));
}

/**
 * Pushes a probe to `user` and waits for it at `client`: a `_batch` the connect was going to send comes
 * before it (the socket's later messages wait for its batch), so none in `heard` by then means none.
 */
async function probe(srv: TestServer, client: Device, user: string): Promise<void> {
  const arrived = nextArgs(client.socket, 'probe');
  await push(srv, { rooms: [`user_${user}`], event: 'probe' });
  ackOf(['probe', ...(await arrived)])();
}

/** The first `event` the client heard, already or still to come. */
function arrival(client: Device, event: string): Promise<Heard> {
  return heardArrival(client.socket, client.heard, event);
}

function events(client: Device): string[] {
  return client.heard.map(([event]) => event);
}

describe('reliable delivery (sites with a userRoomPrefix, one process)', () => {
  describe('connect', () => {
    it('sends _settings { device_ttl } to every socket of the site, from --device-ttl or the site deviceTtl', async () => {
      const srv = await deviceServer({ deviceTtl: 120 });
      const withDevice = await device(srv, 'alice', 'phone');
      const without = await device(srv, 'carol');
      await barrier(withDevice.socket);
      await barrier(without.socket);
      expect(withDevice.heard[0]).to.deep.equal(['_settings', { device_ttl: 120 }]);
      expect(without.heard).to.deep.equal([['_settings', { device_ttl: 120 }]]);
      const own = await deviceServer({ deviceTtl: 120 }, { deviceTtl: 0 });
      const forever = await device(own, 'alice', 'phone');
      await barrier(forever.socket);
      expect(forever.heard[0]).to.deep.equal(['_settings', { device_ttl: 0 }]);
    });

    it('sends nothing of the kind on a site without a userRoomPrefix, where a deviceId changes nothing', async () => {
      const srv = await deviceServer();
      const client = await device(srv, 'alice', 'phone', {}, 'plain');
      const res = await postSend(
        srv,
        'site=plain',
        { rooms: ['user_alice'], event: 'update', args: [1] },
        { authorization: `Bearer ${KEY}` },
      );
      expect(res.body).to.deep.equal({ ok: true, delivered: 1 });
      await barrier(client.socket);
      expect(client.heard).to.deep.equal([['update', 1]]);
    });

    it('refuses a deviceId over --max-id-length, a deviceId that is not a string and a bad messageIds, with BAD_REQUEST', async () => {
      const srv = await deviceServer({ maxIdLength: 16 });
      const long = await srv.refused('/shop', { auth: { token: 'alice', deviceId: 'd'.repeat(17) } });
      expect(long.data?.code).to.equal('BAD_REQUEST');
      expect(long.message).to.equal('deviceId must not have more than 16 characters');
      const number = await srv.refused('/shop', { auth: { token: 'alice', deviceId: 7 } });
      expect(number.data?.code).to.equal('BAD_REQUEST');
      expect(number.message).to.match(/^deviceId must be string/);
      const empty = await srv.refused('/shop', { query: { token: 'alice', deviceId: '' } });
      expect(empty.message).to.match(/^deviceId must not have fewer than 1 characters/);
      const ids = await srv.refused('/shop', { auth: { token: 'alice', deviceId: 'x', messageIds: 'yes' } });
      expect(ids.message).to.match(/^messageIds must be boolean/);
      // The longest allowed is served.
      const ok = await device(srv, 'alice', 'd'.repeat(16));
      await probe(srv, ok, 'alice');
    });
  });

  describe('pushes', () => {
    it('emits a push to a device socket with an ack last, and an acked message is not sent again', async () => {
      const srv = await deviceServer();
      const phone = await device(srv, 'alice', 'phone');
      const arrived = nextArgs(phone.socket, 'update');
      const res = await push(srv, { rooms: ['user_alice'], event: 'update', args: ['user', { id: 1 }] });
      expect(res.body).to.include({ ok: true, delivered: 1, queued: 1 });
      expect((res.body as { id?: unknown }).id).to.be.a('string');
      const args = await arrived;
      expect(shape(args)).to.deep.equal(['user', { id: 1 }, 'ack']);
      ackOf(['update', ...args])();
      await barrier(phone.socket);
      await leave(srv, phone);
      const back = await device(srv, 'alice', 'phone');
      await probe(srv, back, 'alice');
      expect(events(back)).to.deep.equal(['_settings', 'probe']);
    });

    it('puts the message id in a trailing { _id } before the ack for messageIds sockets, the same id on every device', async () => {
      const srv = await deviceServer();
      const phone = await device(srv, 'alice', 'phone', { auth: { messageIds: true } });
      const laptop = await device(srv, 'alice', 'laptop', { query: { messageIds: 'true' } });
      const onPhone = nextArgs(phone.socket, 'update');
      const onLaptop = nextArgs(laptop.socket, 'update');
      const res = await push(srv, { rooms: ['user_alice'], event: 'update', args: [1] });
      const { id } = res.body as { id: string };
      expect(res.body).to.deep.equal({ ok: true, delivered: 2, queued: 2, id });
      expect(shape(await onPhone)).to.deep.equal([1, { _id: id }, 'ack']);
      expect(shape(await onLaptop)).to.deep.equal([1, { _id: id }, 'ack']);
    });

    it('sends what a device missed as one _batch on connect, in push order, whose one ack removes it', async () => {
      const srv = await deviceServer();
      const phone = await device(srv, 'alice', 'phone', { auth: { messageIds: true } });
      const first = nextArgs(phone.socket, 'a');
      const ids = [((await push(srv, { rooms: ['user_alice'], event: 'a', args: [1] })).body as { id: string }).id];
      await first; // not acked
      await leave(srv, phone);
      for (const [event, args] of [
        ['b', [2, { x: 'y' }]],
        ['a', []],
      ] as const) {
        const res = await push(srv, { rooms: ['user_alice', 'staff'], event, args });
        expect(res.body).to.include({ delivered: 0, queued: 1 });
        ids.push((res.body as { id: string }).id);
      }
      const back = await device(srv, 'alice', 'phone', { auth: { messageIds: true } });
      const [, entries, batchAck] = await arrival(back, '_batch');
      expect(entries).to.deep.equal([
        ['a', 1, { _id: ids[0] }],
        ['b', 2, { x: 'y' }, { _id: ids[1] }],
        ['a', { _id: ids[2] }],
      ]);
      expect(events(back)).to.deep.equal(['_settings', '_batch']);
      (batchAck as () => void)();
      await barrier(back.socket);
      await leave(srv, back);
      const again = await device(srv, 'alice', 'phone');
      await probe(srv, again, 'alice');
      expect(events(again)).to.deep.equal(['_settings', 'probe']);
    });

    it('a batch ack after newer pushes removes only the batch', async () => {
      const srv = await deviceServer();
      const phone = await device(srv, 'alice', 'phone');
      await leave(srv, phone);
      await push(srv, { rooms: ['user_alice'], event: 'old' });
      const back = await device(srv, 'alice', 'phone');
      await arrival(back, '_batch');
      const fresh = nextArgs(back.socket, 'new');
      await push(srv, { rooms: ['user_alice'], event: 'new' });
      await fresh; // not acked
      ackOf(back.heard.find(([event]) => event === '_batch'))();
      await barrier(back.socket);
      await leave(srv, back);
      const again = await device(srv, 'alice', 'phone');
      await arrival(again, '_batch');
      expect(again.heard.find(([event]) => event === '_batch')?.[1]).to.deep.equal([['new']]);
    });

    it('ignores acks for unknown messages and second acks, and keeps serving the socket', async () => {
      const srv = await deviceServer();
      const raw = await rawClient(srv.url, undefined);
      raw.send(`40/shop,${JSON.stringify({ token: 'alice', deviceId: 'raw' })}`);
      await raw.next((frame) => frame.startsWith('40/shop,{"sid"'), 'the CONNECT of /shop');
      await push(srv, { rooms: ['user_alice'], event: 'one' });
      await push(srv, { rooms: ['user_alice'], event: 'two' });
      const one = await raw.next((frame) => /^42\/shop,\d+\["one"\]$/.test(frame), 'event one with an ack id');
      const two = await raw.next((frame) => /^42\/shop,\d+\["two"\]$/.test(frame), 'event two with an ack id');
      const ackId = (frame: string): string => /^42\/shop,(\d+)\[/.exec(frame)?.[1] ?? '';
      raw.send('43/shop,99999[]');
      raw.send(`43/shop,${ackId(one)}[]`);
      raw.send(`43/shop,${ackId(one)}[]`);
      raw.send(`43/shop,${ackId(one)}["anything",{"at":"all"}]`);
      // Still connected and served: an unknown event with an ack is answered.
      raw.send('42/shop,7["ping-me"]');
      await raw.next((frame) => frame.startsWith('43/shop,7['), 'the answer to an event after the acks');
      raw.ws.close();
      await raw.closed;
      // 'one' is gone, 'two' was never acked.
      const back = await device(srv, 'alice', 'raw');
      await arrival(back, '_batch');
      expect(back.heard.find(([event]) => event === '_batch')?.[1]).to.deep.equal([['two']]);
      expect(two).to.match(/"two"/);
    });

    it('reaches a socket without a deviceId at most once, as before: no ack, no queue', async () => {
      const srv = await deviceServer();
      const plain = await device(srv, 'alice');
      const arrived = nextArgs(plain.socket, 'update');
      expect((await push(srv, { rooms: ['user_alice'], event: 'update', args: [1, 2] })).body).to.deep.equal({
        ok: true,
        delivered: 1,
        queued: 0,
      });
      expect(await arrived).to.deep.equal([1, 2]);
      await leave(srv, plain);
      const phone = await device(srv, 'alice', 'phone');
      await probe(srv, phone, 'alice');
      expect(events(phone)).to.deep.equal(['_settings', 'probe']);
    });

    it('a room that holds users reaches every known device of the users in it now, and its other sockets once', async () => {
      const srv = await deviceServer();
      const laptop = await device(srv, 'alice', 'laptop');
      await leave(srv, laptop); // alice's other device is away
      const phone = await device(srv, 'alice', 'phone');
      const carol = await device(srv, 'carol'); // in staff, no user room, no device
      const bob = await device(srv, 'bob', 'tablet');
      await leave(srv, bob); // bob's only device is away: no socket of his is in staff now
      const onPhone = nextArgs(phone.socket, 'news');
      const onCarol = nextArgs(carol.socket, 'news');
      const res = await push(srv, { rooms: ['staff'], event: 'news', args: ['x'] });
      expect(res.body).to.include({ ok: true, delivered: 2, queued: 2 });
      expect(shape(await onPhone)).to.deep.equal(['x', 'ack']);
      expect(await onCarol).to.deep.equal(['x']);
      const back = await device(srv, 'alice', 'laptop');
      await arrival(back, '_batch');
      expect(back.heard.find(([event]) => event === '_batch')?.[1]).to.deep.equal([['news', 'x']]);
      const bobBack = await device(srv, 'bob', 'tablet');
      await probe(srv, bobBack, 'bob');
      expect(events(bobBack)).to.deep.equal(['_settings', 'probe']);
    });

    it('legacy socket.io-client 2.x clients name their device in the query and get acks and _batch', async () => {
      const srv = await deviceServer();
      const legacy = await srv.connectLegacy('/shop', { query: { token: 'alice', deviceId: 'old-phone' } });
      const arrived = new Promise<unknown[]>((resolve) => legacy.on('update', (...args: unknown[]) => resolve(args)));
      await push(srv, { rooms: ['user_alice'], event: 'update', args: ['user', 5] });
      expect(shape(await arrived)).to.deep.equal(['user', 5, 'ack']);
      const gone = srv.serverDisconnect('/shop', legacyId(legacy));
      legacy.close();
      await gone;
      await push(srv, { rooms: ['user_alice'], event: 'later' });
      const batch = new Promise<unknown[]>((resolve) => {
        void srv.connectLegacy('/shop', { query: { token: 'alice', deviceId: 'old-phone' } }, (socket) =>
          socket.on('_batch', (...args: unknown[]) => resolve(args)),
        );
      });
      expect(shape(await batch)).to.deep.equal([[['update', 'user', 5], ['later']], 'ack']);
    });
  });

  describe('resync', () => {
    it('resync=true: an ack out of order for its event clears the queue and sends _resync; in order it does not', async () => {
      const srv = await deviceServer();
      const phone = await device(srv, 'alice', 'phone');
      const two = received(phone.socket, 'sync', 2);
      await push(srv, { rooms: ['user_alice'], event: 'sync', args: [1] }, '&resync=true');
      await push(srv, { rooms: ['user_alice'], event: 'sync', args: [2], resync: true });
      await push(srv, { rooms: ['user_alice'], event: 'other', resync: true });
      await two;
      const [first, second] = phone.heard.filter(([event]) => event === 'sync');
      ackOf(second)();
      await arrival(phone, '_resync');
      ackOf(first)(); // already cleared: ignored
      await barrier(phone.socket);
      expect(events(phone).filter((event) => event === '_resync')).to.have.lengthOf(1);
      await leave(srv, phone);
      const back = await device(srv, 'alice', 'phone');
      await probe(srv, back, 'alice');
      expect(events(back)).to.deep.equal(['_settings', 'probe']);
    });

    it('resync=false (query or body) and no resync: acks in any order clear nothing', async () => {
      const srv = await deviceServer();
      const phone = await device(srv, 'alice', 'phone');
      const three = received(phone.socket, 'sync', 3);
      await push(srv, { rooms: ['user_alice'], event: 'sync', args: [1] }, '&resync=false');
      await push(srv, { rooms: ['user_alice'], event: 'sync', args: [2], resync: false });
      await push(srv, { rooms: ['user_alice'], event: 'sync', args: [3] }, '&resync=0');
      await three;
      for (const heard of phone.heard.filter(([event]) => event === 'sync').reverse()) ackOf(heard)();
      await barrier(phone.socket);
      expect(events(phone)).to.not.include('_resync');
    });

    it('refuses a resync that is not a boolean: "false" in a JSON body, garbage in the query, or disagreeing forms', async () => {
      const srv = await deviceServer();
      const body = { rooms: ['user_alice'], event: 'e' };
      expectErrorBody(await push(srv, { ...body, resync: 'false' }), 400, 'BAD_REQUEST', /^resync must be boolean/);
      expectErrorBody(await push(srv, { ...body, resync: 1 }), 400, 'BAD_REQUEST', /^resync must be boolean/);
      expectErrorBody(await push(srv, body, '&resync=yes'), 400, 'BAD_REQUEST', /^resync /);
      expectErrorBody(await push(srv, body, '&resync=%22false%22'), 400, 'BAD_REQUEST', /^resync /);
      expectErrorBody(await push(srv, body, '&resync=true&resync=false'), 400, 'BAD_REQUEST', /^resync /);
      expectErrorBody(await push(srv, { ...body, resync: false }, '&resync=true'), 400, 'BAD_REQUEST', /different values/);
      // A form body says it in words.
      const form = await postSend(srv, 'site=shop', 'rooms=user_alice&event=e&resync=true', {
        authorization: `Bearer ${KEY}`,
        'content-type': 'application/x-www-form-urlencoded',
      });
      expect(form.status).to.equal(200);
    });
  });

  describe('bounds', () => {
    it('drops a device queue once the device has been away longer than its TTL', async () => {
      const srv = await deviceServer({ deviceTtl: 60 });
      const phone = await device(srv, 'alice', 'phone');
      await leave(srv, phone);
      expect((await push(srv, { rooms: ['user_alice'], event: 'missed' })).body).to.include({ queued: 1 });
      srv.advance(60_000);
      const back = await device(srv, 'alice', 'phone');
      await probe(srv, back, 'alice');
      expect(events(back)).to.deep.equal(['_settings', 'probe']);
    });

    it('restarts the TTL clock at each disconnect: a reconnect within the TTL keeps the queue', async () => {
      const srv = await deviceServer({ deviceTtl: 60 });
      const phone = await device(srv, 'alice', 'phone');
      await leave(srv, phone);
      await push(srv, { rooms: ['user_alice'], event: 'kept' });
      srv.advance(59_000);
      const back = await device(srv, 'alice', 'phone');
      await arrival(back, '_batch'); // not acked
      srv.advance(59_000); // connected: the clock is stopped
      await leave(srv, back);
      srv.advance(59_000); // 177 s after the first disconnect, 59 s after the last
      const again = await device(srv, 'alice', 'phone');
      await arrival(again, '_batch');
      expect(again.heard.find(([event]) => event === '_batch')?.[1]).to.deep.equal([['kept']]);
    });

    it('past --device-queue drops the oldest and sends _resync, not _batch, when the device connects', async () => {
      const srv = await deviceServer({ deviceQueue: 3 });
      const phone = await device(srv, 'alice', 'phone');
      await leave(srv, phone);
      for (let i = 0; i < 5; i++) await push(srv, { rooms: ['user_alice'], event: 'n', args: [i] });
      const back = await device(srv, 'alice', 'phone');
      await arrival(back, '_resync');
      await probe(srv, back, 'alice');
      expect(events(back)).to.deep.equal(['_settings', '_resync', 'probe']);
    });

    it('sends a connected socket at most --device-queue messages awaiting its ack, the next one as each is acked', async () => {
      const srv = await deviceServer({ deviceQueue: 3 });
      const phone = await device(srv, 'alice', 'phone');
      const three = received(phone.socket, 'n', 3);
      for (let i = 0; i < 3; i++) await push(srv, { rooms: ['user_alice'], event: 'n', args: [i] });
      await three;
      await push(srv, { rooms: ['user_alice'], event: 'n', args: [3] });
      await barrier(phone.socket);
      expect(phone.heard.filter(([event]) => event === 'n')).to.have.lengthOf(3);
      const fourth = nextArgs(phone.socket, 'n');
      ackOf(phone.heard.find(([event]) => event === 'n'))();
      expect(shape(await fourth)).to.deep.equal([3, 'ack']);
    });

    it('forgets the device away longest past --max-devices', async () => {
      const srv = await deviceServer({ maxDevices: 1 });
      const phone = await device(srv, 'alice', 'phone');
      await leave(srv, phone);
      await push(srv, { rooms: ['user_alice'], event: 'for-phone' });
      srv.advance(1);
      const laptop = await device(srv, 'alice', 'laptop');
      await leave(srv, laptop);
      const back = await device(srv, 'alice', 'phone');
      await probe(srv, back, 'alice');
      expect(events(back)).to.deep.equal(['_settings', 'probe']);
    });
  });
});

/** The id of a connected legacy socket. */
function legacyId(socket: LegacySocket): string {
  const { id } = socket;
  if (typeof id !== 'string') throw new Error('legacy socket not connected');
  return id;
}

describe('reliable delivery on a site with recovery: true', () => {
  it('gives a recovered device socket its pending messages as a _batch on connect, under its old id', async () => {
    const srv = await deviceServer({}, { recovery: true });
    const phone = await device(srv, 'alice', 'phone', { transports: ['websocket'], auth: { messageIds: true } });
    const id = idOf(phone.socket);
    const gone = srv.serverDisconnect('/shop', id);
    dropConnection(phone.socket);
    await gone;
    const reliable = await push(srv, { rooms: ['user_alice'], event: 'order', args: [7] });
    expect(reliable.body).to.include({ delivered: 0, queued: 1 });
    const back = new Promise<void>((resolve) => phone.socket.once('connect', () => resolve()));
    phone.socket.connect();
    await back;
    expect(phone.socket.recovered).to.equal(true);
    expect(idOf(phone.socket)).to.equal(id);
    const [, entries, batchAck] = await arrival(phone, '_batch');
    const { id: orderId } = reliable.body as { id: string };
    expect(entries).to.deep.equal([['order', 7, { _id: orderId }]]);
    (batchAck as () => void)();
    await probe(srv, phone, 'alice');
  });
});
