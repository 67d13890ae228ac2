import { expect } from 'chai';
import pino from 'pino';
import { createClient } from 'redis';
import type { DeviceQueue, DeviceQueueLimits, DeviceRef, NewMessage } from '../../lib/delivery/device-queue.js';
import { createDeviceQueue } from '../../lib/delivery/device-queue-factory.js';
import { MemoryDeviceQueue } from '../../lib/delivery/device-queue-memory.js';
import { READY_DEADLINE_MS, REDIS_DEADLINE_MS } from '../support/deadlines.js';
import { requireRedis, startRedis } from '../support/redis.js';
import { onTeardown } from '../support/teardown.js';
import { withDeadline } from '../support/wait.js';

/** A queue under test, and how to let time pass for it. */
interface Harness {
  readonly queue: DeviceQueue;
  /** Resolves once `ms` have passed on the queue's clock: moved (memory), or a key of that TTL expired (Redis). */
  readonly elapse: (ms: number) => Promise<void>;
}

type MakeHarness = (limits: DeviceQueueLimits) => Promise<Harness>;

const LIMITS: DeviceQueueLimits = { maxMessages: 100, maxBytes: 1_000_000, maxDevices: 10 };
/** The device TTL of these tests: short, as Redis's own clock has to pass it. */
const TTL_MS = 100;

const phone: DeviceRef = { site: 'shop', user: 'u1', device: 'phone' };
const laptop: DeviceRef = { site: 'shop', user: 'u1', device: 'laptop' };

let counter = 0;
function message(event = 'update', resync = false, ...args: unknown[]): NewMessage {
  counter += 1;
  return { id: `m${counter}`, event, args: args.length > 0 ? args : [counter], resync };
}

const memory: MakeHarness = (limits) => {
  let now = 1_700_000_000_000;
  const queue = new MemoryDeviceQueue(limits, () => now);
  onTeardown(() => queue.close());
  return Promise.resolve({
    queue,
    elapse: (ms) => {
      now += ms;
      return Promise.resolve();
    },
  });
};

const redis: MakeHarness = async (limits) => {
  const server = await startRedis();
  const queue = await createDeviceQueue({ mode: 'redis', redis: server.options() }, limits, pino({ level: 'silent' }));
  onTeardown(() => queue.close());
  await withDeadline(queue.untilReady(), 'the device queue to reach redis', READY_DEADLINE_MS);
  // Time passes when a key of that TTL has expired, as Redis's expiry events say: no sleeping.
  await server.command(['CONFIG', 'SET', 'notify-keyspace-events', 'Ex']);
  const subscriber = createClient({ url: server.url });
  subscriber.on('error', () => undefined);
  onTeardown(() => subscriber.destroy());
  await withDeadline(subscriber.connect(), 'a subscriber to reach redis', REDIS_DEADLINE_MS);
  const waiting = new Map<string, () => void>();
  await subscriber.subscribe('__keyevent@0__:expired', (key) => waiting.get(key)?.());
  let clocks = 0;
  return {
    queue,
    elapse: async (ms) => {
      const key = `clock-${++clocks}`;
      const expired = new Promise<void>((resolve) => waiting.set(key, resolve));
      await server.command(['SET', key, '1', 'PX', String(ms)]);
      await withDeadline(expired, `${ms} ms to pass on redis-server's clock`);
    },
  };
};

