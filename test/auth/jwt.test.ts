import { expect } from 'chai';
import { exportSPKI, generateKeyPair, SignJWT, type CryptoKey, type JWTPayload } from 'jose';
import { parseSitesFile } from '../../lib/config/sites-file.js';
import { RequestError } from '../../lib/core/errors.js';
import { DEADLINE_MS, scaled } from '../support/deadlines.js';
import { postSend } from '../support/http.js';
import { scrape, valueOf } from '../support/metrics.js';
import { startServer, type ConnectError, type TestServer } from '../support/server.js';
import { ack, barrier, next } from '../support/wait.js';

const HMAC = 'a-hmac-secret-of-at-least-32-bytes!!';
const API_KEY = 'jwt-site-key';

function sign(claims: JWTPayload, key: CryptoKey | Uint8Array = new TextEncoder().encode(HMAC), alg = 'HS256'): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg }).setIssuedAt().sign(key);
}

/** Seconds since the epoch, `s` from now: what `exp` holds. */
function inSeconds(s: number): number {
  return Math.floor(Date.now() / 1000) + s;
}

/**
 * How long a short-lived token lives, in seconds: room for the few round trips a test makes before it
 * expires, on a loaded machine too (`exp` counts whole seconds, so it may end up to 1 s sooner).
 */
const SHORT_LIFE_S = Math.ceil(scaled(3000) / 1000);

/** Waiting for what the expiry of a short-lived token causes. */
const EXPIRY_DEADLINE_MS = SHORT_LIFE_S * 1000 + DEADLINE_MS;

/** A service with site `app` in mode jwt (HS256 unless told otherwise). */
function jwtServer(auth: Record<string, unknown> = { mode: 'jwt', algorithms: ['HS256'], secret: HMAC }): Promise<TestServer> {
  return startServer({ access: parseSitesFile({ sites: { app: { auth, apiKey: API_KEY } } }, 'test', {}) });
}

/** Connects to `ns` with `token` (none if undefined) expecting the handshake to be refused. */
function refused(srv: TestServer, token?: string, ns = '/app'): Promise<ConnectError> {
  return srv.refused(ns, token === undefined ? {} : { auth: { token } });
}

