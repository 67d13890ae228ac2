import { expect } from 'chai';
import type { LimitHit } from '../../lib/core/types.js';
import { parseSitesFile } from '../../lib/config/sites-file.js';
import { pollingSession } from '../support/engine-io.js';
import { DEADLINE_MS } from '../support/deadlines.js';
import { arrayBuffersAfterGc } from '../support/gc.js';
import { request } from '../support/http.js';
import { rawClient, rawRoundTrip, type RawClient } from '../support/raw-engine.js';
import { startServer, type TestServer } from '../support/server.js';
import { ack, next, withDeadline } from '../support/wait.js';
import { DEFAULT_OPTIONS, type ServiceOptions } from '../../lib/config/options.js';

/** A BINARY_EVENT NOTIFY on /layout announcing `count` attachments, to a room nobody is in. */
function binaryNotify(count: number): string {
  const placeholders = Array.from({ length: count }, (_, num) => ({ _placeholder: true, num }));
  return `45${count}-/layout,${JSON.stringify(['NOTIFY', { room: 'elsewhere', message: placeholders }])}`;
}

/** A server with `options`, a bystander in room r, and the limit hits it reports. */
async function withBystander(
  options: Partial<ServiceOptions>,
): Promise<{ srv: TestServer; hits: LimitHit[]; stillServed: () => Promise<void> }> {
  // Many attacker connections a second from one address: not the connect rate's test.
  const srv = await startServer({ connectRate: 0, ...options });
  const hits: LimitHit[] = [];
  srv.app.hooks.on('limited', (hit) => hits.push(hit));
  const bystander = await srv.connect('/layout', { transports: ['websocket'] });
  await ack(bystander, 'JOIN', { room: 'r', name: 'B' });
  const stillServed = async (): Promise<void> => {
    expect(await ack(bystander, 'CLIENTS', { room: 'r' })).to.deep.equal({ ok: true, room: 'r', clients: ['B'] });
  };
  return { srv, hits, stillServed };
}

/** Sends the header of a packet announcing 10 attachments and 9 of them, `bytes` each; never the 10th. */
function sendAllButLast(attacker: RawClient, bytes: number): void {
  attacker.send(binaryNotify(10));
  for (let i = 0; i < 9; i++) attacker.send(Buffer.alloc(bytes, i));
}

/** The Socket.IO id of a raw client's /layout socket, from the server's CONNECT answer. */
function layoutSocketId(client: RawClient): string {
  const connect = client.received.find((frame) => frame.startsWith('40/layout,'));
  const { sid } = JSON.parse(connect?.slice('40/layout,'.length) ?? '{}') as { sid?: string };
  if (sid === undefined) throw new Error('no CONNECT answer with a sid');
  return sid;
}

/**
 * Resolves once the server has read every frame `client` sent so far: `ws` answers a ping when it reads
 * it, after the frames before it (a text frame would do, but not in the middle of a binary packet).
 */
function readByServer(client: RawClient): Promise<void> {
  const pong = new Promise<void>((resolve) => client.ws.once('pong', () => resolve()));
  client.ws.ping();
  return withDeadline(pong, 'the pong after the packet');
}

