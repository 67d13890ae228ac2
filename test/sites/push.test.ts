import { expect } from 'chai';
import type { Socket } from 'socket.io-client';
import { hashSecret } from '../../lib/config/secrets.js';
import { parseSitesFile } from '../../lib/config/sites-file.js';
import { tokenBackend } from '../support/backend.js';
import { expectErrorBody, postSend, type HttpResult } from '../support/http.js';
import { startServer, type TestServer } from '../support/server.js';
import { collect, next, nextArgs, silent } from '../support/wait.js';

const KEY = 'shop-secret-key';

/** Sites `shop` (key {@link KEY}, or `shopKey`) and `blog` (key `blog-key`), both on one token backend. */
async function pushServer(shopKey: string = KEY, maxPayload?: number): Promise<TestServer> {
  const backend = await tokenBackend({ alice: ['user_alice', 'staff'], bob: ['user_bob', 'staff'], carol: ['staff'] });
  const auth = { mode: 'token-url', url: `${backend.url}/rooms` };
  const access = parseSitesFile(
    { sites: { shop: { auth, apiKey: shopKey }, blog: { auth, apiKey: 'blog-key' }, open: { auth } } },
    'test',
    {},
  );
  return startServer({ access, ...(maxPayload === undefined ? {} : { maxPayload }) });
}

function user(srv: TestServer, site: string, token: string): Promise<Socket> {
  return srv.connect(`/${site}`, { auth: { token } });
}

/** POST /send as site `shop` (its key {@link KEY} as a Bearer token) unless `headers` say otherwise. */
function send(
  srv: TestServer,
  query: string,
  body: unknown,
  headers: Record<string, string> = { authorization: `Bearer ${KEY}` },
): Promise<HttpResult> {
  return postSend(srv, query, body, headers);
}

