import { expect } from 'chai';
import { createServer, request as httpRequest, type IncomingMessage } from 'node:http';
import { connect, type AddressInfo, type Socket as NetSocket } from 'node:net';
import { heapAfterGc } from '../support/gc.js';
import { request } from '../support/http.js';
import { startServer, type TestServer } from '../support/server.js';
import { onTeardown } from '../support/teardown.js';
import { ack, withDeadline } from '../support/wait.js';

// Requests too large or too slow for HTTP itself, on the routes and on Socket.IO's long-polling transport.

/** What an oversized polling POST may leave on the heap: noise, not the body. */
const BODY_HEAP_BOUND = 16_000_000;
/** A 1 MB header: 64 times node's default limit on the whole header section (16 kB). */
const HUGE_HEADER = 'h'.repeat(1_000_000);

/** A long-polling Engine.IO session's id, from a handshake GET. */
async function pollingSession(srv: TestServer): Promise<string> {
  const res = await request(`${srv.url}/socket.io/?EIO=4&transport=polling`);
  const text = String(res.body);
  const sid = /"sid":"([^"]+)"/.exec(text)?.[1];
  if (sid === undefined) throw new Error(`no sid in the handshake: ${text}`);
  return sid;
}

/**
 * POSTs up to `total` bytes to `path` in 64 kB chunks, chunked or with the full length declared, and
 * stops writing once the response arrives; resolves with its status and how much was written by then.
 */
function flood(
  srv: TestServer,
  path: string,
  total: number,
  declareLength: boolean,
): Promise<{ status: number | undefined; sent: number }> {
  const { port } = new URL(srv.url);
  const chunk = Buffer.alloc(64 * 1024, 'x');
  return withDeadline(
    new Promise((resolve, reject) => {
      let sent = 0;
      let answered = false;
      const req = httpRequest(
        {
          host: '127.0.0.1',
          port,
          path,
          method: 'POST',
          headers: { 'content-type': 'text/plain;charset=UTF-8', ...(declareLength ? { 'content-length': String(total) } : {}) },
        },
        (res: IncomingMessage) => {
          answered = true;
          res.resume();
          resolve({ status: res.statusCode, sent });
          req.destroy();
        },
      );
      // The server may close the connection while the body is still being written.
      req.on('error', (err) => (answered ? undefined : reject(err)));
      const write = (): void => {
        while (!answered && sent < total) {
          sent += chunk.length;
          if (!req.write(chunk)) return void req.once('drain', write);
        }
        if (!answered) req.end();
      };
      write();
    }),
    `the answer to a ${total}-byte POST ${path}`,
  );
}

/** Sends `text` on a fresh TCP connection and resolves with everything the server wrote before it closed. */
function rawExchange(srv: TestServer, text: string): Promise<string> {
  const { port } = new URL(srv.url);
  return withDeadline(
    new Promise<string>((resolve) => {
      const socket = connect(Number(port), '127.0.0.1');
      onTeardown(() => socket.destroy());
      let answer = '';
      socket.setEncoding('utf8');
      socket.on('data', (data: string) => (answer += data));
      socket.on('error', () => undefined);
      socket.on('close', () => resolve(answer));
      socket.on('connect', () => socket.write(text));
    }),
    'the server to answer and close',
  );
}

