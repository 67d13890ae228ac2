import { expect } from 'chai';
import type { ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { parseSitesFile } from '../../lib/config/sites-file.js';
import { reply, startBackend, type Backend, type RecordedRequest } from '../support/backend.js';
import { scaled } from '../support/deadlines.js';
import { recordLog } from '../support/log.js';
import { startServer, type TestServer } from '../support/server.js';

/**
 * One backend for both jobs: GET /rooms grants `user_8` and `staff` to any token; PUT /users/… is answered
 * by `onUpdate` (204 unless told otherwise).
 */
async function siteWithUpdates(
  onUpdate: (res: ServerResponse, nth: number) => void = (res) => res.writeHead(204).end(),
  site: Record<string, unknown> = {},
  log?: Logger,
): Promise<{ srv: TestServer; backend: Backend; updates: () => RecordedRequest[] }> {
  let updates = 0;
  const backend = await startBackend((request, res) => {
    if (request.method === 'GET') return reply(res, 200, ['staff', 'user_8']);
    updates += 1;
    onUpdate(res, updates);
  });
  const access = parseSitesFile(
    {
      sites: {
        shop: {
          auth: { mode: 'token-url', url: `${backend.url}/rooms` },
          userRoomPrefix: 'user_',
          updateUserUrl: `${backend.url}/users/:id`,
          ...site,
        },
      },
    },
    'test',
    {},
  );
  const srv = await startServer({ access }, log ? { log } : {});
  return { srv, backend, updates: () => backend.requests.filter((r) => r.method === 'PUT') };
}

/** Resolves with the `n`th PUT the backend received (GETs of the auth check are interleaved). */
async function nthUpdate(backend: Backend, n: number): Promise<RecordedRequest> {
  for (let i = 1; ; i += 1) {
    const request = await backend.nth(i);
    if (request.method === 'PUT' && --n === 0) return request;
  }
}

function field(request: RecordedRequest): string {
  const body = JSON.parse(request.body) as { id: string; user: Record<string, string> };
  expect(body.id).to.equal('8');
  const [name, value] = Object.entries(body.user)[0] ?? [];
  expect(Date.parse(value ?? '')).to.be.closeTo(Date.now(), scaled(10_000));
  return name ?? '';
}

describe('updateUserUrl (backend notification)', () => {
  it('counts a user per site: the same user on two sites is connected to each', async () => {
    const backend = await startBackend((request, res) =>
      request.method === 'GET' ? reply(res, 200, ['user_8']) : res.writeHead(204).end(),
    );
    const site = (name: string) => ({
      auth: { mode: 'token-url', url: `${backend.url}/rooms` },
      userRoomPrefix: 'user_',
      updateUserUrl: `${backend.url}/${name}/users/:id`,
    });
    const srv = await startServer({ access: parseSitesFile({ sites: { shop: site('shop'), blog: site('blog') } }, 'test', {}) });
    await srv.connect('/shop', { query: { token: 'tok' } });
    await nthUpdate(backend, 1);
    await srv.connect('/blog', { query: { token: 'tok' } });
    await nthUpdate(backend, 2);
    expect(backend.requests.filter((r) => r.method === 'PUT').map((r) => r.url)).to.have.members(['/shop/users/8', '/blog/users/8']);
  });

  it("PUTs last_connected on a user's first socket and last_disconnected after its last, as that user", async () => {
    const { srv, backend } = await siteWithUpdates();
    const first = await srv.connect('/shop', { query: { token: 'tok' } });
    const connected = await nthUpdate(backend, 1);
    expect(connected.url).to.equal('/users/8');
    expect(connected.headers['content-type']).to.equal('application/json');
    expect(connected.headers.authorization).to.equal('Bearer tok');
    expect(field(connected)).to.equal('last_connected');
    const second = await srv.connect('/shop', { query: { token: 'tok' } });
    let gone = srv.serverDisconnect('/shop', first.id);
    first.disconnect();
    await gone;
    gone = srv.serverDisconnect('/shop', second.id);
    second.disconnect();
    await gone;
    expect(field(await nthUpdate(backend, 2))).to.equal('last_disconnected');
    // Had the first socket's disconnect been reported, this third update would not be last_connected.
    await srv.connect('/shop', { query: { token: 'tok' } });
    expect(field(await nthUpdate(backend, 3))).to.equal('last_connected');
  });

  it('retries a failed update (5xx, then success) with the same body', async () => {
    const { srv, backend, updates } = await siteWithUpdates((res, nth) =>
      nth === 1 ? reply(res, 503, { error: 'busy' }) : res.writeHead(204).end(),
    );
    await srv.connect('/shop', { query: { token: 'tok' } });
    const [failed, retried] = [await nthUpdate(backend, 1), await nthUpdate(backend, 2)];
    expect(retried.body).to.equal(failed.body);
    expect(updates()).to.have.lengthOf(2);
  });

  it('never delays the socket: a backend that hangs is timed out and retried while the socket works', async () => {
    // Never answered: only the service's per-attempt deadline ends each attempt.
    const { srv, backend } = await siteWithUpdates(() => undefined, { updateUserTimeoutMs: 100, updateUserAttempts: 2 });
    const socket = await srv.connect('/shop', { query: { token: 'tok' } });
    expect(socket.connected).to.equal(true);
    const [first, second] = [await nthUpdate(backend, 1), await nthUpdate(backend, 2)];
    expect(second.body).to.equal(first.body);
  });

  it('follows no redirect: a 3xx is a refusal, not retried, and its target never hears of the user', async () => {
    const elsewhere = await startBackend((_request, res) => res.writeHead(204).end());
    const { log, line } = recordLog('warn');
    const { srv, updates } = await siteWithUpdates(
      (res) => res.writeHead(307, { location: `${elsewhere.url}/users/8` }).end(),
      { updateUserAttempts: 3 },
      log,
    );
    await srv.connect('/shop', { query: { token: 'tok' } });
    const refused = await line((entry) => entry.msg === 'user update refused by the backend; not retried', 'the refused update');
    expect(refused.status).to.equal(307);
    expect(elsewhere.requests).to.deep.equal([]);
    expect(updates()).to.have.lengthOf(1);
  });

  it('does not read the answer: an endless body does not hold the update until its deadline', async () => {
    // 200 with a body that never ends: reading it would time the attempt out (and retry it).
    const { log, line } = recordLog('debug');
    const { srv } = await siteWithUpdates(
      (res) => res.writeHead(200, { 'content-type': 'application/json' }).write('['.repeat(65_536)),
      {
        updateUserTimeoutMs: 60_000,
      },
      log,
    );
    await srv.connect('/shop', { query: { token: 'tok' } });
    const sent = await line(
      (entry) => entry.msg === 'user update sent' || entry.msg === 'user update failed; retrying',
      'the update outcome',
    );
    expect(sent).to.include({ msg: 'user update sent', attempt: 1 });
  });
});