describe('attachment bounds (--max-payload per packet, --attachment-timeout)', () => {
  it('closes a connection whose packet never gets its last attachment once the deadline passes, and releases what it held', async () => {
    const { srv, hits, stillServed } = await withBystander({ attachmentTimeout: 300 });
    const before = arrayBuffersAfterGc();
    const attackers = await Promise.all(Array.from({ length: 20 }, () => rawClient(srv.url)));
    // 9 × 100 KB each: under the payload limit in all, so only the deadline can end it.
    for (const attacker of attackers) sendAllButLast(attacker, 100_000);
    await stillServed();
    for (const attacker of attackers) await withDeadline(attacker.closed, 'the close of a connection with a late attachment');
    // 20 × 900 KB were held until the cut; the bound is noise, not one connection's attachments.
    const held = arrayBuffersAfterGc() - before;
    expect(held, `array buffers after the cut: ${held} bytes more`).to.be.below(900_000);
    const cuts = hits.filter((hit) => hit.limit === 'attachments');
    expect(cuts).to.have.lengthOf(20);
    expect(cuts[0]).to.deep.include({ action: 'disconnected', address: '127.0.0.1' });
    expect(srv.app.io.of('/layout').sockets.size).to.equal(1);
    await stillServed();
  });

  it('closes a connection at once when its packet\u2019s attachments add up to more than --max-payload', async () => {
    // No deadline: only the size can end it.
    const { srv, hits, stillServed } = await withBystander({ attachmentTimeout: 0, maxPayload: 1_000_000 });
    const before = arrayBuffersAfterGc();
    const attacker = await rawClient(srv.url);
    attacker.send(binaryNotify(2));
    attacker.send(Buffer.alloc(600_000, 1));
    attacker.send(Buffer.alloc(600_000, 2));
    await withDeadline(attacker.closed, 'the close of the attacker');
    expect(arrayBuffersAfterGc() - before).to.be.below(600_000);
    expect(hits.filter((hit) => hit.limit === 'attachments')).to.have.lengthOf(1);
    await stillServed();
  });

  it('holds every attachment of a connection that stays under both bounds, and delivers its packet', async () => {
    const access = parseSitesFile({ forwarding: [{ namespace: '/sharedsocket' }] }, 'test', {});
    const srv = await startServer({ access, attachmentTimeout: 5_000 });
    const a = await srv.connect('/sharedsocket');
    const b = await srv.connect('/sharedsocket');
    const drawn = next<Buffer>(b, 'blob');
    // Two attachments of 400 KB: 800 KB in all, under the 1 MB payload limit.
    expect(await ack(a, 'blob', Buffer.alloc(400_000, 7), Buffer.alloc(400_000, 8))).to.deep.equal({ ok: true });
    const first = await drawn;
    expect(Buffer.isBuffer(first) && first.length === 400_000 && first[0] === 7).to.equal(true);
  });

  it('closes each of 20 connections at the second of 10 announced attachments of 990 KB, names its session in the hit and counts it in the metric', async () => {
    // No deadline, and each attacker waits after its second attachment: only the size can end it, there.
    const { srv, hits, stillServed } = await withBystander({ attachmentTimeout: 0 });
    const attachment = Buffer.alloc(990_000, 1);
    const before = arrayBuffersAfterGc();
    const sids: string[] = [];
    for (let i = 0; i < 20; i++) {
      const attacker = await rawClient(srv.url);
      attacker.send(binaryNotify(10));
      attacker.send(attachment);
      attacker.send(attachment);
      await withDeadline(attacker.closed, `the close of attacker #${i}`);
      sids.push(attacker.sid);
    }
    expect(arrayBuffersAfterGc() - before, 'array buffers after the cuts').to.be.below(990_000);
    expect(hits.map((hit) => hit.socketId)).to.deep.equal(sids);
    for (const hit of hits) expect(hit).to.deep.include({ limit: 'attachments', action: 'disconnected', address: '127.0.0.1' });
    const metrics = await request(`${srv.url}/metrics`);
    expect(metrics.body).to.include('realtime_rooms_limit_hits_total{limit="attachments",action="disconnected"} 20');
    await stillServed();
  });

  for (const { what, options, attachment } of [
    { what: 'misses an attachment past the deadline', options: { attachmentTimeout: 300 }, attachment: 100_000 },
    { what: 'POSTs attachments one by one past --max-payload', options: { attachmentTimeout: 0 }, attachment: 600_000 },
  ]) {
    it(`closes a long-polling session whose packet ${what}`, async () => {
      const { srv, hits, stillServed } = await withBystander(options);
      const attacker = await pollingSession(srv.url, 4, 'elsewhere');
      const base64 = `b${Buffer.alloc(attachment, 1).toString('base64')}`;
      // Two POSTs: a long-polling body is bounded by --max-payload too, base64 and all.
      await attacker.post([binaryNotify(3), base64]);
      await attacker.post([base64]);
      await attacker.closed();
      expect(hits.map((hit) => [hit.limit, hit.socketId])).to.deep.equal([['attachments', attacker.sid]]);
      expect(srv.app.io.of('/layout').sockets.size).to.equal(1);
      await stillServed();
    });
  }

  it('stops the deadline when the packet completes, and when its connection closes first', async () => {
    const { srv, hits } = await withBystander({ attachmentTimeout: 300 });
    const complete = await rawClient(srv.url);
    complete.send(binaryNotify(2));
    complete.send(Buffer.alloc(10, 1));
    complete.send(Buffer.alloc(10, 2));
    await rawRoundTrip(complete, 1);
    const gone = await rawClient(srv.url);
    gone.send(binaryNotify(2));
    gone.send(Buffer.alloc(10, 1));
    await readByServer(gone);
    const goneOnServer = srv.serverDisconnect('/layout', layoutSocketId(gone));
    gone.ws.terminate();
    // Socket.IO destroys the decoder in the call that disconnects the socket.
    await goneOnServer;
    // Timers of one duration fire in the order they were set: had either deadline above been left
    // running, it would have cut its connection off (and been reported) before this one.
    const late = await rawClient(srv.url);
    late.send(binaryNotify(2));
    late.send(Buffer.alloc(10, 1));
    await withDeadline(late.closed, 'the close of the late packet');
    expect(hits.map((hit) => hit.socketId)).to.deep.equal([late.sid]);
    await rawRoundTrip(complete, 2);
  });

  for (const transport of ['websocket', 'polling'] as const) {
    it(`delivers NOTIFYs of socket.io-client 4 (${transport}) carrying exactly --max-payload of binary, and such packets one after the other`, async () => {
      // A deadline no loaded machine reaches between a header and its attachments: this proves delivery.
      const { srv, hits } = await withBystander({ attachmentTimeout: DEADLINE_MS });
      const sender = await srv.connect('/layout', { transports: [transport] });
      const receiver = await srv.connect('/layout');
      await ack(receiver, 'JOIN', { room: 'r', name: 'R' });
      const parts = [Buffer.alloc(600_000, 1), Buffer.alloc(DEFAULT_OPTIONS.maxPayload - 600_000, 2)];
      for (let i = 0; i < 3; i++) {
        const heard = next<{ message: Buffer[] }>(receiver, 'EVENT');
        expect(await ack(sender, 'NOTIFY', { room: 'r', message: parts })).to.deep.equal({ ok: true });
        const { message } = await heard;
        expect(message).to.have.lengthOf(2);
        expect(Buffer.concat(message).equals(Buffer.concat(parts)), `NOTIFY #${i} delivered as sent`).to.equal(true);
      }
      expect(hits).to.deep.equal([]);
    });
  }

  it('delivers a NOTIFY carrying binary from socket.io-client 2.x', async () => {
    // socket.io-client 2.x sends the 500 KB attachment as a frame of its own: a busy machine may take
    // longer than a short deadline between the two, and this proves delivery, not the deadline.
    const { srv, hits } = await withBystander({ attachmentTimeout: DEADLINE_MS });
    const legacy = await srv.connectLegacy('/layout', { transports: ['websocket'] });
    const receiver = await srv.connect('/layout');
    await ack(receiver, 'JOIN', { room: 'r', name: 'R' });
    const sent = Buffer.alloc(500_000, 7);
    const heard = next<{ message: Buffer }>(receiver, 'EVENT');
    expect(await ack(legacy, 'NOTIFY', { room: 'r', message: sent })).to.deep.equal({ ok: true });
    expect((await heard).message.equals(sent)).to.equal(true);
    expect(hits).to.deep.equal([]);
  });
});