describe('oversized and slow HTTP requests', () => {
  for (const declareLength of [true, false]) {
    it(`answers a 100 MB long-polling POST (${declareLength ? 'length declared' : 'chunked'}) with 413 early, holds none of it, and serves the others`, async () => {
      const srv = await startServer();
      const other = await srv.connect('/layout', { transports: ['polling'] });
      const sid = await pollingSession(srv);
      const before = heapAfterGc();
      const { status, sent } = await flood(srv, `/socket.io/?EIO=4&transport=polling&sid=${sid}`, 100_000_000, declareLength);
      expect(status).to.equal(413);
      expect(sent, 'bytes written before the answer').to.be.below(100_000_000);
      const held = heapAfterGc() - before;
      expect(held, `heap after the POST: ${held} bytes more`).to.be.below(BODY_HEAP_BOUND);
      expect(await ack(other, 'CLIENTS', { room: 'r' })).to.deep.equal({ ok: true, room: 'r', clients: [] });
    });
  }

  it('answers a 100 MB POST /bus-message with 413 early and holds none of it', async () => {
    const srv = await startServer();
    const before = heapAfterGc();
    const { status, sent } = await flood(srv, '/bus-message/r', 100_000_000, false);
    expect(status).to.equal(413);
    expect(sent).to.be.below(100_000_000);
    expect(heapAfterGc() - before).to.be.below(BODY_HEAP_BOUND);
    expect((await request(`${srv.url}/healthcheck`)).status).to.equal(200);
  });

  for (const path of ['/healthcheck', '/socket.io/?EIO=4&transport=polling']) {
    it(`answers a request to ${path} with a 1 MB header with 431 and closes the connection`, async () => {
      const srv = await startServer();
      const answer = await rawExchange(srv, `GET ${path} HTTP/1.1\r\nHost: x\r\nX-Big: ${HUGE_HEADER}\r\n\r\n`);
      expect(answer).to.match(/^HTTP\/1\.1 431 /);
      expect((await request(`${srv.url}/healthcheck`)).status).to.equal(200);
    });
  }

  describe('slowloris', () => {
    /** Opens a connection that sends a request line and then header bytes, one per turn of the loop, `bytes` of them. */
    function drip(url: string, bytes: number): NetSocket {
      const socket = connect(Number(new URL(url).port), '127.0.0.1');
      onTeardown(() => socket.destroy());
      socket.on('error', () => undefined);
      socket.on('connect', () => {
        socket.write('GET /healthcheck HTTP/1.1\r\nHost: x\r\nX-Slow: ');
        let left = bytes;
        const one = (): void => {
          if (left-- > 0 && !socket.destroyed) socket.write('a', () => setImmediate(one));
        };
        one();
      });
      return socket;
    }

    it('serves HTTP and Socket.IO clients while 200 connections send their headers a byte at a time', async () => {
      const srv = await startServer();
      const slow = Array.from({ length: 200 }, () => drip(srv.url, 500));
      expect((await request(`${srv.url}/healthcheck`)).status).to.equal(200);
      const socket = await srv.connect('/layout', { transports: ['polling'] });
      expect(await ack(socket, 'JOIN', { room: 'r', name: 'A' })).to.deep.equal({ ok: true });
      expect(slow.filter((s) => !s.destroyed).length, 'slow connections still open, not yet timed out').to.equal(200);
    });

    // Node closes a connection whose headers are incomplete after headersTimeout, checked every
    // connectionsCheckingInterval (30 s, fixed when the server is created, so a test of the service itself
    // would wait that long). fastify sets requestTimeout to 0; these two show that the service keeps a
    // finite headersTimeout, and that node enforces it with requestTimeout 0.
    it('keeps node’s finite headersTimeout on the service’s HTTP server (requestTimeout is 0 under fastify)', async () => {
      const srv = await startServer();
      const { headersTimeout, requestTimeout } = srv.app.http.server;
      expect(headersTimeout).to.be.above(0).and.at.most(60_000);
      expect(requestTimeout).to.equal(0);
    });

    it('node closes a header dripper after headersTimeout even with requestTimeout 0 (408)', async () => {
      const server = createServer({ headersTimeout: 200, requestTimeout: 0, connectionsCheckingInterval: 50 }, (_req, res) =>
        res.end('ok'),
      );
      await withDeadline(new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve)), 'the server to listen');
      onTeardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      // Under the 16 kB header limit, then stalled: only the timeout can end it (a longer drip would get 431).
      const socket = drip(url, 10_000);
      const answer = await withDeadline(
        new Promise<string>((resolve) => {
          let text = '';
          socket.setEncoding('utf8');
          socket.on('data', (data: string) => (text += data));
          socket.on('close', () => resolve(text));
        }),
        'the dripper to be closed',
      );
      expect(answer).to.match(/^HTTP\/1\.1 408 /);
    });
  });
});
