import { expect } from 'chai';
import type { Socket } from 'socket.io-client';
import type { ServiceOptions } from '../../lib/config/options.js';
import { parseSitesFile } from '../../lib/config/sites-file.js';
import { dropConnection } from '../support/drop.js';
import { postSend } from '../support/http.js';
import { scrape, seriesCount, valueOf } from '../support/metrics.js';
import { idOf, startServer, type TestServer } from '../support/server.js';
import { ack, next } from '../support/wait.js';

const KEY = 'metrics-test-key';

/** A service with a site (`/shop`, pushable with {@link KEY}) and forwarding (`/sharedsocket`, `/do-*`), without per-address limits. */
async function metricsServer(options: Partial<ServiceOptions> = {}): Promise<TestServer> {
  const access = parseSitesFile(
    {
      sites: { shop: { auth: { mode: 'none' }, apiKey: KEY } },
      forwarding: [{ namespace: '/sharedsocket' }, { prefix: 'do-' }],
    },
    'test',
    {},
  );
  return startServer({ access, connectRate: 0, eventRate: 0, maxAuthFailures: 0, ...options });
}

/** Disconnects `socket` and resolves once the server has processed it. */
async function leave(server: TestServer, ns: string, socket: Socket): Promise<void> {
  const gone = server.serverDisconnect(ns, idOf(socket));
  socket.disconnect();
  await gone;
}

