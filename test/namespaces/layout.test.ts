import { expect } from 'chai';
import { expectFailure } from '../support/reply.js';
import { startServer } from '../support/server.js';
import { ack, barrier, collect, next, silent } from '../support/wait.js';

// /layout and /bus share their handlers; every behaviour is checked on both namespaces.
for (const ns of ['/layout', '/bus']) {
  describe(`${ns} namespace`, () => {
    describe('JOIN', () => {
      it('acks { ok: true } and tells no one else', async () => {
        const srv = await startServer();
        const [a, b] = await Promise.all([srv.connect(ns), srv.connect(ns)]);
        expect(await ack(b, 'JOIN', { room: 'r', name: 'B' })).to.deep.equal({ ok: true });
        await silent(b, 'EVENT', () => ack(a, 'JOIN', { room: 'r', name: 'A' }));
        await silent(b, 'CLIENTS');
      });

      it('accepts the payload as a JSON string, as legacy clients send it', async () => {
        const srv = await startServer();
        const a = await srv.connect(ns);
        expect(await ack(a, 'JOIN', JSON.stringify({ room: 'r', name: 'A' }))).to.deep.equal({ ok: true });
        expect(await ack(a, 'CLIENTS', JSON.stringify({ room: 'r' }))).to.deep.equal({ ok: true, room: 'r', clients: ['A'] });
      });

      it('overwrites the display name on a later JOIN', async () => {
        const srv = await startServer();
        const [a, b] = await Promise.all([srv.connect(ns), srv.connect(ns)]);
        await ack(a, 'JOIN', { room: 'r1', name: 'first' });
        await ack(a, 'JOIN', { room: 'r2', name: 'second' });
        await ack(b, 'JOIN', { room: 'r1', name: 'B' });
        const event = next(b, 'EVENT');
        await ack(a, 'NOTIFY', { room: 'r1', message: 1 });
        expect(await event).to.deep.equal({ sender: 'second', room: 'r1', message: 1 });
        expect(await ack(b, 'CLIENTS', { room: 'r1' })).to.deep.include({ clients: ['second', 'B'] });
      });

      it('rejects a missing room instead of joining a room called "undefined"', async () => {
        const srv = await startServer();
        const a = await srv.connect(ns);
        const res = await ack(a, 'JOIN', { name: 'A' });
        expect(res).to.deep.equal({ ok: false, error: { code: 'BAD_REQUEST', message: 'room is required' } });
        expect(await ack(a, 'CLIENTS', { room: 'undefined' })).to.deep.include({ clients: [] });
      });

      it('answers a missing name with BAD_REQUEST instead of leaving the ack unanswered', async () => {
        const srv = await startServer();
        const a = await srv.connect(ns);
        expect(await ack(a, 'JOIN', { room: 'r' })).to.deep.equal({
          ok: false,
          error: { code: 'BAD_REQUEST', message: 'name is required' },
        });
        expect(await ack(a, 'CLIENTS', { room: 'r' })).to.deep.include({ clients: [] });
      });

      it(`fails with LIMIT past the per-socket room cap and keeps the socket's state`, async () => {
        const srv = await startServer({ maxRoomsPerSocket: 3 });
        const a = await srv.connect(ns);
        for (const room of ['r1', 'r2', 'r3']) expect(await ack(a, 'JOIN', { room, name: 'A' })).to.deep.equal({ ok: true });
        expectFailure(await ack(a, 'JOIN', { room: 'r4', name: 'renamed' }), 'LIMIT');
        // Re-joining a room it is already in is not a new room.
        expect(await ack(a, 'JOIN', { room: 'r1', name: 'A' })).to.deep.equal({ ok: true });
        expect(await ack(a, 'CLIENTS', { room: 'r4' })).to.deep.include({ clients: [] });
        expect(await ack(a, 'CLIENTS', { room: 'r1' })).to.deep.include({ clients: ['A'] });
        await ack(a, 'LEAVE', { room: 'r2' });
        expect(await ack(a, 'JOIN', { room: 'r4', name: 'A' })).to.deep.equal({ ok: true });
      });

      it('keeps rooms apart from socket ids: a room named like a socket id does not reach that socket', async () => {
        const srv = await startServer();
        const [a, b] = await Promise.all([srv.connect(ns), srv.connect(ns)]);
        await silent(b, 'EVENT', () => ack(a, 'NOTIFY', { room: b.id, message: 'direct?' }));
      });
    });

    describe('NOTIFY', () => {
      it('delivers EVENT {sender, room, message} to every other member, not to the sender', async () => {
        const srv = await startServer();
        const [a, b, c] = await Promise.all([srv.connect(ns), srv.connect(ns), srv.connect(ns)]);
        await Promise.all([a, b, c].map((s, i) => ack(s, 'JOIN', { room: 'r', name: `n${i}` })));
        const atB = next(b, 'EVENT');
        const atC = next(c, 'EVENT');
        const message = { nested: [1, 'two', null, { three: true }] };
        await silent(a, 'EVENT', async () => expect(await ack(a, 'NOTIFY', { room: 'r', message })).to.deep.equal({ ok: true }));
        expect(await atB).to.deep.equal({ sender: 'n0', room: 'r', message });
        expect(await atC).to.deep.equal({ sender: 'n0', room: 'r', message });
      });

      it('passes every kind of JSON message through unchanged', async () => {
        const srv = await startServer();
        const [a, b] = await Promise.all([srv.connect(ns), srv.connect(ns)]);
        await ack(b, 'JOIN', { room: 'r', name: 'B' });
        const received = collect<{ message: unknown }>(b, 'EVENT');
        const messages = ['a string', '{"looks":"like json"}', 42, 0, false, null, [], {}, { deep: { a: [1] } }];
        for (const message of messages) await ack(a, 'NOTIFY', { room: 'r', message });
        await barrier(b);
        expect(received.map((e) => e.message)).to.deep.equal(messages);
      });

      it('ignores a sender field sent by the client and says "unknown" for a sender that never JOINed', async () => {
        const srv = await startServer();
        const [a, b] = await Promise.all([srv.connect(ns), srv.connect(ns)]);
        await ack(b, 'JOIN', { room: 'r', name: 'B' });
        const event = next(b, 'EVENT');
        await ack(a, 'NOTIFY', { room: 'r', message: 'm', sender: 'spoofed' });
        expect(await event).to.deep.equal({ sender: 'unknown', room: 'r', message: 'm' });
      });

      it('does not reach members of other rooms or sockets that left', async () => {
        const srv = await startServer();
        const [a, b, c] = await Promise.all([srv.connect(ns), srv.connect(ns), srv.connect(ns)]);
        await ack(b, 'JOIN', { room: 'other', name: 'B' });
        await ack(c, 'JOIN', { room: 'r', name: 'C' });
        await ack(c, 'LEAVE', { room: 'r' });
        await silent(b, 'EVENT', () => ack(a, 'NOTIFY', { room: 'r', message: 1 }));
        await silent(c, 'EVENT');
      });

      it('requires a message field (null is a message)', async () => {
        const srv = await startServer();
        const [a, b] = await Promise.all([srv.connect(ns), srv.connect(ns)]);
        await ack(b, 'JOIN', { room: 'r', name: 'B' });
        expect(await ack(a, 'NOTIFY', { room: 'r' })).to.deep.equal({
          ok: false,
          error: { code: 'BAD_REQUEST', message: 'message is required' },
        });
        const event = next(b, 'EVENT');
        expect(await ack(a, 'NOTIFY', { room: 'r', message: null })).to.deep.equal({ ok: true });
        expect(await event).to.deep.equal({ sender: 'unknown', room: 'r', message: null });
      });
    });

    describe('LEAVE', () => {
      it('leaves the room, keeps the name, and is not an error when not a member', async () => {
        const srv = await startServer();
        const [a, b] = await Promise.all([srv.connect(ns), srv.connect(ns)]);
        await ack(a, 'JOIN', { room: 'r', name: 'A' });
        await ack(b, 'JOIN', { room: 'r', name: 'B' });
        await silent(b, 'EVENT', async () => expect(await ack(a, 'LEAVE', { room: 'r' })).to.deep.equal({ ok: true }));
        expect(await ack(a, 'LEAVE', { room: 'never-joined' })).to.deep.equal({ ok: true });
        expect(await ack(b, 'CLIENTS', { room: 'r' })).to.deep.include({ clients: ['B'] });
        const event = next(b, 'EVENT');
        await ack(a, 'NOTIFY', { room: 'r', message: 'still named' });
        expect(await event).to.include({ sender: 'A' });
      });
    });

    describe('CLIENTS', () => {
      it('sends CLIENTS {room, clients} to the requester alone, in join order, and acks the same', async () => {
        const srv = await startServer();
        const [a, b, c, outsider] = await Promise.all([srv.connect(ns), srv.connect(ns), srv.connect(ns), srv.connect(ns)]);
        await ack(c, 'JOIN', { room: 'r', name: 'C' });
        await ack(a, 'JOIN', { room: 'r', name: 'A' });
        await ack(b, 'JOIN', { room: 'r', name: 'B' });
        const event = next(outsider, 'CLIENTS');
        const res = await ack(outsider, 'CLIENTS', { room: 'r' });
        expect(res).to.deep.equal({ ok: true, room: 'r', clients: ['C', 'A', 'B'] });
        expect(await event).to.deep.equal({ room: 'r', clients: ['C', 'A', 'B'] });
        for (const member of [a, b, c]) await silent(member, 'CLIENTS');
      });

      it('lists current members only: sockets that left or disconnected are gone', async () => {
        const srv = await startServer();
        const [a, b, c] = await Promise.all([srv.connect(ns), srv.connect(ns), srv.connect(ns)]);
        for (const [s, name] of [
          [a, 'A'],
          [b, 'B'],
          [c, 'C'],
        ] as const)
          await ack(s, 'JOIN', { room: 'r', name });
        await ack(b, 'LEAVE', { room: 'r' });
        const gone = srv.serverDisconnect(ns, c.id);
        c.disconnect();
        await gone;
        expect(await ack(a, 'CLIENTS', { room: 'r' })).to.deep.include({ clients: ['A'] });
        expect(await ack(a, 'CLIENTS', { room: 'empty' })).to.deep.equal({ ok: true, room: 'empty', clients: [] });
      });
    });
  });
}

describe('/layout and /bus isolation', () => {
  it('keeps rooms and names apart between the two namespaces', async () => {
    const srv = await startServer();
    const [layout, bus] = await Promise.all([srv.connect('/layout'), srv.connect('/bus')]);
    await ack(layout, 'JOIN', { room: 'shared', name: 'L' });
    await ack(bus, 'JOIN', { room: 'shared', name: 'B' });
    expect(await ack(layout, 'CLIENTS', { room: 'shared' })).to.deep.include({ clients: ['L'] });
    await silent(bus, 'EVENT', () => ack(layout, 'NOTIFY', { room: 'shared', message: 1 }));
  });
});
