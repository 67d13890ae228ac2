import { expect } from 'chai';
import type { Socket } from 'socket.io-client';
import { Compile } from 'typebox/compile';
import { parseSitesFile } from '../../lib/config/sites-file.js';
import type { ServiceOptions } from '../../lib/config/options.js';
import { ViewCountSchema, ViewPeerSchema } from '../../protocol/index.js';
import { two } from '../support/arrays.js';
import { startNodes, subscriptionsSettled } from '../support/cluster.js';
import { dropAndReturn, dropConnection, reconnectTo } from '../support/drop.js';
import { recordLog } from '../support/log.js';
import { randomPrefix, requireRedis, startRedis } from '../support/redis.js';
import { idOf, startServer, type ClientOptions, type TestServer } from '../support/server.js';
import { ack, barrier, collect, next, silent, withDeadline } from '../support/wait.js';

const ALICE = { username: 'alice', password: 'wonderland' };

/** `/sharedsocket` open, `/do-*` with user alice, each with `recovery` as given. */
function access(recovery = false): ServiceOptions['access'] {
  return parseSitesFile(
    {
      forwarding: [
        { namespace: '/sharedsocket', ...(recovery ? { recovery } : {}) },
        { prefix: 'do-', auth: { mode: 'credentials', users: { alice: 'wonderland' } }, ...(recovery ? { recovery } : {}) },
      ],
    },
    'test',
    {},
  );
}

/** A v4 client of `/do-<name>` as alice, of `type` (none: untyped). */
function doSocket(server: TestServer, name: string, type?: string, options: ClientOptions = {}): Promise<Socket> {
  return server.connect(`/do-${name}`, { ...options, auth: { ...ALICE, ...(type === undefined ? {} : { type }) } });
}

const isPeer = Compile(ViewPeerSchema);
const isCount = Compile(ViewCountSchema);

/** Over WebSocket only, so that the connection can be dropped. */
const RECONNECTING: ClientOptions = { transports: ['websocket'] };

