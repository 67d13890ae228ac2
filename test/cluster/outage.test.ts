import { expect } from 'chai';
import { two } from '../support/arrays.js';
import { startNodes } from '../support/cluster.js';
import { READY_DEADLINE_MS } from '../support/deadlines.js';
import { tokenBackend } from '../support/backend.js';
import { postSend, request } from '../support/http.js';
import { scrape, valueOf } from '../support/metrics.js';
import { parseSitesFile } from '../../lib/config/sites-file.js';
import { randomPrefix, requireRedis, startRedis } from '../support/redis.js';
import { startServer } from '../support/server.js';
import { ack, collect, next, received, silent, withDeadline } from '../support/wait.js';

/** The messages of `EVENT` payloads, in arrival order. */
const messagesOf = (events: readonly { message: unknown }[]): unknown[] => events.map((event) => event.message);
/** 0, 1, …, n − 1. */
const upTo = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

describe('cluster mode: broadcasts through a Redis outage (real redis-server)', function () {
  before(requireRedis);

  it('NOTIFYs acked during an outage reach the local members at once and the other node once Redis is back, each once and in order', async () => {
    const redis = await startRedis();
    // 300 NOTIFYs in a row: over the per-connection event rate, which is not what this test is about.
    const [A, B] = two(await startNodes(redis, 2, randomPrefix(), { eventRate: 0 }));
    const sender = await A.connect('/layout');
    const local = await A.connect('/layout');
    const remote = await B.connect('/layout');
    await ack(sender, 'JOIN', { room: 'r', name: 'sender' });
    await ack(local, 'JOIN', { room: 'r', name: 'local' });
    await ack(remote, 'JOIN', { room: 'r', name: 'remote' });
    const atRemote = collect<{ message: unknown }>(remote, 'EVENT');

    await redis.kill();
    await withDeadline(Promise.all([A.app.untilReady(false), B.app.untilReady(false)]), 'both nodes to notice that Redis is gone');
    const count = 300;
    const atLocal = received<{ message: unknown }>(local, 'EVENT', count);
    for (const i of upTo(count)) expect(await ack(sender, 'NOTIFY', { room: 'r', message: i })).to.deep.equal({ ok: true });
    // Local service goes on through the outage.
    expect(messagesOf(await atLocal)).to.deep.equal(upTo(count));
    expect(atRemote).to.deep.equal([]);

    await redis.restart();
    await withDeadline(Promise.all([A.app.untilReady(), B.app.untilReady()]), 'both nodes to reconnect', READY_DEADLINE_MS);
    // One more after the outage: it arrives after the held ones.
    const last = received<{ message: unknown }>(remote, 'EVENT', count + 1 - atRemote.length, READY_DEADLINE_MS);
    expect(await ack(sender, 'NOTIFY', { room: 'r', message: 'after' })).to.deep.equal({ ok: true });
    await last;
    expect(messagesOf(atRemote)).to.deep.equal([...upTo(count), 'after']);
  });

  it("times a broadcast held through the outage from its making on the publishing node, in the receiving node's histogram", async () => {
    const redis = await startRedis();
    // The histogram is fed by the fast path (the libraries' own path has no per-broadcast step to feed it).
    const [A, B] = two(await startNodes(redis, 2, randomPrefix(), { fastPath: true }));
    const sender = await A.connect('/layout');
    const remote = await B.connect('/layout');
    await ack(sender, 'JOIN', { room: 'r', name: 'sender' });
    await ack(remote, 'JOIN', { room: 'r', name: 'remote' });
    const timed = async (): Promise<{ count: number; sum: number }> => {
      const samples = await scrape(B);
      const of = (suffix: string): number => valueOf(samples, `realtime_rooms_delivery_seconds_${suffix}`, { namespace: '/layout' }) ?? 0;
      return { count: of('count'), sum: of('sum') };
    };
    const before = await timed();

    await redis.kill();
    await withDeadline(A.app.untilReady(false), 'the publishing node to notice that Redis is gone');
    const atRemote = next<{ message: unknown }>(remote, 'EVENT', READY_DEADLINE_MS);
    expect(await ack(sender, 'NOTIFY', { room: 'r', message: 'held' })).to.deep.equal({ ok: true });
    // The broadcast was made before its ack: it was held at least from here to Redis's return.
    const acked = performance.now();
    await redis.restart();
    const heldAtLeast = (performance.now() - acked) / 1000;
    expect((await atRemote).message).to.equal('held');
    const after = await timed();
    expect(after.count - before.count).to.equal(1);
    expect(after.sum - before.sum).to.be.at.least(heldAtLeast);
  });

  it('POST /send during an outage counts what it can (partial: true) and reaches the other node once Redis is back', async () => {
    const redis = await startRedis();
    const backend = await tokenBackend({ ana: ['staff'], ben: ['staff'] });
    const access = parseSitesFile(
      { sites: { shop: { auth: { mode: 'token-url', url: `${backend.url}/rooms` }, apiKey: 'k' } } },
      'test',
      {},
    );
    const [A, B] = two(await startNodes(redis, 2, randomPrefix(), { access }));
    const ana = await A.connect('/shop', { auth: { token: 'ana' } });
    const ben = await B.connect('/shop', { auth: { token: 'ben' } });
    const headers = { authorization: 'Bearer k' };
    // The HTTP answer may come before the events reach the clients: wait for them, so that the `note`
    // awaited below is the one pushed during the outage.
    const firstAtAna = next(ana, 'note');
    const firstAtBen = next(ben, 'note');
    expect((await postSend(A, 'site=shop', { rooms: ['staff'], event: 'note', args: [1] }, headers)).body).to.deep.equal({
      ok: true,
      delivered: 2,
    });
    expect([await firstAtAna, await firstAtBen]).to.deep.equal([1, 1]);

    await redis.kill();
    await withDeadline(A.app.untilReady(false), 'the node to notice that Redis is gone');
    const atAna = next(ana, 'note');
    const atBen = next(ben, 'note', READY_DEADLINE_MS);
    const pushed = await postSend(A, 'site=shop', { rooms: ['staff'], event: 'note', args: [2] }, headers);
    expect(pushed.body).to.deep.equal({ ok: true, delivered: 1, partial: true });
    expect(await atAna).to.equal(2);
    await redis.restart();
    expect(await atBen).to.equal(2);
  });

  it('past --outage-buffer, broadcasts are refused with UNAVAILABLE and delivered nowhere; the acked ones arrive after the outage', async () => {
    const redis = await startRedis();
    const prefix = randomPrefix();
    // The sending node holds a few messages' worth; the other one is an ordinary node.
    const A = await startServer({ redis: { ...redis.options(prefix), outageBuffer: 4096 } });
    await withDeadline(A.app.untilReady(), 'the small-buffer node to be ready', READY_DEADLINE_MS);
    const [B] = await startNodes(redis, 1, prefix);
    if (!B) throw new Error('no node');
    const sender = await A.connect('/layout');
    const local = await A.connect('/layout');
    const remote = await B.connect('/layout');
    const bus = await A.connect('/bus');
    await ack(sender, 'JOIN', { room: 'r', name: 'sender' });
    await ack(local, 'JOIN', { room: 'r', name: 'local' });
    await ack(remote, 'JOIN', { room: 'r', name: 'remote' });
    await ack(bus, 'JOIN', { room: 'r', name: 'bus' });
    const atLocal = collect<{ message: unknown }>(local, 'EVENT');
    const atRemote = collect<{ message: unknown }>(remote, 'EVENT');

    await redis.kill();
    await withDeadline(A.app.untilReady(false), 'the node to notice that Redis is gone');
    const message = 'x'.repeat(500);
    let acked = 0;
    let refusal: unknown;
    // Each held NOTIFY takes its ~600 bytes of the 4 KiB: the buffer is full within a few dozen.
    while (refusal === undefined && acked < 100) {
      const answer = await ack<{ ok: boolean }>(sender, 'NOTIFY', { room: 'r', message: `${acked} ${message}` });
      if (answer.ok) acked += 1;
      else refusal = answer;
    }
    expect(refusal).to.deep.equal({
      ok: false,
      error: { code: 'UNAVAILABLE', message: "Redis is unreachable and this node's outage buffer is full: nothing was sent; retry later" },
    });
    expect(acked).to.be.within(1, 99);
    // What was refused reached no one, here either.
    await silent(local, 'EVENT');
    expect(atLocal).to.have.length(acked);
    const published = await request(`${A.url}/bus-message/r`, { method: 'POST', body: '"held?"' });
    expect(published.status).to.equal(503);
    expect(published.body).to.deep.include({ ok: false });

    await redis.restart();
    await withDeadline(A.app.untilReady(), 'the node to reconnect', READY_DEADLINE_MS);
    await received(remote, 'EVENT', acked - atRemote.length, READY_DEADLINE_MS);
    expect(messagesOf(atRemote)).to.deep.equal(upTo(acked).map((i) => `${i} ${message}`));
    // Room again: broadcasts are taken once the held ones are out.
    expect(await ack(sender, 'NOTIFY', { room: 'r', message: 'after' })).to.deep.equal({ ok: true });
  });
});
