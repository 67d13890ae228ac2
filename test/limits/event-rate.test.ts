import { expect } from 'chai';
import type { Socket } from 'socket.io-client';
import type { LegacySocket } from 'socket.io-client-v2';
import type { LimitHit } from '../../lib/core/types.js';
import { DEFAULT_OPTIONS } from '../../lib/config/options.js';
import { parseSitesFile } from '../../lib/config/sites-file.js';
import { startNodes } from '../support/cluster.js';
import { flood, type FloodResult } from '../support/flood.js';
import { requireRedis, startRedis } from '../support/redis.js';
import { startServer, type TestServer } from '../support/server.js';
import { ack, next, received, withDeadline } from '../support/wait.js';

const { eventRate, eventBurst } = DEFAULT_OPTIONS;
/** The flood: every kind of /layout request, none of them reaching the quiet clients' room. */
const FLOOD = [
  ['NOTIFY', { room: 'flood', message: 'x'.repeat(100) }],
  ['CLIENTS', { room: 'quiet' }],
  ['JOIN', { room: 'flood', name: 'flooder' }],
  ['LEAVE', { room: 'flood' }],
] as const;
/** Far more than the limit lets through before the disconnect, so that a flood nothing stops still ends. */
const FLOOD_MAX = 20_000;
const QUIET = 50;
/**
 * How flooders connect. On long-polling (and during the upgrade from it) a client queues every emit while a
 * request is out, so it could queue FLOOD_MAX events before the server's disconnect reached it, and the
 * flood would not look cut short (it failed so under coverage, slowly, about one run in four).
 */
const OVER_WEBSOCKET = { transports: ['websocket'] };
const ROUNDS = 3;
const RATE_LIMITED = {
  code: 'RATE_LIMITED',
  message: `too many events: at most ${eventRate} per second, in bursts of up to ${eventBurst}`,
};

/** A service with the default event limits; the connect rate raised because all the test's clients share 127.0.0.1. */
function startService(): Promise<TestServer> {
  return startServer({ connectRate: 10 * QUIET });
}

function recordHits(server: TestServer): LimitHit[] {
  const hits: LimitHit[] = [];
  server.app.hooks.on('limited', (hit) => hits.push(hit));
  return hits;
}

/** `QUIET` clients in room `quiet`, each with a name of its own. */
async function quietClients(server: TestServer): Promise<Socket[]> {
  const clients = await Promise.all(Array.from({ length: QUIET }, () => server.connect('/layout')));
  await Promise.all(clients.map((client, i) => ack(client, 'JOIN', { room: 'quiet', name: `quiet-${i}` })));
  return clients;
}

/** Rounds of NOTIFYs in which every quiet client talks to the others: every ack must be ok, every EVENT arrive. */
async function talk(clients: readonly Socket[]): Promise<void> {
  for (let round = 0; round < ROUNDS; round++) {
    const events = clients.map((client) => received<{ room: string; message: string }>(client, 'EVENT', clients.length - 1));
    const acks = await Promise.all(clients.map((client, i) => ack(client, 'NOTIFY', { room: 'quiet', message: `${round}:${i}` })));
    for (const answer of acks) expect(answer).to.deep.equal({ ok: true });
    const heard = await Promise.all(events);
    heard.forEach((payloads, i) => {
      const expected = clients.map((_, j) => `${round}:${j}`).filter((_, j) => j !== i);
      expect(payloads.map((payload) => payload.message).sort()).to.deep.equal(expected.sort());
    });
  }
}

/** The flooder's own limit hits: refusals, then one disconnect. */
function expectHits(hits: readonly LimitHit[], socketId: string | undefined): void {
  const mine = hits.filter((hit) => hit.limit === 'event-rate' && hit.socketId === socketId);
  expect(mine.length).to.be.greaterThan(0);
  for (const hit of mine) expect(hit).to.include({ address: '127.0.0.1', namespace: '/layout' });
  expect(mine.filter((hit) => hit.action === 'disconnected')).to.have.length(1);
  expect(mine.at(-1)?.action).to.equal('disconnected');
  expect(mine.filter((hit) => hit.action === 'refused')).to.have.length(eventBurst);
}

/** At most a burst, plus the rate over the time the flood lasted, were let through. */
function expectAdmittedWithinBucket(admitted: number, startedAt: number): void {
  const seconds = (performance.now() - startedAt) / 1000;
  expect(admitted).to.be.at.most(eventBurst + Math.ceil(eventRate * seconds));
}