describe('controller/view sockets on forwarding namespaces', () => {
  it('counts the views of the namespace: { ok, count } with an ack, `__count__ <n>` to the asker alone without', async () => {
    const server = await startServer({ access: access() });
    const controller = await doSocket(server, 'a', 'controller');
    expect(await ack(controller, '__count__')).to.deep.equal({ ok: true, count: 0 });
    await doSocket(server, 'a', 'view');
    await doSocket(server, 'a', 'view');
    await doSocket(server, 'a');
    await doSocket(server, 'b', 'view');
    const other = await doSocket(server, 'a', 'controller');
    const reply = await ack<{ ok: boolean; count: number }>(controller, '__count__');
    expect(reply).to.deep.equal({ ok: true, count: 2 });
    const { ok: _ok, ...fields } = reply;
    expect(isCount.Check(fields)).to.equal(true);
    const counted = next<number>(controller, '__count__');
    await silent(other, '__count__', async () => {
      controller.emit('__count__');
      expect(await counted).to.equal(2);
    });
    // A view or an untyped socket may ask too; /do-b's view is its own namespace's.
    const untyped = await doSocket(server, 'b');
    expect(await ack(untyped, '__count__')).to.deep.equal({ ok: true, count: 1 });
  });

  it('tells every other socket of the namespace when a view connects and disconnects, never the view itself', async () => {
    const server = await startServer({ access: access() });
    const controller = await doSocket(server, 'a', 'controller');
    const untyped = await doSocket(server, 'a');
    const elsewhere = await doSocket(server, 'b', 'controller');
    const elsewhereHeard = collect(elsewhere, '__connect__');
    const connects = [controller, untyped].map((socket) => next<unknown>(socket, '__connect__'));
    const view = await doSocket(server, 'a', 'view');
    const ownConnect = collect<{ id: string }>(view, '__connect__');
    for (const heard of await Promise.all(connects)) {
      expect(heard).to.deep.equal({ id: idOf(view) });
      expect(isPeer.Check(heard)).to.equal(true);
    }
    // A second view: the first hears of it.
    const second = next(view, '__connect__');
    const view2 = await doSocket(server, 'a', 'view');
    expect(await second).to.deep.equal({ id: idOf(view2) });
    // A controller or untyped socket coming and going is not announced.
    await silent(view, '__connect__', async () => {
      const c2 = await doSocket(server, 'a', 'controller');
      const gone = server.serverDisconnect('/do-a', idOf(c2));
      c2.disconnect();
      await gone;
      await silent(view, '__disconnect__');
    });
    const id = idOf(view);
    const disconnects = [controller, untyped, view2].map((socket) => next<unknown>(socket, '__disconnect__'));
    view.disconnect();
    for (const heard of await Promise.all(disconnects)) expect(heard).to.deep.equal({ id });
    expect(await ack(controller, '__count__')).to.deep.equal({ ok: true, count: 1 });
    // The view heard of the second view only, never of itself.
    expect(ownConnect).to.deep.equal([{ id: idOf(view2) }]);
    await barrier(elsewhere);
    expect(elsewhereHeard).to.deep.equal([]);
  });

  it('takes the type from a legacy v2 client`s query: counted and announced like a v4 view', async () => {
    const server = await startServer({ access: access() });
    const controller = await server.connect('/sharedsocket', { auth: { type: 'controller' } });
    const connected = next<{ id: string }>(controller, '__connect__');
    const legacy = await server.connectLegacy('/sharedsocket', { query: { type: 'view' } });
    const { id } = await connected;
    expect(id).to.be.a('string');
    expect(await ack(controller, '__count__')).to.deep.equal({ ok: true, count: 1 });
    // A legacy client asks without an ack and gets the do-socket-service's `__count__ <n>`.
    const counted = next<number>(legacy, '__count__');
    legacy.emit('__count__');
    expect(await counted).to.equal(1);
    const gone = next<{ id: string }>(controller, '__disconnect__');
    legacy.close();
    expect(await gone).to.deep.equal({ id });
  });

  it('refuses a handshake whose type is neither controller nor view, in auth or in the query', async () => {
    const server = await startServer({ access: access() });
    for (const type of ['View', 'viewer', '', 42, null, ['view'], { view: true }]) {
      const err = await server.refused('/do-a', { auth: { ...ALICE, type } });
      expect(err.data, JSON.stringify(type)).to.deep.equal({ code: 'BAD_REQUEST', message: err.message });
      expect(err.message).to.match(/^type must be 'controller' or 'view', not /);
    }
    const fromQuery = await server.refused('/sharedsocket', { query: { type: 'controler' } });
    expect(fromQuery.data?.code).to.equal('BAD_REQUEST');
    expect(fromQuery.message).to.equal(`type must be 'controller' or 'view', not "controler"`);
    // The type is checked before the password: a wrong one is told about the type, not the credentials.
    const wrongBoth = await server.refused('/do-a', { auth: { username: 'alice', password: 'nope', type: 'x' } });
    expect(wrongBoth.data?.code).to.equal('BAD_REQUEST');
    // A very long value is not echoed whole.
    const long = await server.refused('/sharedsocket', { auth: { type: 'v'.repeat(10_000) } });
    expect(long.message.length).to.be.below(200);
    // Nothing was created or counted by the refusals.
    const controller = await doSocket(server, 'a', 'controller');
    expect(await ack(controller, '__count__')).to.deep.equal({ ok: true, count: 0 });
  });

  it('never forwards a __ event a client sends: BAD_REQUEST with an ack, ERROR without', async () => {
    const server = await startServer({ access: access() });
    const sender = await doSocket(server, 'a', 'view');
    const peer = await doSocket(server, 'a', 'controller');
    const forwarded = ['__connect__', '__disconnect__', '__other__'].map((event) => collect(peer, event));
    for (const event of ['__connect__', '__disconnect__', '__other__']) {
      expect(await ack(sender, event, { id: 'forged' })).to.deep.equal({
        ok: false,
        error: { code: 'BAD_REQUEST', message: `event '${event}' is reserved by the service` },
      });
      const error = next<{ event: string; code: string }>(sender, 'ERROR');
      sender.emit(event, { id: 'forged' });
      expect(await error).to.deep.include({ event, code: 'BAD_REQUEST' });
    }
    // `__count__` with arguments is answered all the same (they are ignored), and never reaches the peer.
    const count = collect(peer, '__count__');
    expect(await ack(sender, '__count__', 'ignored')).to.deep.equal({ ok: true, count: 1 });
    await barrier(peer);
    expect(forwarded.flat()).to.deep.equal([]);
    expect(count).to.deep.equal([]);
  });

  describe('with recovery: true', () => {
    it('sends nothing for a view that recovers, and __connect__ only to the sockets that connected meanwhile', async () => {
      const server = await startServer({ access: access(true) });
      const controller = await doSocket(server, 'a', 'controller');
      const connected = next(controller, '__connect__');
      const view = await doSocket(server, 'a', 'view', RECONNECTING);
      const id = idOf(view);
      expect(await connected).to.deep.equal({ id });
      const heard = [collect(controller, '__connect__'), collect(controller, '__disconnect__')];
      let newcomer: Socket | undefined;
      let welcomed: Promise<unknown> | undefined;
      await dropAndReturn(server, '/do-a', view, async () => {
        newcomer = await doSocket(server, 'a', 'controller');
        welcomed = next(newcomer, '__connect__');
        // Away, the view is not counted.
        expect(await ack(newcomer, '__count__')).to.deep.equal({ ok: true, count: 0 });
      });
      if (!newcomer || !welcomed) throw new Error('no newcomer');
      expect(view.recovered).to.equal(true);
      expect(await welcomed).to.deep.equal({ id });
      expect(await ack(controller, '__count__')).to.deep.equal({ ok: true, count: 1 });
      await barrier(controller);
      expect(heard.flat()).to.deep.equal([]);
    });

    it('sends __disconnect__ once the window has passed without the view coming back', async () => {
      const server = await startServer({ access: access(true), recoveryWindow: 200 });
      const controller = await server.connect('/sharedsocket', { auth: { type: 'controller' } });
      const view = await server.connect('/sharedsocket', { ...RECONNECTING, auth: { type: 'view' } });
      const id = idOf(view);
      const gone = server.serverDisconnect('/sharedsocket', id);
      dropConnection(view);
      await gone;
      expect(await next(controller, '__disconnect__')).to.deep.equal({ id });
      expect(await ack(controller, '__count__')).to.deep.equal({ ok: true, count: 0 });
    });

    it('sends __disconnect__ at once for a view that disconnects on purpose', async () => {
      const server = await startServer({ access: access(true) });
      const controller = await doSocket(server, 'a', 'controller');
      const view = await doSocket(server, 'a', 'view');
      const id = idOf(view);
      const gone = next(controller, '__disconnect__');
      view.disconnect();
      expect(await gone).to.deep.equal({ id });
    });
  });
});

