import { expect } from 'chai';
import { NODE_TTL_MS, SWEEP_INTERVAL_MS } from '../../lib/cluster/node-registry.js';
import { isClusterReadyLine, startCli, type CliServer } from '../support/cli.js';
import { DEADLINE_MS } from '../support/deadlines.js';
import { randomPrefix, requireRedis, startRedis } from '../support/redis.js';
import { connectV4 } from '../support/server.js';
import { ack, next, withDeadline } from '../support/wait.js';

/** The documented bound for LEFT after a node dies, plus the time its peers' own work may take. */
const LOST_NODE_DEADLINE_MS = NODE_TTL_MS + SWEEP_INTERVAL_MS + DEADLINE_MS;

describe('cluster mode from the CLI (separate processes, real redis-server)', function () {
  before(requireRedis);

  async function node(args: string[], env: Record<string, string> = {}): Promise<CliServer> {
    const child = await startCli(['-p', '0', '-H', '127.0.0.1', ...args], { env });
    await child.waitForLog(isClusterReadyLine, 'the cluster ready line');
    return child;
  }

  it('-r/-d and REDIS_URL/REDIS_DB join one cluster; a node killed with SIGKILL vanishes from CLIENTS and PEERS at once, and its lobby peers get LEFT within the bound', async () => {
    const redis = await startRedis();
    const prefix = randomPrefix();
    const A = await node(['-r', redis.url, '-d', '3', '--redis-prefix', prefix]);
    const B = await node([], { REDIS_URL: redis.url, REDIS_DB: '3', REDIS_PREFIX: prefix });
    const listening = A.logs.find((line) => typeof line.msg === 'string' && line.msg.startsWith('listening on'));
    expect(listening).to.deep.include({ adapter: 'redis' });

    const readyz = await fetch(`${A.url}/readyz`);
    expect(readyz.status).to.equal(200);

    const a = await connectV4(`${A.url}/layout`);
    const b = await connectV4(`${B.url}/layout`);
    await ack(a, 'JOIN', { room: 'r', name: 'a' });
    await ack(b, 'JOIN', { room: 'r', name: 'b' });
    const event = next(b, 'EVENT');
    await ack(a, 'NOTIFY', { room: 'r', message: 'x' });
    expect(await event).to.deep.include({ sender: 'a', message: 'x' });
    expect(await ack(a, 'CLIENTS', { room: 'r' })).to.deep.equal({ ok: true, room: 'r', clients: ['a', 'b'] });

    const la = await connectV4(`${A.url}/lobby`);
    const lb = await connectV4(`${B.url}/lobby`);
    await ack(lb, 'JOIN', 'L');
    expect(await ack(la, 'JOIN', 'L')).to.deep.equal({ ok: true, lobby: 'L', peers: [lb.id] });

    const lbId = lb.id;
    const left = next(la, 'LEFT', LOST_NODE_DEADLINE_MS);
    B.child.kill('SIGKILL');
    await withDeadline(B.exited, 'node B to die');
    // Redis drops a dead process's connections (its pub/sub subscriptions with them) as soon as the kernel
    // closes them, so the next request no longer expects an answer from it.
    expect(await ack(a, 'CLIENTS', { room: 'r' })).to.deep.equal({ ok: true, room: 'r', clients: ['a'] });
    const la2 = await connectV4(`${A.url}/lobby`);
    expect(await ack(la2, 'JOIN', 'L')).to.deep.equal({ ok: true, lobby: 'L', peers: [la.id] });
    // LEFT comes once B's liveness key has expired and a sweep has found it (NODE_TTL_MS + SWEEP_INTERVAL_MS).
    expect(await left).to.equal(lbId);
  });
});
