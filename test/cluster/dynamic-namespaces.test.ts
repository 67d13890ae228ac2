import { expect } from 'chai';
import { hashSecret } from '../../lib/config/secrets.js';
import { parseSitesFile } from '../../lib/config/sites-file.js';
import { tally, two } from '../support/arrays.js';
import { PROBE_NAMESPACE, startNodes, subscriptionsSettled } from '../support/cluster.js';
import { connectAll, engineWebSocket } from '../support/engine-io.js';
import { randomPrefix, requireRedis, startRedis, type TestRedis } from '../support/redis.js';
import type { TestServer } from '../support/server.js';
import { ack, next } from '../support/wait.js';

// With --redis every namespace's adapter subscribes two Redis channels (lib/cluster/redis-channels.ts):
// dynamic namespaces that come and go must give them back.

/** Refused CONNECTs: on main each left its namespace and two channels behind (4,000 here). */
const ATTACK = 2_000;
const ALICE = { auth: { username: 'alice', password: 'wonderland' } };

/** Two nodes of one Redis serving `/do-*` in mode credentials, without the per-address limits. */
async function twoNodes(redis: TestRedis, prefix: string): Promise<[TestServer, TestServer]> {
  const access = parseSitesFile(
    { forwarding: [{ prefix: 'do-', auth: { mode: 'credentials', users: { alice: await hashSecret('wonderland') } } }] },
    'test',
    {},
  );
  return two(await startNodes(redis, 2, prefix, { access, connectRate: 0, maxAuthFailures: 0 }));
}

/** The channels subscribed under `prefix`, sorted, those of the probes of {@link subscriptionsSettled} left out. */
async function channels(redis: TestRedis, prefix: string): Promise<string[]> {
  const all = (await redis.command(['PUBSUB', 'CHANNELS', `${prefix}#*`])) as string[];
  return all.filter((channel) => !channel.startsWith(`${prefix}#${PROBE_NAMESPACE}`)).sort();
}

/** How many connections subscribe `channel`. */
async function subscribers(redis: TestRedis, channel: string): Promise<number> {
  const [, count] = (await redis.command(['PUBSUB', 'NUMSUB', channel])) as [string, number];
  return Number(count);
}

describe('dynamic namespaces in cluster mode (a real redis-server)', function () {
  before(requireRedis);

  it(`${ATTACK} refused CONNECTs leave Redis with the channels it had; a child used on both nodes keeps forwarding between them and releases its channels on each node when it goes`, async () => {
    const redis = await startRedis();
    const prefix = randomPrefix();
    const [A, B] = await twoNodes(redis, prefix);
    const publicChannel = `${prefix}#/do-shared#`;
    const a = await A.connect('/do-shared', ALICE);
    const b = await B.connect('/do-shared', ALICE);
    await subscriptionsSettled(A, ALICE);
    await subscriptionsSettled(B, ALICE);
    const baseline = await channels(redis, prefix);
    expect(await subscribers(redis, publicChannel)).to.equal(2);

    const session = await engineWebSocket(A.url, 4);
    const attack = connectAll(
      session,
      Array.from({ length: ATTACK }, (_, i) => `/do-n${i}`),
    );
    const atB = next(b, 'msg');
    expect(await ack(a, 'msg', 'across nodes')).to.deep.equal({ ok: true });
    expect(await atB).to.equal('across nodes');
    expect(tally(await attack)).to.deep.equal({ UNAUTHORIZED: ATTACK });
    await subscriptionsSettled(A, ALICE);
    expect(await channels(redis, prefix)).to.deep.equal(baseline);
    expect(await subscribers(redis, `${prefix}#/do-n0#`)).to.equal(0);

    // The last client of /do-shared on A leaves: A's child goes, with its subscriptions; B's stays.
    const gone = A.serverDisconnect('/do-shared', a.id);
    a.disconnect();
    await gone;
    await subscriptionsSettled(A, ALICE);
    expect(await subscribers(redis, publicChannel)).to.equal(1);
    expect(await channels(redis, prefix)).to.have.lengthOf(baseline.length - 1);
    // A fresh child on A hears B again.
    const again = await A.connect('/do-shared', ALICE);
    const atA = next(again, 'msg');
    expect(await ack(b, 'msg', 'back')).to.deep.equal({ ok: true });
    expect(await atA).to.equal('back');
  });
});