describe('controller/view sockets across nodes (real redis-server)', function () {
  before(requireRedis);

  it('counts the views of every node and announces a view to the sockets of every node', async () => {
    const redis = await startRedis();
    const [A, B] = two(await startNodes(redis, 2, randomPrefix(), { access: access() }));
    const atA = await doSocket(A, 'a', 'controller');
    const atB = await doSocket(B, 'a');
    // Node B subscribes /do-a's channels as its first socket connects: settled before A broadcasts to it.
    await subscriptionsSettled(B, { auth: ALICE });
    const connects = [atA, atB].map((socket) => next(socket, '__connect__'));
    const viewA = await doSocket(A, 'a', 'view');
    for (const heard of await Promise.all(connects)) expect(heard).to.deep.equal({ id: idOf(viewA) });
    const atAHears = next(atA, '__connect__');
    const viewB = await doSocket(B, 'a', 'view');
    expect(await atAHears).to.deep.equal({ id: idOf(viewB) });
    await doSocket(B, 'b', 'view');
    expect(await ack(atA, '__count__')).to.deep.equal({ ok: true, count: 2 });
    expect(await ack(atB, '__count__')).to.deep.equal({ ok: true, count: 2 });
    const counted = next<number>(atB, '__count__');
    atB.emit('__count__');
    expect(await counted).to.equal(2);
    // viewB is the last socket of /do-a on node B, whose namespace goes away with it: the others still hear it is gone.
    const atBGone = B.serverDisconnect('/do-a', idOf(atB));
    atB.disconnect();
    await atBGone;
    const gone = next(atA, '__disconnect__');
    const idB = idOf(viewB);
    viewB.disconnect();
    expect(await gone).to.deep.equal({ id: idB });
    expect(await ack(atA, '__count__')).to.deep.equal({ ok: true, count: 1 });
  });

  it('says __disconnect__ across nodes once the window passed, for a view that was the only socket of its namespace on its node', async () => {
    const redis = await startRedis();
    const [A, B] = two(await startNodes(redis, 2, randomPrefix(), { access: access(true), recoveryWindow: 200 }));
    const controller = await doSocket(B, 'a', 'controller');
    await subscriptionsSettled(B, { auth: ALICE });
    const view = await doSocket(A, 'a', 'view', RECONNECTING);
    const id = idOf(view);
    const gone = A.serverDisconnect('/do-a', id);
    dropConnection(view);
    await gone;
    // Node A kept /do-a (and its Redis channels) for the decision, with no socket left in it.
    expect(await next(controller, '__disconnect__')).to.deep.equal({ id });
    expect(await ack(controller, '__count__')).to.deep.equal({ ok: true, count: 0 });
  });

  it('counts the views it can reach while Redis is gone, saying partial: true', async () => {
    const redis = await startRedis();
    const [A, B] = two(await startNodes(redis, 2, randomPrefix(), { access: access() }));
    const controller = await doSocket(A, 'a', 'controller');
    await doSocket(A, 'a', 'view');
    await doSocket(B, 'a', 'view');
    // B answers A's lookups on /do-a's channels, subscribed as its first socket of /do-a connected.
    await subscriptionsSettled(B, { auth: ALICE });
    expect(await ack(controller, '__count__')).to.deep.equal({ ok: true, count: 2 });
    await redis.kill();
    await withDeadline(A.app.untilReady(false), 'the node to notice that Redis is gone');
    const reply = await ack<Record<string, unknown>>(controller, '__count__');
    expect(reply).to.deep.equal({ ok: true, count: 1, partial: true });
    const { ok: _ok, ...fields } = reply;
    expect(isCount.Check(fields)).to.equal(true);
    // Without an ack, the original's bare number: the best count this node has.
    const counted = next<number>(controller, '__count__');
    controller.emit('__count__');
    expect(await counted).to.equal(1);
  });

  it('says __disconnect__ at once for the views of a node that shuts down, and __connect__ to all when one recovers on another node', async () => {
    const redis = await startRedis();
    const [A, B] = two(await startNodes(redis, 2, randomPrefix(), { access: access(true) }));
    const controller = await doSocket(B, 'a', 'controller');
    await subscriptionsSettled(B, { auth: ALICE });
    const connected = next(controller, '__connect__');
    const view = await doSocket(A, 'a', 'view', RECONNECTING);
    const id = idOf(view);
    expect(await connected).to.deep.equal({ id });
    const gone = next(controller, '__disconnect__');
    const dropped = next(view, 'disconnect');
    await A.app.close();
    expect(await gone).to.deep.equal({ id });
    await dropped;
    const back = next(controller, '__connect__');
    const reconnected = next(view, 'connect');
    reconnectTo(view, `${B.url}/do-a`);
    view.connect();
    await reconnected;
    expect(view.recovered).to.equal(true);
    expect(await back).to.deep.equal({ id });
    expect(await ack(controller, '__count__')).to.deep.equal({ ok: true, count: 1 });
  });

  it('keeps a view that recovers on another node: no __disconnect__, and it is counted there', async () => {
    const redis = await startRedis();
    const recorder = recordLog('debug');
    const [A, B] = two(await startNodes(redis, 2, randomPrefix(), { access: access(true), recoveryWindow: 500 }, [{ log: recorder.log }]));
    const controller = await doSocket(B, 'a', 'controller');
    const view = await doSocket(A, 'a', 'view', RECONNECTING);
    const id = idOf(view);
    const heard = collect(controller, '__disconnect__');
    const gone = A.serverDisconnect('/do-a', id);
    dropConnection(view);
    await gone;
    const back = next(view, 'connect');
    reconnectTo(view, `${B.url}/do-a`);
    view.connect();
    await back;
    expect(view.recovered).to.equal(true);
    expect(await ack(controller, '__count__')).to.deep.equal({ ok: true, count: 1 });
    // Past the window and its grace, node A's deferred check finds the view on B and stays quiet.
    const check = await recorder.line((line) => line.msg === 'dropped view came back: no __disconnect__', 'the deferred check of node A');
    expect(check).to.include({ socketId: id, nsp: '/do-a' });
    await silent(controller, '__disconnect__');
    expect(heard).to.deep.equal([]);
    // It is a view of /do-a like any other: its departure is announced across the nodes.
    const left = next(controller, '__disconnect__');
    view.disconnect();
    expect(await left).to.deep.equal({ id });
  });
});