describe('POST /send (HTTP push API)', () => {
  it('delivers event and args to every socket in the rooms and answers how many sockets it reached', async () => {
    const srv = await pushServer();
    const alice = await user(srv, 'shop', 'alice');
    const bob = await user(srv, 'shop', 'bob');
    const got = Promise.all([next<unknown[]>(alice, 'update_store'), next<unknown[]>(bob, 'update_store')]);
    const aliceArgs = nextArgs(alice, 'update_store');
    const res = await send(srv, 'site=shop', { rooms: ['staff'], event: 'update_store', args: ['user', { id: 1, age: 5 }] });
    expect(res.status).to.equal(200);
    expect(res.body).to.deep.equal({ ok: true, delivered: 2 });
    await got;
    expect(await aliceArgs).to.deep.equal(['user', { id: 1, age: 5 }]);
  });

  it('reaches a socket once when it is in several of the rooms, and only the rooms named', async () => {
    const srv = await pushServer();
    const alice = await user(srv, 'shop', 'alice');
    const bob = await user(srv, 'shop', 'bob');
    const seen = collect(alice, 'notice');
    const res = await send(srv, 'site=shop', { rooms: ['user_alice', 'staff'], event: 'notice' });
    expect(res.body).to.deep.equal({ ok: true, delivered: 2 });
    const delivered = next(alice, 'private');
    await silent(bob, 'private', () => send(srv, 'site=shop', { rooms: ['user_alice'], event: 'private' }));
    await delivered;
    expect(seen).to.have.lengthOf(1);
    expect((await send(srv, 'site=shop', { rooms: ['nobody'], event: 'notice' })).body).to.deep.equal({ ok: true, delivered: 0 });
  });

  it('never reaches the sockets of another site, even in a room of the same name', async () => {
    const srv = await pushServer();
    const blogStaff = await user(srv, 'blog', 'carol');
    await user(srv, 'shop', 'carol');
    await silent(blogStaff, 'news', async () => {
      expect((await send(srv, 'site=shop', { rooms: ['staff'], event: 'news' })).body).to.deep.equal({ ok: true, delivered: 1 });
    });
  });

  it('accepts the key as ?apiKey= (as the original) and form-encoded bodies', async () => {
    const srv = await pushServer();
    const alice = await user(srv, 'shop', 'alice');
    const args = nextArgs(alice, 'note');
    const res = await send(srv, `site=shop&apiKey=${KEY}`, 'rooms[]=staff&rooms[]=user_bob&event=note&args=a&args=b', {
      'content-type': 'application/x-www-form-urlencoded',
    });
    expect(res.body).to.deep.equal({ ok: true, delivered: 1 });
    expect(await args).to.deep.equal(['a', 'b']);
  });

  it('reads a JSON body sent as form-encoded (curl -d without a content type)', async () => {
    const srv = await pushServer();
    await user(srv, 'shop', 'carol');
    const form = { 'content-type': 'application/x-www-form-urlencoded', authorization: `Bearer ${KEY}` };
    expect((await send(srv, 'site=shop', { rooms: ['staff'], event: 'e' }, form)).body).to.deep.equal({ ok: true, delivered: 1 });
    expectErrorBody(await send(srv, 'site=shop', '{"rooms": [', form), 400, 'BAD_REQUEST', /^body is not valid JSON$/);
  });

  it('checks a key stored as a scrypt hash', async () => {
    const srv = await pushServer(await hashSecret(KEY));
    expect((await send(srv, 'site=shop', { rooms: ['staff'], event: 'e' })).status).to.equal(200);
    expectErrorBody(
      await send(srv, 'site=shop', { rooms: ['staff'], event: 'e' }, { authorization: 'Bearer shop-secret-kez' }),
      401,
      'UNAUTHORIZED',
      /valid API key/,
    );
  });

  it('answers 401 for a missing or wrong key, or a site without one, and 404 for an unknown site', async () => {
    const srv = await pushServer();
    const body = { rooms: ['staff'], event: 'e' };
    expectErrorBody(await send(srv, 'site=shop', body, {}), 401, 'UNAUTHORIZED', /Authorization: Bearer/);
    expectErrorBody(await send(srv, 'site=shop', body, { authorization: 'Bearer blog-key' }), 401, 'UNAUTHORIZED', /valid API key/);
    expectErrorBody(await send(srv, 'site=shop', body, { authorization: `Basic ${KEY}` }), 401, 'UNAUTHORIZED', /valid API key/);
    expectErrorBody(await send(srv, 'site=open', body), 401, 'UNAUTHORIZED', /no apiKey configured/);
    expectErrorBody(await send(srv, 'site=nope', body), 404, 'NOT_FOUND', /no site 'nope'/);
    expectErrorBody(await send(srv, '', body), 400, 'BAD_REQUEST', /site is required/);
  });

  it('answers 401 to keys that share all but one character with the key, and delivers nothing', async () => {
    const srv = await pushServer();
    const a = await user(srv, 'shop', 'alice');
    const body = { rooms: ['staff'], event: 'e', args: ['x'] };
    await silent(a, 'e', async () => {
      for (const key of [KEY.slice(0, -1), `${KEY}x`, `${KEY.slice(0, -1)}Y`, KEY.toUpperCase()]) {
        expectErrorBody(await send(srv, 'site=shop', body, { authorization: `Bearer ${key}` }), 401, 'UNAUTHORIZED', /valid API key/);
        expectErrorBody(await send(srv, `site=shop&apiKey=${encodeURIComponent(key)}`, body, {}), 401, 'UNAUTHORIZED');
      }
    });
  });

  it('answers 400 naming the field for a bad body, and refuses reserved event names', async () => {
    const srv = await pushServer();
    const bad: [unknown, RegExp][] = [
      [{ event: 'e' }, /rooms is required/],
      [{ rooms: [], event: 'e' }, /rooms must/],
      [{ rooms: [7], event: 'e' }, /rooms\.0 /],
      [{ rooms: ['r'] }, /event is required/],
      [{ rooms: ['r'], event: 'e', args: 'x' }, /args must be array/],
      [{ rooms: ['r'], event: 'ERROR' }, /'ERROR' is reserved by the service/],
      [{ rooms: ['r'], event: '_batch' }, /'_batch' is reserved/],
      [{ rooms: ['r'], event: '__count__' }, /'__count__' is reserved/],
      [{ rooms: ['r'], event: 'disconnect' }, /reserved by Socket\.IO/],
      [{ rooms: ['r'], event: 'error' }, /'error' is reserved by socket\.io-client 1\.x\/2\.x/],
      [{ rooms: ['r'], event: 'reconnect' }, /'reconnect' is reserved by socket\.io-client 1\.x\/2\.x/],
      [{ rooms: ['r'], event: 'connect_timeout' }, /'connect_timeout' is reserved by socket\.io-client 1\.x\/2\.x/],
      [{ rooms: ['r'], event: 'ping' }, /'ping' is reserved by socket\.io-client 1\.x\/2\.x/],
      [{ rooms: ['r'], event: 'pong' }, /'pong' is reserved by socket\.io-client 1\.x\/2\.x/],
      ['{"rooms": [', /not valid JSON|JSON/],
    ];
    for (const [body, message] of bad) expectErrorBody(await send(srv, 'site=shop', body), 400, 'BAD_REQUEST', message);
  });

  it('answers 413 for a body over the payload limit', async () => {
    const srv = await pushServer(KEY, 1000);
    expectErrorBody(await send(srv, 'site=shop', { rooms: ['staff'], event: 'e', args: ['x'.repeat(2000)] }), 413, 'LIMIT', /./);
  });
});