describe('auth mode jwt', () => {
  it('joins the rooms of the rooms claim, and a push to one of them reaches the socket', async () => {
    const srv = await jwtServer();
    const socket = await srv.connect('/app', { auth: { token: await sign({ sub: 'u1', rooms: ['user_u1', 'staff'] }) } });
    expect(srv.roomsOf('/app', socket.id)).to.have.members(['room:user_u1', 'room:staff']);
    const got = next(socket, 'hello');
    const res = await postSend(
      srv,
      'site=app',
      { rooms: ['user_u1'], event: 'hello', args: ['world'] },
      { authorization: `Bearer ${API_KEY}` },
    );
    expect(res.body).to.deep.equal({ ok: true, delivered: 1 });
    expect(await got).to.equal('world');
  });

  for (const alg of ['RS256', 'ES256'] as const) {
    it(`verifies ${alg} with the configured public key, and refuses a token signed by another key`, async () => {
      const { publicKey, privateKey } = await generateKeyPair(alg);
      const other = await generateKeyPair(alg);
      const srv = await jwtServer({ mode: 'jwt', algorithms: [alg], publicKey: await exportSPKI(publicKey), roomsClaim: 'groups' });
      const socket = await srv.connect('/app', { query: { token: await sign({ sub: 'u', groups: ['g'] }, privateKey, alg) } });
      expect(srv.roomsOf('/app', socket.id)).to.deep.equal(['room:g']);
      const err = await refused(srv, await sign({ sub: 'u' }, other.privateKey, alg));
      expect(err.data?.code).to.equal('UNAUTHORIZED');
      expect(err.message).to.match(/^invalid token \(ERR_JWS_SIGNATURE_VERIFICATION_FAILED\)/);
    });
  }

  it('refuses a missing, expired, malformed, wrongly-signed or badly-claimed token as UNAUTHORIZED', async () => {
    const { privateKey } = await generateKeyPair('RS256');
    const srv = await jwtServer();
    const cases: [string | undefined, RegExp][] = [
      [undefined, /a token is required/],
      [await sign({ sub: 'u', exp: inSeconds(-60) }), /^the token has expired$/],
      ['not.a.jwt', /^invalid token \(ERR_JWS_INVALID\)/],
      [await sign({ sub: 'u' }, privateKey, 'RS256'), /^invalid token \(ERR_JOSE_ALG_NOT_ALLOWED\)/],
      [
        await sign({ sub: 'u' }, new TextEncoder().encode('another-hmac-secret-of-32-bytes-or-more')),
        /ERR_JWS_SIGNATURE_VERIFICATION_FAILED/,
      ],
      [await sign({ sub: 'u', rooms: 'staff' }), /claim rooms must be an array/],
    ];
    for (const [token, message] of cases) {
      const err = await refused(srv, token);
      expect(err.data?.code, String(token)).to.equal('UNAUTHORIZED');
      expect(err.message).to.match(message);
    }
  });

  it('refuses an unsigned token (alg none), whatever its claims, at the handshake and in AUTH', async () => {
    const srv = await jwtServer();
    const part = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url');
    const claims = part({ sub: 'u', rooms: ['admin'] });
    for (const token of [
      `${part({ alg: 'none' })}.${claims}.`,
      `${part({ alg: 'none', typ: 'JWT' })}.${claims}.`,
      `${part({ alg: 'NONE' })}.${claims}.`,
    ]) {
      const err = await refused(srv, token);
      expect(err.data?.code, token).to.equal('UNAUTHORIZED');
      expect(err.message).to.match(/^invalid token \(/);
    }
    const socket = await srv.connect('/app', { auth: { token: await sign({ sub: 'u', rooms: ['a'] }) } });
    const res = await ack(socket, 'AUTH', { token: `${part({ alg: 'none' })}.${claims}.` });
    expect(res).to.have.nested.property('error.code', 'UNAUTHORIZED');
    expect(srv.roomsOf('/app', socket.id)).to.deep.equal(['room:a']);
  });

  it('refuses an HS256 token signed with the site’s RS256 public key as the HMAC secret (algorithm confusion)', async () => {
    const { publicKey } = await generateKeyPair('RS256');
    const pem = await exportSPKI(publicKey);
    const srv = await jwtServer({ mode: 'jwt', algorithms: ['RS256'], publicKey: pem });
    const err = await refused(srv, await sign({ sub: 'u', rooms: ['admin'] }, new TextEncoder().encode(pem)));
    expect(err.data?.code).to.equal('UNAUTHORIZED');
    expect(err.message).to.match(/^invalid token \(ERR_JOSE_ALG_NOT_ALLOWED\)/);
  });

  it('refuses a token of another site: signed with its secret, or with a shared secret but the other audience', async () => {
    const other = 'the-other-site-hmac-secret-of-32-bytes';
    const access = parseSitesFile(
      {
        sites: {
          app: { auth: { mode: 'jwt', algorithms: ['HS256'], secret: HMAC, audience: 'app' } },
          shop: { auth: { mode: 'jwt', algorithms: ['HS256'], secret: other } },
          blog: { auth: { mode: 'jwt', algorithms: ['HS256'], secret: HMAC, audience: 'blog' } },
        },
      },
      'test',
      {},
    );
    const srv = await startServer({ access });
    const forShop = await sign({ sub: 'u', rooms: ['a'] }, new TextEncoder().encode(other));
    const forBlog = await sign({ sub: 'u', rooms: ['a'], aud: 'blog' });
    expect((await refused(srv, forShop)).message).to.match(/ERR_JWS_SIGNATURE_VERIFICATION_FAILED/);
    expect((await refused(srv, forBlog)).message).to.match(/ERR_JWT_CLAIM_VALIDATION_FAILED/);
    expect((await refused(srv, await sign({ sub: 'u', rooms: ['a'] }))).message, 'no audience at all').to.match(
      /ERR_JWT_CLAIM_VALIDATION_FAILED/,
    );
    // Each is good where it belongs.
    await srv.connect('/shop', { auth: { token: forShop } });
    await srv.connect('/blog', { auth: { token: forBlog } });
    await srv.connect('/app', { auth: { token: await sign({ sub: 'u', aud: 'app' }) } });
  });

  it('disconnects the socket with a clear reason when its token expires, counted in the errors metric', async () => {
    const srv = await jwtServer();
    const socket = await srv.connect('/app', { auth: { token: await sign({ sub: 'u', exp: inSeconds(SHORT_LIFE_S) }) } });
    const unauthorized = async (): Promise<number> =>
      valueOf(await scrape(srv), 'realtime_rooms_errors_total', { code: 'UNAUTHORIZED' }) ?? 0;
    const before = await unauthorized();
    const error = next<{ event: string; code: string; message: string }>(socket, 'ERROR', EXPIRY_DEADLINE_MS);
    const reason = next<string>(socket, 'disconnect', EXPIRY_DEADLINE_MS);
    expect(await error).to.deep.include({ event: 'AUTH', code: 'UNAUTHORIZED' });
    expect((await error).message).to.match(/token has expired/);
    expect(await reason).to.equal('io server disconnect');
    expect((await unauthorized()) - before).to.equal(1);
  });

  it('keeps a socket that sends a fresh token with AUTH, re-syncing its rooms', async () => {
    const srv = await jwtServer();
    const exp = inSeconds(SHORT_LIFE_S);
    const refreshed = await srv.connect('/app', { auth: { token: await sign({ sub: 'u', rooms: ['a', 'b'], exp }) } });
    const witness = await srv.connect('/app', { auth: { token: await sign({ sub: 'w', exp }) } });
    const later = inSeconds(3600);
    const res = await ack(refreshed, 'AUTH', { token: await sign({ sub: 'u', rooms: ['b', 'c'], exp: later }) });
    expect(res).to.deep.equal({ ok: true, expiresAt: new Date(later * 1000).toISOString() });
    expect(srv.roomsOf('/app', refreshed.id)).to.have.members(['room:b', 'room:c']);
    // The witness's token expires no earlier than the old one of `refreshed`: once it is gone, the old timer
    // would have fired too.
    await next(witness, 'disconnect', EXPIRY_DEADLINE_MS);
    await barrier(refreshed);
    expect(refreshed.connected).to.equal(true);
  });

  it('refuses an AUTH refresh for another user or with a bad token, and keeps the socket as it was', async () => {
    const srv = await jwtServer();
    const socket = await srv.connect('/app', { auth: { token: await sign({ sub: 'u', rooms: ['a'] }) } });
    expect(await ack(socket, 'AUTH', await sign({ sub: 'intruder', rooms: ['admin'] }))).to.deep.equal({
      ok: false,
      error: { code: 'UNAUTHORIZED', message: 'the token is for another user' },
    });
    expect(await ack(socket, 'AUTH', { token: 'garbage' })).to.have.nested.property('error.code', 'UNAUTHORIZED');
    expect(await ack(socket, 'AUTH', {})).to.have.nested.property('error.code', 'BAD_REQUEST');
    const error = next<{ code: string }>(socket, 'ERROR');
    socket.emit('AUTH', 'garbage');
    expect((await error).code).to.equal('UNAUTHORIZED');
    expect(srv.roomsOf('/app', socket.id)).to.deep.equal(['room:a']);
    expect(socket.connected).to.equal(true);
  });

  it('answers AUTH through the reply path: the inbound-event chain sees it and can refuse it like any request', async () => {
    const srv = await jwtServer();
    const seen: [string, unknown[]][] = [];
    srv.app.hooks.use((_socket, event, args) => {
      seen.push([event, [...args]]);
      if (event === 'AUTH' && args[0] === 'flood') throw new RequestError('RATE_LIMITED', 'slow down');
    });
    const socket = await srv.connect('/app', { auth: { token: await sign({ sub: 'u', rooms: ['a'] }) } });
    const fresh = await sign({ sub: 'u', rooms: ['b'] });
    expect(await ack(socket, 'AUTH', { token: fresh })).to.deep.equal({ ok: true, expiresAt: null });
    expect(await ack(socket, 'AUTH', 'flood')).to.deep.equal({ ok: false, error: { code: 'RATE_LIMITED', message: 'slow down' } });
    const error = next(socket, 'ERROR');
    socket.emit('AUTH', 'flood');
    expect(await error).to.deep.equal({ event: 'AUTH', code: 'RATE_LIMITED', message: 'slow down' });
    expect(seen).to.deep.equal([
      ['AUTH', [{ token: fresh }]],
      ['AUTH', ['flood']],
      ['AUTH', ['flood']],
    ]);
    expect(srv.roomsOf('/app', socket.id)).to.deep.equal(['room:b']);
  });

  it('guards a built-in namespace too: a token is required, exp disconnects, AUTH stays an unknown event there', async () => {
    const access = parseSitesFile({ namespaces: { lobby: { auth: { mode: 'jwt', algorithms: ['HS256'], secret: HMAC } } } }, 'test', {});
    const srv = await startServer({ access });
    const err = await refused(srv, undefined, '/lobby');
    expect(err.data?.code).to.equal('UNAUTHORIZED');
    const lobby = await srv.connect('/lobby', { auth: { token: await sign({ sub: 'u', exp: inSeconds(SHORT_LIFE_S) }) } });
    expect(await ack(lobby, 'JOIN', 'call-1')).to.deep.include({ ok: true, lobby: 'call-1' });
    expect(await ack(lobby, 'AUTH', { token: await sign({ sub: 'u' }) })).to.have.nested.property('error.code', 'BAD_REQUEST');
    expect(await next<string>(lobby, 'disconnect', EXPIRY_DEADLINE_MS)).to.equal('io server disconnect');
  });
});
