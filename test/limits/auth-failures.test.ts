import { expect } from 'chai';
import { hashSecret } from '../../lib/config/secrets.js';
import { parseSitesFile } from '../../lib/config/sites-file.js';
import type { ServiceOptions } from '../../lib/config/options.js';
import type { LimitHit } from '../../lib/core/types.js';
import { tally } from '../support/arrays.js';
import { postSend, expectErrorBody } from '../support/http.js';
import { requireRedis, startRedis } from '../support/redis.js';
import { startNodes } from '../support/cluster.js';
import { startServer, type ConnectError, type TestServer } from '../support/server.js';
import { withDeadline } from '../support/wait.js';

/** The budget of these tests: small, so that an attack spends it quickly. */
const BUDGET = 10;
/** Wrong attempts sent at once by one address: more than the budget. */
const IN_FLIGHT = 50;
const API_KEY = 'the-right-push-key';

/** A sites file with site `app` in mode credentials (user `ana`, an scrypt hash, as operators store them) and an scrypt API key. */
async function access(): Promise<ServiceOptions['access']> {
  const users = { ana: await hashSecret('right') };
  return parseSitesFile({ sites: { app: { auth: { mode: 'credentials', users }, apiKey: await hashSecret(API_KEY) } } }, 'test', {});
}

/** A service behind a proxy on loopback, so that each test client can claim its own address with X-Forwarded-For. */
async function budgetServer(options: Partial<ServiceOptions> = {}): Promise<{ srv: TestServer; hits: LimitHit[] }> {
  const srv = await startServer({ access: await access(), trustProxy: ['loopback'], maxAuthFailures: BUDGET, ...options });
  const hits: LimitHit[] = [];
  srv.app.hooks.on('limited', (hit) => hits.push(hit));
  return { srv, hits };
}

/** A handshake to `/app` from client address `from` with `password`; resolves with the refusal's code, or `connected`. */
function login(srv: TestServer, from: string, password: string): Promise<string> {
  const options = { auth: { username: 'ana', password }, extraHeaders: { 'x-forwarded-for': from } };
  return password === 'right'
    ? srv.connect('/app', options).then(() => 'connected')
    : srv.refused('/app', options).then((err: ConnectError) => err.data?.code ?? err.message);
}

describe('failed-auth budget (lib/limits/auth-failures.ts)', () => {
  it('refuses wrong passwords in flight past the budget with RATE_LIMITED, before their scrypt; another address logs in meanwhile', async () => {
    const { srv, hits } = await budgetServer();
    const attack = Promise.all(Array.from({ length: IN_FLIGHT }, () => login(srv, '203.0.113.7', 'wrong')));
    const bystander = login(srv, '198.51.100.1', 'right');
    // Each attempt takes from the budget before its hash: only BUDGET of them reach scrypt at all.
    expect(tally(await attack)).to.deep.equal({ UNAUTHORIZED: BUDGET, RATE_LIMITED: IN_FLIGHT - BUDGET });
    expect(await bystander).to.equal('connected');
    const refused = hits.filter((hit) => hit.limit === 'auth-failures');
    expect(refused).to.have.lengthOf(IN_FLIGHT - BUDGET);
    expect(refused[0]).to.include({ action: 'refused', address: '203.0.113.7', namespace: '/app' });
    // The budget is the address's, the right password included, until the minute is over.
    expect(
      await srv.refused('/app', { auth: { username: 'ana', password: 'right' }, extraHeaders: { 'x-forwarded-for': '203.0.113.7' } }),
    ).to.have.nested.property('data.code', 'RATE_LIMITED');
  });

  it('counts only failures: logins that succeed never spend the budget', async () => {
    const { srv, hits } = await budgetServer();
    for (let i = 0; i < BUDGET * 2; i++) expect(await login(srv, '192.0.2.5', 'right')).to.equal('connected');
    expect(hits).to.deep.equal([]);
  });

  it('is off with maxAuthFailures 0', async () => {
    const { srv } = await budgetServer({ maxAuthFailures: 0 });
    const codes = await Promise.all(Array.from({ length: BUDGET + 5 }, () => login(srv, '203.0.113.8', 'wrong')));
    expect(tally(codes)).to.deep.equal({ UNAUTHORIZED: BUDGET + 5 });
  });

  it('refuses wrong /send keys in flight past the budget with 429 RATE_LIMITED; a right key from another address is served', async () => {
    const { srv, hits } = await budgetServer();
    const send = (from: string, key: string) =>
      postSend(srv, 'site=app', { rooms: ['r'], event: 'e' }, { authorization: `Bearer ${key}`, 'x-forwarded-for': from });
    const attack = Promise.all(Array.from({ length: IN_FLIGHT }, (_, i) => send('203.0.113.9', `wrong-${i}`)));
    const bystander = send('198.51.100.2', API_KEY);
    const answers = await attack;
    expect(tally(answers.map((res) => String(res.status)))).to.deep.equal({ 401: BUDGET, 429: IN_FLIGHT - BUDGET });
    const limited = answers.find((res) => res.status === 429);
    if (!limited) throw new Error('no 429');
    expectErrorBody(limited, 429, 'RATE_LIMITED', /too many failed authentications/);
    expect((await bystander).status).to.equal(200);
    expect(hits.filter((hit) => hit.limit === 'auth-failures' && hit.address === '203.0.113.9')).to.have.lengthOf(IN_FLIGHT - BUDGET);
  });

  describe('in cluster mode', function () {
    before(requireRedis);

    it('is shared by the nodes of one Redis: failures on one node spend the budget on the other', async () => {
      const redis = await startRedis();
      const [first, second] = await startNodes(redis, 2, undefined, {
        access: await access(),
        trustProxy: ['loopback'],
        maxAuthFailures: BUDGET,
      });
      if (!first || !second) throw new Error('two nodes expected');
      const codes = await Promise.all(Array.from({ length: BUDGET }, () => login(first, '203.0.113.10', 'wrong')));
      expect(tally(codes)).to.deep.equal({ UNAUTHORIZED: BUDGET });
      expect(await login(second, '203.0.113.10', 'wrong')).to.equal('RATE_LIMITED');
      expect(await login(second, '198.51.100.3', 'right')).to.equal('connected');
    });

    it('counts on each node while Redis is down, neither locking everyone out nor letting the attack through', async () => {
      const redis = await startRedis();
      const { srv } = await budgetServer({ redis: redis.options() });
      await withDeadline(srv.app.untilReady(), 'the node to be ready');
      await redis.kill();
      await withDeadline(srv.app.untilReady(false), 'the node to see Redis gone');
      expect(await login(srv, '198.51.100.4', 'right')).to.equal('connected');
      const codes = await Promise.all(Array.from({ length: BUDGET + 5 }, () => login(srv, '203.0.113.11', 'wrong')));
      expect(tally(codes)).to.deep.equal({ UNAUTHORIZED: BUDGET, RATE_LIMITED: 5 });
    });
  });
});