describe('metrics of the service', () => {
  it('counts connections per namespace, up and down, the children of a forwarding prefix under the prefix', async () => {
    const server = await metricsServer();
    const before = await scrape(server);
    for (const namespace of ['/layout', '/bus', '/lobby', '/trigger', '/shop', '/sharedsocket', '/do-*']) {
      expect(valueOf(before, 'realtime_rooms_connections', { namespace }), namespace).to.equal(0);
    }
    const layout = await server.connect('/layout');
    await server.connect('/layout');
    await server.connect('/shop');
    const children = await Promise.all(Array.from({ length: 20 }, (_, i) => server.connect(`/do-child${i}`)));
    const during = await scrape(server);
    expect(valueOf(during, 'realtime_rooms_connections', { namespace: '/layout' })).to.equal(2);
    expect(valueOf(during, 'realtime_rooms_connections', { namespace: '/shop' })).to.equal(1);
    expect(valueOf(during, 'realtime_rooms_connections', { namespace: '/do-*' })).to.equal(20);
    // One series per configured namespace, whatever the clients named.
    expect(seriesCount(during, 'realtime_rooms_connections')).to.equal(seriesCount(before, 'realtime_rooms_connections'));

    await leave(server, '/layout', layout);
    for (const [i, child] of children.entries()) await leave(server, `/do-child${i}`, child);
    const after = await scrape(server);
    expect(valueOf(after, 'realtime_rooms_connections', { namespace: '/layout' })).to.equal(1);
    expect(valueOf(after, 'realtime_rooms_connections', { namespace: '/do-*' })).to.equal(0);
  });

  it('counts events in by protocol name, every other name under one label, and failed requests by code', async () => {
    const server = await metricsServer();
    const layout = await server.connect('/layout');
    await ack(layout, 'JOIN', { room: 'r1', name: 'a' });
    await ack(layout, 'NOTIFY', { room: 'r1', message: 1 });
    expect(await ack(layout, 'JOIN', { room: 42 })).to.deep.include({ ok: false });
    const before = await scrape(server);
    expect(valueOf(before, 'realtime_rooms_events_in_total', { namespace: '/layout', event: 'JOIN' })).to.equal(2);
    expect(valueOf(before, 'realtime_rooms_events_in_total', { namespace: '/layout', event: 'NOTIFY' })).to.equal(1);
    expect(valueOf(before, 'realtime_rooms_errors_total', { code: 'BAD_REQUEST' })).to.equal(1);

    // Many rooms and many made-up event names: counted, never a new series.
    for (let i = 0; i < 30; i++) {
      await ack(layout, 'JOIN', { room: `room-${i}`, name: 'a' });
      expect(await ack(layout, `made-up-${i}`, {})).to.deep.include({ ok: false });
    }
    const shared = await server.connect('/sharedsocket');
    const echoed = next(shared, 'app-event');
    await ack(shared, 'app-event', 1);
    await echoed;
    const after = await scrape(server);
    expect(valueOf(after, 'realtime_rooms_events_in_total', { namespace: '/layout', event: 'JOIN' })).to.equal(32);
    expect(valueOf(after, 'realtime_rooms_events_in_total', { namespace: '/layout', event: 'other' })).to.equal(30);
    expect(valueOf(after, 'realtime_rooms_events_in_total', { namespace: '/sharedsocket', event: 'other' })).to.equal(1);
    expect(valueOf(after, 'realtime_rooms_errors_total', { code: 'BAD_REQUEST' })).to.equal(31);
    expect(seriesCount(after, 'realtime_rooms_events_in_total')).to.equal(seriesCount(before, 'realtime_rooms_events_in_total'));
    expect(seriesCount(after, 'realtime_rooms_errors_total')).to.equal(seriesCount(before, 'realtime_rooms_errors_total'));
    const text = after.map((sample) => JSON.stringify(sample.labels)).join('\n');
    expect(text).to.not.match(/room-|made-up|r1/);
    expect(text).to.not.include(idOf(layout));
  });

  it('counts push API calls by HTTP status', async () => {
    const server = await metricsServer();
    await server.connect('/shop');
    const body = { rooms: ['r'], event: 'news', args: [] };
    expect((await postSend(server, 'site=shop', body, { authorization: `Bearer ${KEY}` })).status).to.equal(200);
    expect((await postSend(server, 'site=shop', body, { authorization: 'Bearer wrong' })).status).to.equal(401);
    expect((await postSend(server, 'site=nope', body, {})).status).to.equal(404);
    const samples = await scrape(server);
    expect(valueOf(samples, 'realtime_rooms_push_requests_total', { status: '200' })).to.equal(1);
    expect(valueOf(samples, 'realtime_rooms_push_requests_total', { status: '401' })).to.equal(1);
    expect(valueOf(samples, 'realtime_rooms_push_requests_total', { status: '404' })).to.equal(1);
  });

  it('counts v4 reconnects that asked for recovery: recovered, and given a new session when the server could not recover it', async () => {
    const server = await metricsServer();
    const phone = await server.connect('/layout', { transports: ['websocket'] });
    await ack(phone, 'JOIN', { room: 'r', name: 'phone' });
    const gone = server.serverDisconnect('/layout', idOf(phone));
    dropConnection(phone);
    await gone;
    const back = next(phone, 'connect');
    phone.connect();
    await back;
    expect(phone.recovered).to.equal(true);
    const once = await scrape(server);
    expect(valueOf(once, 'realtime_rooms_recoveries_total', { outcome: 'recovered' })).to.equal(1);
    expect(valueOf(once, 'realtime_rooms_recoveries_total', { outcome: 'new_session' })).to.equal(0);

    // A server without recovery gives every reconnect a new session, pid or not.
    const plain = await metricsServer({ recoveryWindow: 0 });
    const other = await plain.connect('/layout', { transports: ['websocket'], auth: { pid: 'gone', offset: 'gone' } });
    expect(other.recovered).to.not.equal(true);
    const samples = await scrape(plain);
    expect(valueOf(samples, 'realtime_rooms_recoveries_total', { outcome: 'new_session' })).to.equal(1);
    expect(valueOf(samples, 'realtime_rooms_recoveries_total', { outcome: 'recovered' })).to.equal(0);
  });

  it('counts events out per broadcast, times its local recipients, by protocol name (others under one label)', async () => {
    const server = await metricsServer({ fastPath: true });
    const [sender, one, two] = await Promise.all([server.connect('/layout'), server.connect('/layout'), server.connect('/layout')]);
    for (const [i, socket] of [sender, one, two].entries()) await ack(socket, 'JOIN', { room: 'r', name: `m${i}` });
    const shared = await Promise.all([server.connect('/sharedsocket'), server.connect('/sharedsocket')]);
    const out = (samples: Awaited<ReturnType<typeof scrape>>, namespace: string, event: string): number =>
      valueOf(samples, 'realtime_rooms_events_out_total', { namespace, event }) ?? Number.NaN;
    const broadcasts = (samples: Awaited<ReturnType<typeof scrape>>, namespace: string): number =>
      valueOf(samples, 'realtime_rooms_broadcasts_total', { namespace }) ?? Number.NaN;
    const before = await scrape(server);

    const heard = Promise.all([next(one, 'EVENT'), next(two, 'EVENT')]);
    await ack(sender, 'NOTIFY', { room: 'r', message: 'hi' });
    await heard;
    const echoed = Promise.all(shared.map((socket) => next(socket, 'app-event')));
    await ack(shared[0], 'app-event', 1);
    await echoed;
    const after = await scrape(server);
    // socket.to(room): the sender is not a recipient.
    expect(out(after, '/layout', 'EVENT') - out(before, '/layout', 'EVENT')).to.equal(2);
    expect(broadcasts(after, '/layout') - broadcasts(before, '/layout')).to.equal(1);
    expect(out(after, '/sharedsocket', 'other') - out(before, '/sharedsocket', 'other')).to.equal(2);
    expect(seriesCount(after, 'realtime_rooms_events_out_total')).to.equal(seriesCount(before, 'realtime_rooms_events_out_total'));
  });

  it('times each broadcast from its making to its copies written, by namespace, and not one that reached nobody here', async () => {
    const server = await metricsServer({ fastPath: true });
    const [sender, member] = await Promise.all([server.connect('/layout'), server.connect('/layout')]);
    await ack(sender, 'JOIN', { room: 'r', name: 's' });
    await ack(member, 'JOIN', { room: 'r', name: 'm' });
    await ack(sender, 'JOIN', { room: 'alone', name: 's' });
    const delivery = (samples: Awaited<ReturnType<typeof scrape>>, suffix: string, labels: Record<string, string> = {}): number =>
      valueOf(samples, `realtime_rooms_delivery_seconds_${suffix}`, { namespace: '/layout', ...labels }) ?? 0;
    const before = await scrape(server);

    const heard = next(member, 'EVENT');
    await ack(sender, 'NOTIFY', { room: 'r', message: 'hi' });
    await heard;
    // socket.to(room) without the sender: a broadcast to no one.
    await ack(sender, 'NOTIFY', { room: 'alone', message: 'echo' });
    const after = await scrape(server);
    expect(delivery(after, 'count') - delivery(before, 'count')).to.equal(1);
    expect(delivery(after, 'bucket', { le: '+Inf' }) - delivery(before, 'bucket', { le: '+Inf' })).to.equal(1);
    const seconds = delivery(after, 'sum') - delivery(before, 'sum');
    expect(seconds).to.be.at.least(0).and.below(1);
  });

  it("does not count events out on the libraries' own path (fast path off), where it would take a step per recipient", async () => {
    const server = await metricsServer({ fastPath: false });
    const [sender, other] = await Promise.all([server.connect('/layout'), server.connect('/layout')]);
    await ack(sender, 'JOIN', { room: 'r', name: 's' });
    await ack(other, 'JOIN', { room: 'r', name: 'o' });
    const heard = next(other, 'EVENT');
    await ack(sender, 'NOTIFY', { room: 'r', message: 'hi' });
    await heard;
    const samples = await scrape(server);
    expect(valueOf(samples, 'realtime_rooms_events_out_total', { namespace: '/layout', event: 'EVENT' })).to.equal(0);
    expect(valueOf(samples, 'realtime_rooms_delivery_seconds_count', { namespace: '/layout' }) ?? 0).to.equal(0);
  });
});
