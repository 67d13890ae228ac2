import type { ServerResponse } from 'node:http';
import { expect } from 'chai';
import type { Namespace, Socket as ServerSocket } from 'socket.io';
import { DEFAULT_MAX_ID_LENGTH } from '../../protocol/index.js';
import { hashSecret } from '../../lib/config/secrets.js';
import { parseSitesFile } from '../../lib/config/sites-file.js';
import { DEFAULT_OPTIONS, type ServiceOptions } from '../../lib/config/options.js';
import type { LimitHit } from '../../lib/core/types.js';
import { one, tally } from '../support/arrays.js';
import { startBackend } from '../support/backend.js';
import { connectAll, engineWebSocket, type RawWebSocketSession } from '../support/engine-io.js';
import { heapAfterGc } from '../support/gc.js';
import { idOf, startServer, type TestServer } from '../support/server.js';
import { ack, next, type EventSocket } from '../support/wait.js';

// The children of a forwarding prefix entry (`/do-<name>`): Socket.IO creates one for each CONNECT naming
// it, before auth runs. These tests send the attack of the hardening issue (unauthenticated CONNECTs to
// ever new names, names of any length) and check what the server keeps (lib/engine/child-namespaces.ts,
// lib/engine/namespace-names.ts).

/** Refused CONNECTs of the measured run: on main each left a namespace (about 2 kB of heap) behind. */
const ATTACK = 2_000;
/** Refused CONNECTs first, unmeasured: what is allocated once (JIT code, pools) is not counted. */
const WARM_UP = 300;
/** Heap growth allowed over the measured run: on main it grew by 4.2 MB, now by 0.4 to 0.8 MB. */
const HEAP_MARGIN = 1_500_000;

const ALICE = { auth: { username: 'alice', password: 'wonderland' } };

/** `/sharedsocket` open and `/do-*` in mode credentials (user alice), without the per-address limits unless `options` sets them. */
async function dynamicServer(options: Partial<ServiceOptions> = {}): Promise<TestServer> {
  const access = parseSitesFile(
    {
      forwarding: [
        { namespace: '/sharedsocket' },
        { prefix: 'do-', auth: { mode: 'credentials', users: { alice: await hashSecret('wonderland') } } },
      ],
    },
    'test',
    {},
  );
  return startServer({ access, connectRate: 0, maxAuthFailures: 0, ...options });
}

/** The names of the namespaces the server has now. */
function namespaceNames(srv: TestServer): string[] {
  return [...srv.app.io._nsps.keys()];
}

/** `count` distinct `/do-` names. */
function names(tag: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `/do-${tag}${i}`);
}

/** A raw Engine.IO WebSocket connected to `/sharedsocket`, as an attacker multiplexes its CONNECTs. */
async function attacker(srv: TestServer): Promise<RawWebSocketSession> {
  const session = await engineWebSocket(srv.url, 4);
  session.send('40/sharedsocket,');
  await session.frame((text) => text.startsWith('40/sharedsocket,'), 'the /sharedsocket CONNECT');
  return session;
}

/** What Socket.IO's `Client` (one per Engine.IO connection) holds of its namespace sockets. */
function clientOf(socket: ServerSocket): { nsps: Map<string, unknown>; sockets: Map<string, unknown> } {
  return socket.client as unknown as { nsps: Map<string, unknown>; sockets: Map<string, unknown> };
}

/** Sends `event` from `from` and resolves once `to` has heard it: the namespace they share forwards. */
async function forwards(from: EventSocket, to: EventSocket, text: string): Promise<void> {
  const heard = next(to, 'msg');
  expect(await ack(from, 'msg', text)).to.deep.equal({ ok: true });
  expect(await heard).to.equal(text);
}

