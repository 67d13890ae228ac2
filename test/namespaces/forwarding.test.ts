import { expect } from 'chai';
import type { LimitHit } from '../../lib/core/types.js';
import { hashSecret } from '../../lib/config/secrets.js';
import { parseSitesFile } from '../../lib/config/sites-file.js';
import { startServer, type TestServer } from '../support/server.js';
import { ack, barrier, collect, next, nextArgs, silent } from '../support/wait.js';

/** `/sharedsocket` open, and `/do-*` with users alice (password stored hashed) and bob (from env). */
async function forwardingServer(maxPayload?: number): Promise<TestServer> {
  const access = parseSitesFile(
    {
      forwarding: [
        { namespace: '/sharedsocket' },
        { prefix: 'do-', auth: { mode: 'credentials', users: { alice: await hashSecret('wonderland'), bob: 'env:BOB_PASSWORD' } } },
      ],
    },
    'test',
    { BOB_PASSWORD: 'builder' },
  );
  return startServer({ access, ...(maxPayload === undefined ? {} : { maxPayload }) });
}

const ALICE = { auth: { username: 'alice', password: 'wonderland' } };

describe('forwarding namespaces', () => {
  it('/sharedsocket re-emits every event with all its arguments to every socket, sender included', async () => {
    const srv = await forwardingServer();
    const a = await srv.connect('/sharedsocket');
    const b = await srv.connect('/sharedsocket');
    const legacy = await srv.connectLegacy('/sharedsocket');
    const received = [a, b, legacy].map((socket) => nextArgs(socket, 'draw'));
    expect(await ack(a, 'draw', { x: 1 }, 'red')).to.deep.equal({ ok: true });
    for (const args of await Promise.all(received)) expect(args).to.deep.equal([{ x: 1 }, 'red']);
    const fromLegacy = next(b, 'hello');
    legacy.emit('hello', 'from v2');
    expect(await fromLegacy).to.equal('from v2');
  });

  it('refuses reserved event names instead of forwarding them', async () => {
    const srv = await forwardingServer();
    const a = await srv.connect('/sharedsocket');
    const b = await srv.connect('/sharedsocket');
    const forwarded = collect(b, 'ERROR');
    expect(await ack(a, 'ERROR', { fake: true })).to.deep.equal({
      ok: false,
      error: { code: 'BAD_REQUEST', message: "event 'ERROR' is reserved by the service" },
    });
    const error = next<{ event: string; code: string }>(a, 'ERROR');
    a.emit('__connect__', { id: 'forged' });
    expect(await error).to.deep.include({ event: '__connect__', code: 'BAD_REQUEST' });
    await silent(b, '__connect__');
    expect(forwarded).to.deep.equal([]);
  });

  it('refuses the names socket.io-client 1.x/2.x handle themselves, so a legacy peer never sees them fired', async () => {
    const srv = await forwardingServer();
    const sender = await srv.connect('/sharedsocket');
    const legacy = await srv.connectLegacy('/sharedsocket');
    for (const event of ['error', 'reconnect', 'reconnect_attempt', 'connect_timeout', 'connecting', 'ping', 'pong']) {
      await silent(legacy, event, async () => {
        expect(await ack(sender, event, 'imitation')).to.deep.equal({
          ok: false,
          error: { code: 'BAD_REQUEST', message: `event '${event}' is reserved by socket.io-client 1.x/2.x, which handles it itself` },
        });
      });
    }
  });

  it('refuses an event name over --max-event-name without echoing it whole', async () => {
    const srv = await startServer({
      access: parseSitesFile({ forwarding: [{ namespace: '/sharedsocket' }] }, 'test', {}),
      maxEventNameLength: 16,
    });
    const hits: LimitHit[] = [];
    srv.app.hooks.on('limited', (hit) => hits.push(hit));
    const a = await srv.connect('/sharedsocket');
    const b = await srv.connect('/sharedsocket');
    const long = 'n'.repeat(5000);
    await silent(b, long, async () => {
      const reply = await ack<{ ok: boolean; error: { code: string; message: string } }>(a, long, 1);
      expect(reply.ok).to.equal(false);
      expect(reply.error.code).to.equal('BAD_REQUEST');
      expect(reply.error.message).to.match(/event names are at most 16 characters/);
      expect(reply.error.message.length).to.be.below(200);
      const error = next<{ event: string; code: string }>(a, 'ERROR');
      a.emit(long, 'no ack');
      const event = await error;
      expect(event.code).to.equal('BAD_REQUEST');
      expect(event.event.length).to.be.at.most(16 + 1);
    });
    expect(await ack(a, 'n'.repeat(16), 1)).to.deep.equal({ ok: true });
    const hit = { limit: 'event-name', action: 'refused', address: '127.0.0.1', namespace: '/sharedsocket', socketId: a.id };
    expect(hits).to.deep.equal([hit, hit]);
  });

  it('disconnects a sender over the payload limit and forwards nothing', async () => {
    const srv = await forwardingServer(1000);
    const a = await srv.connect('/sharedsocket');
    const b = await srv.connect('/sharedsocket');
    const seen = collect(b, 'big');
    const closed = next<string>(a, 'disconnect');
    a.emit('big', 'x'.repeat(2000));
    expect(await closed).to.equal('transport close');
    await barrier(b);
    expect(seen).to.deep.equal([]);
  });

  it('/do-* namespaces need a configured user and password', async () => {
    const srv = await forwardingServer();
    await srv.connect('/do-a', ALICE);
    await srv.connect('/do-a', { auth: { username: 'bob', password: 'builder' } });
    const cases: [Record<string, string> | undefined, RegExp][] = [
      [undefined, /credentials are required/],
      [{ username: 'alice', password: 'wonderlanD' }, /^wrong username or password$/],
      [{ username: 'mallory', password: 'wonderland' }, /^wrong username or password$/],
      [{ username: 'alice' }, /credentials are required/],
    ];
    for (const [auth, message] of cases) {
      const err = await srv.refused('/do-a', { auth });
      expect(err.data?.code, JSON.stringify(auth)).to.equal('UNAUTHORIZED');
      expect(err.message).to.match(message);
    }
    expect((await srv.refused('/do-', ALICE)).message).to.equal('Invalid namespace');
    expect((await srv.refused('/other', ALICE)).message).to.equal('Invalid namespace');
  });

  it('keeps each /do-* namespace isolated: nothing sent in do-a reaches do-b, and back', async () => {
    const srv = await forwardingServer();
    const a1 = await srv.connect('/do-a', ALICE);
    const a2 = await srv.connect('/do-a', ALICE);
    const b1 = await srv.connect('/do-b', ALICE);
    const inA = next(a2, 'msg');
    await silent(b1, 'msg', () => ack(a1, 'msg', 'for a only'));
    expect(await inA).to.equal('for a only');
    const inB = next(b1, 'msg');
    await silent(a2, 'msg', () => ack(b1, 'msg', 'for b only'));
    expect(await inB).to.equal('for b only');
  });

  it('mode credentials can guard a built-in namespace', async () => {
    const access = parseSitesFile(
      { namespaces: { trigger: { auth: { mode: 'credentials', users: { tl: 'timeline-pass' } } } } },
      'test',
      {},
    );
    const srv = await startServer({ access });
    expect((await srv.refused('/trigger', { auth: { username: 'tl', password: 'nope' } })).data?.code).to.equal('UNAUTHORIZED');
    const trigger = await srv.connect('/trigger', { auth: { username: 'tl', password: 'timeline-pass' } });
    expect(await ack(trigger, 'JOIN', 'timeline-1')).to.deep.equal({ ok: true });
  });
});
