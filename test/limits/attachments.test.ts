import { expect } from 'chai';
import type { LimitHit } from '../../lib/core/types.js';
import { parseSitesFile } from '../../lib/config/sites-file.js';
import { arrayBuffersAfterGc } from '../support/gc.js';
import { rawClient, type RawClient } from '../support/raw-engine.js';
import { startServer, type TestServer } from '../support/server.js';
import { ack, next, withDeadline } from '../support/wait.js';
import type { ServiceOptions } from '../../lib/config/options.js';

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
});