describe('dynamic namespaces (forwarding prefix entries)', () => {
  it(`${ATTACK} refused CONNECTs to distinct /do-<n> over one connection leave no namespace, nothing on the connection, and the heap within ${HEAP_MARGIN / 1e6} MB; a client is served meanwhile`, async () => {
    const srv = await dynamicServer();
    const a = await srv.connect('/do-room', ALICE);
    const b = await srv.connect('/do-room', ALICE);
    const served = [...namespaceNames(srv)];
    const session = await attacker(srv);
    expect(tally(await connectAll(session, names('warm', WARM_UP)))).to.deep.equal({ UNAUTHORIZED: WARM_UP });
    const before = heapAfterGc();

    const attack = connectAll(session, names('n', ATTACK));
    await forwards(a, b, 'during the attack');
    expect(tally(await attack)).to.deep.equal({ UNAUTHORIZED: ATTACK });
    const grown = heapAfterGc() - before;

    expect(namespaceNames(srv)).to.deep.equal(served);
    // The attacker's Engine.IO connection holds its one namespace socket and no trace of the refused ones.
    const [attackerSocket] = [...srv.app.io.of('/sharedsocket').sockets.values()];
    if (!attackerSocket) throw new Error('the attacker is not on /sharedsocket');
    expect([...clientOf(attackerSocket).nsps.keys()]).to.deep.equal(['/sharedsocket']);
    expect(clientOf(attackerSocket).sockets.size).to.equal(1);
    expect(grown, `heap grew by ${grown} bytes`).to.be.below(HEAP_MARGIN);
    await forwards(b, a, 'after the attack');
  });

  it(`refuses a name longer than --max-id-length (${DEFAULT_MAX_ID_LENGTH}) with LIMIT before anything is created, repeating no more of it than the bound`, async () => {
    const srv = await dynamicServer();
    const hits: LimitHit[] = [];
    srv.app.hooks.on('limited', (hit) => hits.push(hit));
    const created: string[] = [];
    srv.app.io.on('new_namespace', (nsp: Namespace) => created.push(nsp.name));

    const longest = `/do-${'y'.repeat(DEFAULT_MAX_ID_LENGTH - 4)}`;
    await srv.connect(longest, ALICE);
    const tooLong = `/do-${'x'.repeat(DEFAULT_MAX_ID_LENGTH - 3)}`;
    const err = await srv.refused(tooLong, ALICE);
    const message = `namespace name too long: ${DEFAULT_MAX_ID_LENGTH + 1} characters, at most ${DEFAULT_MAX_ID_LENGTH} (${tooLong.slice(0, DEFAULT_MAX_ID_LENGTH)}…)`;
    expect(err.message).to.equal(message);
    expect(err.data).to.deep.equal({ code: 'LIMIT', message });

    // Near the payload limit, over a raw connection: answered with the same short message.
    const session = await attacker(srv);
    const huge = `/do-${'z'.repeat(900_000)}`;
    session.send(`40${huge},{}`);
    const frame = await session.frame((text) => text.startsWith('44/do-zzz'), 'the CONNECT_ERROR of a 900,000-character name');
    const body = JSON.parse(frame.slice(frame.indexOf(',') + 1)) as { message: string; data: { code: string } };
    expect(body.data.code).to.equal('LIMIT');
    expect(body.message).to.equal(
      `namespace name too long: ${huge.length} characters, at most ${DEFAULT_MAX_ID_LENGTH} (${huge.slice(0, DEFAULT_MAX_ID_LENGTH)}…)`,
    );

    expect(created).to.deep.equal([longest]);
    expect(namespaceNames(srv)).to.include(longest).and.not.include(tooLong);
    const refusals = hits.filter((hit) => hit.limit === 'namespace-name');
    expect(refusals).to.have.lengthOf(2);
    for (const hit of refusals) {
      expect(hit).to.include({ action: 'refused', address: '127.0.0.1' });
      expect(hit.namespace).to.match(/^\/do-(x{252}|z{252})…$/);
    }
  });

  it('lets a refused child be garbage-collected even before any socket has connected to the server (nothing keeps it)', async () => {
    const srv = await dynamicServer();
    const refs: WeakRef<Namespace>[] = [];
    srv.app.io.on('new_namespace', (nsp: Namespace) => refs.push(new WeakRef(nsp)));
    // No CONNECT of its own first: the engine's check of the first socket is still waiting on every namespace.
    const session = await engineWebSocket(srv.url, 4);
    expect(await connectAll(session, names('gc', 3))).to.deep.equal(['UNAUTHORIZED', 'UNAUTHORIZED', 'UNAUTHORIZED']);
    heapAfterGc();
    expect(refs.map((ref) => ref.deref()?.name)).to.deep.equal([undefined, undefined, undefined]);
  });

  it('keeps a child while a client uses it (a refused CONNECT to it changes nothing), removes it with its last client, and makes a fresh one for the next', async () => {
    const srv = await dynamicServer();
    const a1 = await srv.connect('/do-a', ALICE);
    const a2 = await srv.connect('/do-a', ALICE);
    const child = srv.app.io._nsps.get('/do-a');
    expect((await srv.refused('/do-a', { auth: { username: 'alice', password: 'nope' } })).data?.code).to.equal('UNAUTHORIZED');
    expect(srv.app.io._nsps.get('/do-a')).to.equal(child);
    await forwards(a1, a2, 'still here');

    const first = srv.serverDisconnect('/do-a', a1.id);
    a1.disconnect();
    await first;
    expect(srv.app.io._nsps.get('/do-a')).to.equal(child);
    await forwards(a2, a2, 'alone');
    const last = srv.serverDisconnect('/do-a', a2.id);
    a2.disconnect();
    await last;
    expect(namespaceNames(srv)).to.not.include('/do-a');

    const b1 = await srv.connect('/do-a', ALICE);
    const b2 = await srv.connect('/do-a', ALICE);
    expect(srv.app.io._nsps.get('/do-a')).to.not.equal(child);
    await forwards(b1, b2, 'a fresh /do-a');
  });

  it('a CONNECT still in its auth when another one to the same name is refused connects to the namespace the server serves', async () => {
    // A token-url backend that answers only when told: the first CONNECT waits in its middleware.
    const held: ServerResponse[] = [];
    const backend = await startBackend((_request, res) => held.push(res));
    const access = parseSitesFile(
      { forwarding: [{ prefix: 'do-', auth: { mode: 'token-url', url: `${backend.url}/rooms` } }] },
      'test',
      {},
    );
    const srv = await startServer({ access, connectRate: 0, maxAuthFailures: 0 });

    const waiting = srv.connect('/do-race', { auth: { token: 't1' } });
    await backend.nth(1);
    // No token: refused at once, while the first socket is in /do-race's middleware.
    expect((await srv.refused('/do-race')).data?.code).to.equal('UNAUTHORIZED');
    one(held).writeHead(200, { 'content-type': 'application/json' }).end('[]');
    const first = await waiting;

    expect(srv.serverSocket('/do-race', idOf(first)).nsp).to.equal(srv.app.io._nsps.get('/do-race'));
    const second = srv.connect('/do-race', { auth: { token: 't2' } });
    await backend.nth(2);
    const [, res] = held;
    res?.writeHead(200, { 'content-type': 'application/json' }).end('[]');
    await forwards(await second, first, 'one /do-race');
  });

  it('with the default failed-auth budget, refused CONNECTs to new names are cut to RATE_LIMITED, leaving nothing behind either; another address logs in', async () => {
    const budget = DEFAULT_OPTIONS.maxAuthFailures;
    // Behind a proxy on loopback, so that the bystander can come from another address.
    const srv = await dynamicServer({ maxAuthFailures: budget, trustProxy: ['loopback'] });
    const hits: LimitHit[] = [];
    srv.app.hooks.on('limited', (hit) => hits.push(hit));
    const served = [...namespaceNames(srv)];
    const session = await attacker(srv);
    expect(tally(await connectAll(session, names('b', budget + 20)))).to.deep.equal({ UNAUTHORIZED: budget, RATE_LIMITED: 20 });
    expect(hits.filter((hit) => hit.limit === 'auth-failures')).to.have.lengthOf(20);
    expect(namespaceNames(srv)).to.deep.equal(served);
    await srv.connect('/do-room', { ...ALICE, extraHeaders: { 'x-forwarded-for': '198.51.100.1' } });
  });
});
