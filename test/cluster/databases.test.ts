import { expect } from 'chai';
import { startServer, idOf, type TestServer } from '../support/server.js';
import { READY_DEADLINE_MS } from '../support/deadlines.js';
import { randomPrefix, requireRedis, startRedis, type TestRedis } from '../support/redis.js';
import { ack, next, silent, withDeadline } from '../support/wait.js';

/** A node on `database` of `redis` (undefined: the URL's, here none, so 0), with key prefix `prefix`. */
async function nodeOn(redis: TestRedis, prefix: string, database: number | undefined, url = redis.url): Promise<TestServer> {
  const node = await startServer({ redis: { url, database, prefix } });
  await withDeadline(node.app.untilReady(), `a node on database ${String(database)} to be ready`, READY_DEADLINE_MS);
  return node;
}

describe('cluster mode: a Redis database is a deployment of its own (real redis-server)', function () {
  before(requireRedis);

  it('nodes on database 2 and nodes on database 0 with the same prefix see nothing of each other; each pair is one cluster', async () => {
    const redis = await startRedis();
    const prefix = randomPrefix();
    const A = await nodeOn(redis, prefix, undefined);
    const B = await nodeOn(redis, prefix, 0);
    // The database from the URL's path counts the same as --database.
    const C = await nodeOn(redis, prefix, undefined, `${redis.url}/2`);
    const D = await nodeOn(redis, prefix, 2);

    const sockets = await Promise.all([A, B, C, D].map((node) => node.connect('/layout')));
    const [a, b, c, d] = sockets as [(typeof sockets)[0], (typeof sockets)[0], (typeof sockets)[0], (typeof sockets)[0]];
    for (const [socket, name] of [
      [a, 'a'],
      [b, 'b'],
      [c, 'c'],
      [d, 'd'],
    ] as const)
      expect(await ack(socket, 'JOIN', { room: 'r', name })).to.deep.equal({ ok: true });

    // CLIENTS crossed databases before (pub/sub ignores them) while broadcasts did not.
    expect(await ack(a, 'CLIENTS', { room: 'r' })).to.deep.equal({ ok: true, room: 'r', clients: ['a', 'b'] });
    expect(await ack(d, 'CLIENTS', { room: 'r' })).to.deep.equal({ ok: true, room: 'r', clients: ['c', 'd'] });

    const atB = next(b, 'EVENT');
    const atD = next(d, 'EVENT');
    await silent(c, 'EVENT', () => ack(a, 'NOTIFY', { room: 'r', message: 'db0' }));
    expect(await atB).to.deep.equal({ sender: 'a', room: 'r', message: 'db0' });
    await silent(a, 'EVENT', () => ack(c, 'NOTIFY', { room: 'r', message: 'db2' }));
    expect(await atD).to.deep.equal({ sender: 'c', room: 'r', message: 'db2' });
  });

  it('RTCSIGNAL crosses nodes of one database and is refused (UNKNOWN_PEER) to a peer on another', async () => {
    const redis = await startRedis();
    const prefix = randomPrefix();
    const zero = await nodeOn(redis, prefix, 0);
    const two = await nodeOn(redis, prefix, 2);
    const twoAgain = await nodeOn(redis, prefix, 2);
    const x = await zero.connect('/lobby');
    const y = await two.connect('/lobby');
    const z = await twoAgain.connect('/lobby');
    expect(await ack(x, 'JOIN', 'L')).to.deep.equal({ ok: true, lobby: 'L', peers: [] });
    expect(await ack(y, 'JOIN', 'L')).to.deep.equal({ ok: true, lobby: 'L', peers: [] });
    expect(await ack(z, 'JOIN', 'L')).to.deep.equal({ ok: true, lobby: 'L', peers: [idOf(y)] });

    const signal = next(z, 'RTCSIGNAL');
    expect(await ack(y, 'RTCSIGNAL', { to: idOf(z), sdp: 'offer' })).to.deep.equal({ ok: true });
    expect(await signal).to.deep.equal({ sdp: 'offer', to: idOf(z), from: idOf(y) });
    // Acked ok and never delivered, before.
    expect(await ack(x, 'RTCSIGNAL', { to: idOf(y), sdp: 'offer' })).to.deep.include({ ok: false });
    expect(await ack<{ error: { code: string } }>(x, 'RTCSIGNAL', { to: idOf(y), sdp: 'offer' })).to.have.nested.property(
      'error.code',
      'UNKNOWN_PEER',
    );
  });
});