describe('event rate limit', () => {
  it('answers a v4 flooder RATE_LIMITED in its acks and disconnects it, while 50 others are all served', async () => {
    const server = await startService();
    const hits = recordHits(server);
    const clients = await quietClients(server);
    const flooder = await server.connect('/layout', OVER_WEBSOCKET);
    const flooderId = flooder.id;
    const disconnected = next<string>(flooder, 'disconnect');

    const startedAt = performance.now();
    const flooding = flood(flooder, FLOOD, { max: FLOOD_MAX, withAcks: true });
    await talk(clients);
    const { acks, sent }: FloodResult = await flooding;
    expect(await disconnected).to.equal('io server disconnect');

    expect(sent, 'the flood was cut short').to.be.below(FLOOD_MAX);
    const refused = acks.filter((answer) => JSON.stringify(answer) === JSON.stringify({ ok: false, error: RATE_LIMITED }));
    const admitted = acks.filter((answer) => (answer as { ok?: unknown }).ok === true);
    expect(refused.length + admitted.length, 'every ack is ok or RATE_LIMITED').to.equal(acks.length);
    // Sustained abuse: eventBurst refusals are answered, the next refused event closes the connection.
    expect(refused).to.have.length(eventBurst);
    expectAdmittedWithinBucket(admitted.length, startedAt);
    expectHits(hits, flooderId);
    await talk(clients);
  });

  it('gives a flooder that reconnects no fresh burst: its new connection starts from the cut one and is cut at its first refusal', async () => {
    const server = await startServer({ connectRate: 10 * QUIET, trustProxy: ['loopback'] });
    const asFlooder = { ...OVER_WEBSOCKET, extraHeaders: { 'x-forwarded-for': '203.0.113.5' } };
    const first = await server.connect('/layout', asFlooder);
    const firstCut = next<string>(first, 'disconnect');
    await flood(first, FLOOD, { max: FLOOD_MAX, withAcks: true });
    expect(await firstCut).to.equal('io server disconnect');
    const cutAt = performance.now();

    const again = await server.connect('/layout', asFlooder);
    const againCut = next<string>(again, 'disconnect');
    const { acks } = await flood(again, FLOOD, { max: FLOOD_MAX, withAcks: true });
    expect(await againCut).to.equal('io server disconnect');
    const seconds = (performance.now() - cutAt) / 1000;
    // No RATE_LIMITED answered before the cut: the refusals of the first connection count for this one.
    expect(acks.filter((answer) => JSON.stringify(answer).includes('RATE_LIMITED'))).to.deep.equal([]);
    // Only what the bucket refilled since the cut got through, not another burst.
    expect(acks.length).to.be.at.most(Math.ceil(eventRate * seconds) + 1);

    // Another address has its own budget: a full burst, answered.
    const other = await server.connect('/layout', { extraHeaders: { 'x-forwarded-for': '198.51.100.5' } });
    const answers = await Promise.all(Array.from({ length: eventBurst }, () => ack(other, 'CLIENTS', { room: 'quiet' })));
    expect(answers.every((answer) => (answer as { ok?: unknown }).ok === true)).to.equal(true);
  });

  it('sends a legacy v2 flooder, which asks for no acks, ERROR RATE_LIMITED events and disconnects it, while 50 others are all served', async () => {
    const server = await startService();
    const hits = recordHits(server);
    const clients = await quietClients(server);
    const flooder: LegacySocket = await server.connectLegacy('/layout', OVER_WEBSOCKET);
    // A v2 client's own `id` is not the server's socket id; it is the one Engine.IO 3 socket on /layout.
    const flooderId = [...server.app.io.of('/layout').sockets.values()].find((socket) => socket.conn.protocol === 3)?.id;
    const errors: unknown[] = [];
    flooder.on('ERROR', (error: unknown) => errors.push(error));
    const disconnected = next<string>(flooder, 'disconnect');

    const flooding = flood(flooder, FLOOD, { max: FLOOD_MAX, withAcks: false });
    await talk(clients);
    const { sent } = await flooding;
    expect(await disconnected).to.equal('io server disconnect');

    expect(sent, 'the flood was cut short').to.be.below(FLOOD_MAX);
    const names: readonly string[] = FLOOD.map(([event]) => event);
    expect(errors).to.have.length(eventBurst);
    for (const error of errors) {
      expect(error).to.deep.include(RATE_LIMITED);
      expect(names).to.include((error as { event?: unknown }).event);
    }
    expectHits(hits, flooderId);
    await talk(clients);
  });

  it('limits every namespace the service serves: a site namespace, /sharedsocket and /do-<name> forwarding alike', async () => {
    const access = parseSitesFile(
      { sites: { shop: { auth: { mode: 'none' }, apiKey: 'shop-key' } }, forwarding: [{ namespace: '/sharedsocket' }, { prefix: 'do-' }] },
      'test',
      {},
    );
    // Each flooder from an address of its own: a connection from the address of one cut off inherits its standing.
    const server = await startServer({ access, trustProxy: ['loopback'] });
    for (const [i, ns] of ['/shop', '/sharedsocket', '/do-board'].entries()) {
      const flooder = await server.connect(ns, { ...OVER_WEBSOCKET, extraHeaders: { 'x-forwarded-for': `203.0.113.${i + 1}` } });
      const disconnected = next<string>(flooder, 'disconnect');
      const { acks, sent } = await flood(flooder, [['draw', { x: 1 }]], { max: FLOOD_MAX, withAcks: true });
      expect(await disconnected, ns).to.equal('io server disconnect');
      expect(sent, `${ns}: the flood was cut short`).to.be.below(FLOOD_MAX);
      expect(
        acks.filter((answer) => JSON.stringify(answer) === JSON.stringify({ ok: false, error: RATE_LIMITED })),
        ns,
      ).to.have.length(eventBurst);
    }
  });

  it('charges events sent to the main namespace, which serves nothing: a flood there is disconnected too', async () => {
    const server = await startService();
    const hits = recordHits(server);
    const flooder = await server.connect('/', OVER_WEBSOCKET);
    const disconnected = next<string>(flooder, 'disconnect');
    const { sent } = await flood(flooder, FLOOD, { max: FLOOD_MAX, withAcks: false });
    expect(await disconnected).to.equal('io server disconnect');
    expect(sent, 'the flood was cut short').to.be.below(FLOOD_MAX);
    expect(hits.filter((hit) => hit.namespace === '/' && hit.action === 'refused')).to.have.length(eventBurst);
    expect(hits.filter((hit) => hit.namespace === '/' && hit.action === 'disconnected')).to.have.length(1);
  });

  it('gives the namespaces a client multiplexes over one connection one bucket between them', async () => {
    const server = await startService();
    const layout = await server.connect('/layout');
    // The same Manager: /lobby rides on /layout's Engine.IO connection.
    const lobby = layout.io.socket('/lobby');
    await withDeadline(new Promise<void>((resolve) => lobby.once('connect', () => resolve())), 'connect to /lobby');
    // Each namespace stays under one burst; the two together are half a burst over it, sent at once.
    const perNamespace = (eventBurst * 3) / 4;
    const answers = await Promise.all(
      Array.from({ length: 2 * perNamespace }, (_, i) => (i % 2 === 0 ? ack(layout, 'CLIENTS', { room: 'r' }) : ack(lobby, 'LEAVE'))),
    );
    const limited = answers.filter((answer) => JSON.stringify(answer).includes('RATE_LIMITED'));
    expect(limited.length, 'events past one burst on the shared connection').to.be.greaterThan(0);
  });
});

