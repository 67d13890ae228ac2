import { expect } from 'chai';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { expectErrorBody, postBusMessage, request } from '../support/http.js';
import { startServer, type TestServer } from '../support/server.js';
import { createApp } from '../../lib/app.js';
import { onTeardown } from '../support/teardown.js';
import { DEADLINE_MS } from '../support/deadlines.js';
import { ack, barrier, collect, next, silent, withDeadline } from '../support/wait.js';

const OK_BODY = { ok: true };

/** A `/bus` socket that has joined `room` under `name`. */
async function busMember(srv: TestServer, room: string, name = 'member') {
  const socket = await srv.connect('/bus');
  expect(await ack(socket, 'JOIN', { room, name })).to.deep.equal({ ok: true });
  return socket;
}

describe('HTTP', () => {
  describe('GET /readyz', () => {
    it('answers 200 READY without --redis: the in-memory adapter is always ready', async () => {
      const srv = await startServer();
      const res = await request(`${srv.url}/readyz`);
      expect(res.status).to.equal(200);
      expect(res.body).to.equal('READY');
      expect(srv.app.isReady()).to.equal(true);
      await srv.app.untilReady(false);
    });

    it('answers 503 while draining: during --drain-delay the node still serves its clients, then disconnects them', async () => {
      // Long enough for the checks below on a loaded machine; the test waits it out once.
      const srv = await startServer({ drainDelay: 2_000 });
      const member = await busMember(srv, 'r');
      const gone = next(member, 'disconnect');
      const closed = srv.app.close();
      const res = await request(`${srv.url}/readyz`);
      expect(res.status).to.equal(503);
      expect(res.body).to.deep.equal({
        ok: false,
        error: { code: 'INTERNAL', message: 'not ready: draining; the node is shutting down' },
      });
      expect(srv.app.readiness()).to.equal('draining');
      // Still served while draining.
      expect(await ack(member, 'CLIENTS', { room: 'r' })).to.deep.equal({ ok: true, room: 'r', clients: ['member'] });
      expect((await request(`${srv.url}/healthcheck`)).status).to.equal(200);
      await withDeadline(closed, 'the drained node to close', DEADLINE_MS);
      // A transport close, not 'io server disconnect': socket.io-client reconnects by itself (to another node).
      expect(await gone).to.equal('transport close');
    });
  });

  describe('GET /healthcheck', () => {
    it('answers 200 with the text OK', async () => {
      const srv = await startServer();
      const res = await request(`${srv.url}/healthcheck`);
      expect(res.status).to.equal(200);
      expect(res.type).to.match(/^text\/plain/);
      expect(res.body).to.equal('OK');
    });

    it('answers HEAD with 200 and no body, and ignores a query string', async () => {
      const srv = await startServer();
      const head = await request(`${srv.url}/healthcheck`, { method: 'HEAD' });
      expect(head.status).to.equal(200);
      expect(head.body).to.equal('');
      const probed = await request(`${srv.url}/healthcheck?probe=lb`);
      expect([probed.status, probed.body]).to.deep.equal([200, 'OK']);
    });
  });

  describe('GET /socket.io/socket.io.js', () => {
    it('serves the Socket.IO v4 client bundle as JavaScript', async () => {
      const srv = await startServer();
      const res = await request(`${srv.url}/socket.io/socket.io.js`);
      expect(res.status).to.equal(200);
      expect(res.type).to.match(/^application\/javascript/);
      expect(res.body).to.be.a('string').and.include('Socket.IO v4');
    });
  });

  describe('everything else', () => {
    const notFound: [method: string, path: string, reported: string][] = [
      ['GET', '/nope', '/nope'],
      ['GET', '/playground/nope.js', '/playground/nope.js'],
      ['GET', '/nope/deeper?x=1', '/nope/deeper'],
      ['GET', '/healthcheck/extra', '/healthcheck/extra'],
      ['POST', '/healthcheck', '/healthcheck'],
      ['DELETE', '/', '/'],
      ['GET', '/bus-message/r', '/bus-message/r'],
      ['PUT', '/bus-message/r', '/bus-message/r'],
      ['POST', '/bus-message/r/extra', '/bus-message/r/extra'],
    ];
    for (const [method, path, reported] of notFound) {
      it(`answers ${method} ${path} with 404 and a JSON NOT_FOUND body`, async () => {
        const srv = await startServer();
        const res = await request(srv.url + path, { method });
        expect(res.status).to.equal(404);
        expect(res.type).to.match(/^application\/json/);
        expect(res.body).to.deep.equal({ ok: false, error: { code: 'NOT_FOUND', message: `${method} ${reported} not found` } });
      });
    }
  });

  describe('POST /bus-message/:room', () => {
    it('answers 200 {ok:true} and sends EVENT {sender: "POST", room, message} to every /bus socket in the room', async () => {
      const srv = await startServer();
      const [a, b] = [await busMember(srv, 'r', 'A'), await busMember(srv, 'r', 'B')];
      const atA = next(a, 'EVENT');
      const atB = next(b, 'EVENT');
      const message = { nested: [1, 'two', null, { three: true }] };
      const res = await postBusMessage(srv, 'r', JSON.stringify(message));
      expect(res.status).to.equal(200);
      expect(res.type).to.match(/^application\/json/);
      expect(res.body).to.deep.equal(OK_BODY);
      expect(await atA).to.deep.equal({ sender: 'POST', room: 'r', message });
      expect(await atB).to.deep.equal({ sender: 'POST', room: 'r', message });
    });

    it('passes every kind of JSON body through unchanged, once each', async () => {
      const srv = await startServer();
      const a = await busMember(srv, 'r');
      const received = collect(a, 'EVENT');
      const messages = [
        { a: 1 },
        [1, [2], { three: 3 }],
        'a string',
        '{"looks":"like json"}',
        'é ☃ 😀',
        42,
        -1.5,
        0,
        true,
        false,
        null,
        [],
        {},
      ];
      for (const message of messages) expect((await postBusMessage(srv, 'r', JSON.stringify(message))).body).to.deep.equal(OK_BODY);
      await barrier(a);
      expect(received).to.deep.equal(messages.map((message) => ({ sender: 'POST', room: 'r', message })));
    });

    // What the original's publishers send: curl -d posts form-urlencoded, others text/plain or no type.
    for (const contentType of ['text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=utf-8', null]) {
      it(`reads the body as JSON when the content type is ${contentType ?? 'missing'}`, async () => {
        const srv = await startServer();
        const a = await busMember(srv, 'r');
        const event = next(a, 'EVENT');
        const res = await postBusMessage(srv, 'r', '{"from":"curl","n":[1,2]}', contentType);
        expect([res.status, res.body]).to.deep.equal([200, OK_BODY]);
        expect(await event).to.deep.equal({ sender: 'POST', room: 'r', message: { from: 'curl', n: [1, 2] } });
      });
    }

    it('reaches neither /layout sockets in a room of the same name nor /bus sockets in other rooms', async () => {
      const srv = await startServer();
      const layout = await srv.connect('/layout');
      await ack(layout, 'JOIN', { room: 'r', name: 'L' });
      const elsewhere = await busMember(srv, 'other');
      const member = await busMember(srv, 'r');
      const event = next(member, 'EVENT');
      await silent(layout, 'EVENT', () =>
        silent(elsewhere, 'EVENT', async () => expect((await postBusMessage(srv, 'r', '"m"')).status).to.equal(200)),
      );
      expect(await event).to.deep.equal({ sender: 'POST', room: 'r', message: 'm' });
    });

    it('reaches a legacy socket.io-client 2.x socket on /bus', async () => {
      const srv = await startServer();
      const legacy = await srv.connectLegacy('/bus');
      expect(await ack(legacy, 'JOIN', JSON.stringify({ room: 'r', name: 'old' }))).to.deep.equal({ ok: true });
      const event = next(legacy, 'EVENT');
      expect((await postBusMessage(srv, 'r', '{"v":2}')).status).to.equal(200);
      expect(await event).to.deep.equal({ sender: 'POST', room: 'r', message: { v: 2 } });
    });

    it('decodes URL-encoded room names', async () => {
      const srv = await startServer();
      const rooms: [encoded: string, room: string][] = [
        ['a%20b', 'a b'],
        ['a%2Fb', 'a/b'],
        ['%C3%A9t%C3%A9', 'été'],
        [encodeURIComponent('{"room":1}'), '{"room":1}'],
      ];
      // A room at the default --max-id-length (256), percent-encoded to 768 characters: fastify's default
      // parameter bound (100) used to refuse it before the room was validated.
      const long = 'é'.repeat(128) + 'x'.repeat(128);
      rooms.push([encodeURIComponent(long), long]);
      for (const [encoded, room] of rooms) {
        const member = await busMember(srv, room);
        const event = next(member, 'EVENT');
        expect((await postBusMessage(srv, encoded, '1')).status, encoded).to.equal(200);
        expect(await event, encoded).to.deep.equal({ sender: 'POST', room, message: 1 });
      }
    });

    it('answers 400 BAD_REQUEST with a reason for a body that is not JSON, and delivers nothing', async () => {
      const srv = await startServer();
      const a = await busMember(srv, 'r');
      await silent(a, 'EVENT', async () => {
        for (const [body, contentType] of [
          ['{a', 'application/json'],
          ["{'single': 'quotes'}", 'application/json'],
          ['not json', 'text/plain'],
          ['a=1&b=2', 'application/x-www-form-urlencoded'],
          ['{"a":1} trailing', null],
        ] as const) {
          expectErrorBody(await postBusMessage(srv, 'r', body, contentType), 400, 'BAD_REQUEST', /JSON/);
        }
      });
    });

    it('answers 400 BAD_REQUEST for an empty body, whatever the content type, and delivers nothing', async () => {
      const srv = await startServer();
      const a = await busMember(srv, 'r');
      await silent(a, 'EVENT', async () => {
        for (const contentType of ['application/json', 'text/plain', null]) {
          expectErrorBody(await postBusMessage(srv, 'r', '', contentType), 400, 'BAD_REQUEST', /body is required/);
        }
        const bare = await request(`${srv.url}/bus-message/r`, { method: 'POST' });
        expectErrorBody(bare, 400, 'BAD_REQUEST', /body is required/);
      });
    });

    it('answers 413 LIMIT for a body over the payload limit and delivers nothing; a body at the limit passes', async () => {
      const srv = await startServer({ maxPayload: 1024 });
      const a = await busMember(srv, 'r');
      const tooBig = JSON.stringify('x'.repeat(1023));
      expect(Buffer.byteLength(tooBig)).to.equal(1025);
      await silent(a, 'EVENT', async () => expectErrorBody(await postBusMessage(srv, 'r', tooBig), 413, 'LIMIT'));
      const atLimit = JSON.stringify('x'.repeat(1022));
      expect(Buffer.byteLength(atLimit)).to.equal(1024);
      const event = next(a, 'EVENT');
      expect((await postBusMessage(srv, 'r', atLimit)).status).to.equal(200);
      expect(await event).to.deep.equal({ sender: 'POST', room: 'r', message: 'x'.repeat(1022) });
    });

    it('answers 400 BAD_REQUEST for a room longer than maxIdLength (counted after URL decoding) or empty', async () => {
      const srv = await startServer({ maxIdLength: 8 });
      const a = await busMember(srv, '12345678');
      await silent(a, 'EVENT', async () => {
        expectErrorBody(await postBusMessage(srv, '123456789', '1'), 400, 'BAD_REQUEST', /room/);
        expectErrorBody(await postBusMessage(srv, '', '1'), 400, 'BAD_REQUEST', /room/);
      });
      // Eight characters, but 24 of them URL-encoded: the limit applies to the room name.
      const encoded = await busMember(srv, 'abcdefgh');
      const event = next(encoded, 'EVENT');
      expect((await postBusMessage(srv, '%61%62%63%64%65%66%67%68', '1')).status).to.equal(200);
      expect(await event).to.deep.equal({ sender: 'POST', room: 'abcdefgh', message: 1 });
      const exact = next(a, 'EVENT');
      expect((await postBusMessage(srv, '12345678', '2')).status).to.equal(200);
      expect(await exact).to.deep.equal({ sender: 'POST', room: '12345678', message: 2 });
    });

    // fastify answers a malformed URL itself (FST_ERR_BAD_URL) unless the app hands it a frameworkErrors handler.
    it('answers a malformed percent-encoding in the room with 400 in the JSON error format', async () => {
      const srv = await startServer();
      const a = await busMember(srv, 'r');
      await silent(a, 'EVENT', async () => expectErrorBody(await postBusMessage(srv, '%E0%A4%A', '1'), 400, 'BAD_REQUEST'));
    });
  });

  it('refuses a route that declares a fastify schema, at start, naming the validation the service uses', async () => {
    const app = await createApp({ port: 0, host: '127.0.0.1', logLevel: 'silent' });
    onTeardown(() => app.close());
    app.http.get('/with-schema', { schema: { querystring: { type: 'object' } } }, () => 'never');
    let refused: unknown;
    try {
      await app.http.ready();
    } catch (err) {
      refused = err;
    }
    expect(refused)
      .to.be.an('error')
      .with.property('message')
      .that.matches(/TypeBox/);
  });

  describe('CORS on the Socket.IO long-polling transport', () => {
    const handshake = '/socket.io/?EIO=4&transport=polling';

    it('echoes any Origin by default', async () => {
      const srv = await startServer();
      for (const origin of ['https://any.example', 'http://localhost:8080']) {
        const res = await request(srv.url + handshake, { headers: { origin } });
        expect(res.status, origin).to.equal(200);
        expect(res.body, origin)
          .to.be.a('string')
          .and.match(/^0\{"sid":/);
        expect(res.headers.get('access-control-allow-origin'), origin).to.equal(origin);
      }
    });

    it('with a configured list, allows the listed origins only', async () => {
      const srv = await startServer({ corsOrigin: ['https://ok.example'] });
      const allowed = await request(srv.url + handshake, { headers: { origin: 'https://ok.example' } });
      expect(allowed.status).to.equal(200);
      expect(allowed.headers.get('access-control-allow-origin')).to.equal('https://ok.example');
      const denied = await request(srv.url + handshake, { headers: { origin: 'https://evil.example' } });
      expect(denied.headers.get('access-control-allow-origin')).to.equal(null);
    });

    it('adds no CORS headers to a WebSocket upgrade, on which no browser reads them', async () => {
      const srv = await startServer();
      const headers = await upgradeHeaders(`${srv.url}/socket.io/?EIO=4&transport=websocket`, 'https://any.example');
      expect(headers['sec-websocket-accept']).to.be.a('string');
      expect(Object.keys(headers).filter((name) => name.startsWith('access-control-') || name === 'vary')).to.deep.equal([]);
    });

    it('answers a preflight for the listed origins only', async () => {
      const srv = await startServer({ corsOrigin: ['https://ok.example'] });
      const preflight = (origin: string) =>
        request(srv.url + handshake, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST' } });
      const allowed = await preflight('https://ok.example');
      expect(allowed.status).to.be.within(200, 204);
      expect(allowed.headers.get('access-control-allow-origin')).to.equal('https://ok.example');
      const denied = await preflight('https://evil.example');
      expect(denied.headers.get('access-control-allow-origin')).to.equal(null);
    });
  });
});

/** The headers of the 101 a WebSocket upgrade to `url` from `origin` gets; the connection is closed at once. */
function upgradeHeaders(url: string, origin: string): Promise<IncomingHttpHeaders> {
  const req = httpRequest(url, {
    headers: {
      origin,
      connection: 'Upgrade',
      upgrade: 'websocket',
      'sec-websocket-version': '13',
      'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
    },
  });
  const upgraded = new Promise<IncomingHttpHeaders>((resolve, reject) => {
    req.once('upgrade', (res, socket) => {
      socket.destroy();
      resolve(res.headers);
    });
    req.once('response', (res) => reject(new Error(`no upgrade: HTTP ${res.statusCode ?? '?'}`)));
    req.once('error', reject);
  });
  req.end();
  return withDeadline(upgraded, 'the upgrade response');
}