/** The contract every DeviceQueue implementation keeps: run against both. */
function contract(name: string, make: MakeHarness, before?: Mocha.Func): void {
  describe(`DeviceQueue contract: ${name}`, function () {
    if (before) this.beforeAll(before);

    it('queues for no one before a device of the user connected', async () => {
      const { queue } = await make(LIMITS);
      expect(await queue.push('shop', ['u1'], message())).to.deep.equal({ devices: 0, users: [] });
      expect(await queue.read(phone, 0, 10)).to.deep.equal([]);
    });

    it('keeps messages per device in push order, with their id, event, args and resync flag, and reads after a seq', async () => {
      const { queue } = await make(LIMITS);
      await queue.connect(phone);
      const sent = [message('a', false, 'x', { n: 1 }), message('b', true, null), message('a')];
      for (const m of sent) expect(await queue.push('shop', ['u1', 'u1', 'nobody'], m)).to.deep.equal({ devices: 1, users: ['u1'] });
      const read = await queue.read(phone, 0, 10);
      expect(read.map(({ id, event, args, resync }) => ({ id, event, args, resync }))).to.deep.equal(sent);
      const seqs = read.map((m) => m.seq);
      expect([...seqs].sort((x, y) => x - y)).to.deep.equal(seqs);
      expect(new Set(seqs).size).to.equal(3);
      expect((await queue.read(phone, seqs[0] ?? 0, 10)).map((m) => m.id)).to.deep.equal([sent[1]?.id, sent[2]?.id]);
      expect((await queue.read(phone, 0, 2)).map((m) => m.id)).to.deep.equal([sent[0]?.id, sent[1]?.id]);
    });

    it('keeps sites and users apart', async () => {
      const { queue } = await make(LIMITS);
      await queue.connect(phone);
      await queue.connect({ ...phone, site: 'blog' });
      await queue.connect({ ...phone, user: 'u2' });
      await queue.push('shop', ['u1'], message());
      expect(await queue.read({ ...phone, site: 'blog' }, 0, 10)).to.deep.equal([]);
      expect(await queue.read({ ...phone, user: 'u2' }, 0, 10)).to.deep.equal([]);
      expect(await queue.read(phone, 0, 10)).to.have.lengthOf(1);
    });

    it('queues one push for every device of the user under one id, each device with its own queue', async () => {
      const { queue } = await make(LIMITS);
      await queue.connect(phone);
      await queue.connect(laptop);
      const m = message();
      expect(await queue.push('shop', ['u1'], m)).to.deep.equal({ devices: 2, users: ['u1'] });
      const [onPhone] = await queue.read(phone, 0, 10);
      const [onLaptop] = await queue.read(laptop, 0, 10);
      expect(onPhone?.id).to.equal(m.id);
      expect(onLaptop?.id).to.equal(m.id);
      await queue.ack(phone, [onPhone?.seq ?? 0]);
      expect(await queue.read(phone, 0, 10)).to.deep.equal([]);
      expect(await queue.read(laptop, 0, 10)).to.have.lengthOf(1);
    });

    it('acks remove exactly the messages named: unknown, repeated and already removed seqs are ignored', async () => {
      const { queue } = await make(LIMITS);
      await queue.connect(phone);
      for (let i = 0; i < 4; i++) await queue.push('shop', ['u1'], message());
      const [first, second, third, fourth] = await queue.read(phone, 0, 10);
      expect(await queue.ack(phone, [first?.seq ?? 0, third?.seq ?? 0])).to.equal('removed');
      expect((await queue.read(phone, 0, 10)).map((m) => m.seq)).to.deep.equal([second?.seq, fourth?.seq]);
      expect(await queue.ack(phone, [first?.seq ?? 0, 9999, -1])).to.equal('removed');
      expect(await queue.ack(phone, [])).to.equal('removed');
      expect(await queue.ack({ ...phone, device: 'unknown' }, [second?.seq ?? 0])).to.equal('removed');
      expect((await queue.read(phone, 0, 10)).map((m) => m.seq)).to.deep.equal([second?.seq, fourth?.seq]);
    });

    it('clears the queue when a resync message is acked while an older one of its event is pending', async () => {
      const { queue } = await make(LIMITS);
      await queue.connect(phone);
      await queue.push('shop', ['u1'], message('sync', true));
      await queue.push('shop', ['u1'], message('other'));
      await queue.push('shop', ['u1'], message('sync', true));
      const [older, other, newer] = await queue.read(phone, 0, 10);
      expect(await queue.ack(phone, [newer?.seq ?? 0])).to.equal('resync');
      expect(await queue.read(phone, 0, 10)).to.deep.equal([]);
      // The cleared messages are unknown now: their acks change nothing.
      expect(await queue.ack(phone, [older?.seq ?? 0, other?.seq ?? 0])).to.equal('removed');
      // New pushes are queued after the cleared ones.
      await queue.push('shop', ['u1'], message());
      const [after] = await queue.read(phone, 0, 10);
      expect(after?.seq).to.be.above(newer?.seq ?? 0);
    });

    it('does not resync in order, across events, or for messages pushed without resync', async () => {
      const { queue } = await make(LIMITS);
      await queue.connect(phone);
      await queue.push('shop', ['u1'], message('a', true));
      await queue.push('shop', ['u1'], message('b', true));
      await queue.push('shop', ['u1'], message('a', true));
      await queue.push('shop', ['u1'], message('c', false));
      await queue.push('shop', ['u1'], message('c', false));
      const [a1, b1, a2, c1, c2] = await queue.read(phone, 0, 10);
      expect(await queue.ack(phone, [b1?.seq ?? 0])).to.equal('removed'); // b's oldest, though a1 is older
      expect(await queue.ack(phone, [c2?.seq ?? 0])).to.equal('removed'); // out of order, but no resync flag
      expect(await queue.ack(phone, [a1?.seq ?? 0])).to.equal('removed');
      expect(await queue.ack(phone, [a2?.seq ?? 0])).to.equal('removed'); // now the oldest of a
      expect((await queue.read(phone, 0, 10)).map((m) => m.seq)).to.deep.equal([c1?.seq]);
      // A batch ack removes in order: each is the oldest of its event when it goes.
      await queue.push('shop', ['u1'], message('a', true));
      await queue.push('shop', ['u1'], message('a', true));
      const pending = await queue.read(phone, 0, 10);
      expect(
        await queue.ack(
          phone,
          pending.map((m) => m.seq),
        ),
      ).to.equal('removed');
      expect(await queue.read(phone, 0, 10)).to.deep.equal([]);
    });

    it('drops the oldest past the message cap, and reports the overflow once, at the next connect, clearing the queue', async () => {
      const { queue } = await make({ ...LIMITS, maxMessages: 3 });
      await queue.connect(phone);
      const sent = [message(), message(), message(), message(), message()];
      for (const m of sent) await queue.push('shop', ['u1'], m);
      expect((await queue.read(phone, 0, 10)).map((m) => m.id)).to.deep.equal(sent.slice(2).map((m) => m.id));
      // The resync check still works on what is left (the links of dropped messages are gone with them).
      await queue.disconnect(phone, 0);
      expect(await queue.connect(phone)).to.deep.equal({ overflowed: true });
      expect(await queue.read(phone, 0, 10)).to.deep.equal([]);
      expect(await queue.connect(phone)).to.deep.equal({ overflowed: false });
    });

    it('drops the oldest past the byte cap, a message bigger than the cap included', async () => {
      const { queue } = await make({ ...LIMITS, maxBytes: 100 });
      await queue.connect(phone);
      const small = [message('e', false, 'x'.repeat(30)), message('e', false, 'y'.repeat(30)), message('e', false, 'z'.repeat(30))];
      for (const m of small) await queue.push('shop', ['u1'], m);
      expect((await queue.read(phone, 0, 10)).map((m) => m.id)).to.deep.equal(small.slice(1).map((m) => m.id));
      await queue.push('shop', ['u1'], message('e', false, 'w'.repeat(200)));
      expect(await queue.read(phone, 0, 10)).to.deep.equal([]);
      expect(await queue.connect(phone)).to.deep.equal({ overflowed: true });
    });

    // Time only ever passes more than asked for (Redis reports an expiry when it gets to it): a check that a
    // device is still known never relies on an elapse being short, only on the device having no deadline
    // (connected) or one far away.
    it('keeps a device while it is connected, and drops it with its queue once it has been away longer than the TTL', async () => {
      const { queue, elapse } = await make(LIMITS);
      await queue.connect(phone);
      await elapse(TTL_MS * 2);
      expect((await queue.push('shop', ['u1'], message())).devices).to.equal(1);
      await queue.disconnect(phone, 60_000);
      expect((await queue.push('shop', ['u1'], message())).devices, 'away, within the TTL').to.equal(1);
      await queue.connect(phone);
      expect(await queue.read(phone, 0, 10), 'kept while away').to.have.lengthOf(2);
      await queue.disconnect(phone, TTL_MS);
      await elapse(TTL_MS * 2);
      expect(await queue.push('shop', ['u1'], message())).to.deep.equal({ devices: 0, users: [] });
      expect(await queue.read(phone, 0, 10)).to.deep.equal([]);
      expect(await queue.connect(phone)).to.deep.equal({ overflowed: false });
      expect(await queue.read(phone, 0, 10)).to.deep.equal([]);
    });

    it('stops the TTL clock on reconnect and starts it afresh on the next disconnect', async () => {
      const { queue, elapse } = await make(LIMITS);
      await queue.connect(phone);
      await queue.disconnect(phone, TTL_MS);
      await queue.connect(phone);
      await elapse(TTL_MS * 2);
      // Past the first disconnect's deadline: a clock the reconnect had not stopped would have dropped it.
      expect((await queue.push('shop', ['u1'], message())).devices).to.equal(1);
      await queue.disconnect(phone, TTL_MS);
      await elapse(TTL_MS * 2);
      expect((await queue.push('shop', ['u1'], message())).devices).to.equal(0);
    });

    it('counts the sockets of one device: it stays while any is connected', async () => {
      const { queue, elapse } = await make(LIMITS);
      await queue.connect(phone);
      await queue.connect(phone);
      await queue.disconnect(phone, TTL_MS);
      await elapse(TTL_MS * 2);
      expect((await queue.push('shop', ['u1'], message())).devices).to.equal(1);
      await queue.disconnect(phone, TTL_MS);
      await queue.disconnect(phone, TTL_MS); // one too many: ignored
      await elapse(TTL_MS * 2);
      expect((await queue.push('shop', ['u1'], message())).devices).to.equal(0);
    });

    it('keeps a device forever with TTL 0', async () => {
      const { queue, elapse } = await make(LIMITS);
      await queue.connect(phone);
      await queue.disconnect(phone, 0);
      await elapse(TTL_MS * 2);
      expect((await queue.push('shop', ['u1'], message())).devices).to.equal(1);
    });

    it('forgets the device away longest past the devices cap, then the one connected longest, never the newcomer', async () => {
      const { queue, elapse } = await make({ ...LIMITS, maxDevices: 2 });
      const tablet: DeviceRef = { ...phone, device: 'tablet' };
      await queue.connect(phone);
      await queue.disconnect(phone, 0);
      await elapse(5);
      await queue.connect(laptop);
      await queue.disconnect(laptop, 0);
      await queue.push('shop', ['u1'], message());
      await queue.connect(tablet);
      await elapse(5);
      expect(await queue.read(phone, 0, 10), 'the phone, away longest, is forgotten').to.deep.equal([]);
      expect(await queue.read(laptop, 0, 10)).to.have.lengthOf(1);
      expect((await queue.push('shop', ['u1'], message())).devices).to.equal(2);
      await queue.connect(laptop);
      await elapse(5);
      await queue.connect(phone);
      expect((await queue.push('shop', ['u1'], message())).devices).to.equal(2);
      expect(await queue.read(tablet, 0, 10), 'the tablet, connected before the laptop came back').to.deep.equal([]);
      expect(await queue.read(phone, 0, 10)).to.have.lengthOf(1);
    });

    it('ignores a disconnect of a device it does not know', async () => {
      const { queue } = await make(LIMITS);
      await queue.disconnect(phone, TTL_MS);
      expect((await queue.push('shop', ['u1'], message())).devices).to.equal(0);
    });
  });
}

contract('memory', memory);
contract('redis', redis, requireRedis);

describe('MemoryDeviceQueue', () => {
  it('sweeps expired devices out of memory without being asked about them', async () => {
    const { queue, elapse } = await memory(LIMITS);
    await queue.connect(phone);
    await queue.disconnect(phone, TTL_MS);
    await elapse(TTL_MS * 2);
    if (!(queue instanceof MemoryDeviceQueue)) throw new Error('a memory queue expected');
    expect(queue.size).to.equal(1);
    queue.sweep();
    expect(queue.size).to.equal(0);
  });
});