describe('event rate limit in cluster mode', function () {
  before(requireRedis);

  it('a flood on one node does not make CLIENTS lookups on another node fail', async () => {
    const redis = await startRedis();
    const [a, b] = await startNodes(redis, 2);
    if (!a || !b) throw new Error('two nodes expected');
    const onA = await a.connect('/layout');
    const onB = await b.connect('/layout');
    await ack(onA, 'JOIN', { room: 'quiet', name: 'on-a' });
    await ack(onB, 'JOIN', { room: 'quiet', name: 'on-b' });
    const flooder = await a.connect('/layout', OVER_WEBSOCKET);
    const disconnected = next<string>(flooder, 'disconnect');

    // The flood goes on for as long as the lookups do, unless the service cuts it off.
    const lookupsDone = new AbortController();
    const flooding = flood(flooder, FLOOD, { max: 10 * FLOOD_MAX, withAcks: true, signal: lookupsDone.signal });
    try {
      for (let i = 0; i < 20; i++) {
        const answer = await ack(onB, 'CLIENTS', { room: 'quiet' });
        expect(answer).to.deep.equal({ ok: true, room: 'quiet', clients: ['on-a', 'on-b'] });
      }
    } finally {
      lookupsDone.abort();
    }
    await flooding;
    expect(await disconnected).to.equal('io server disconnect');
    expect(await ack(onB, 'CLIENTS', { room: 'quiet' })).to.deep.equal({ ok: true, room: 'quiet', clients: ['on-a', 'on-b'] });
  });
});
