import { expect } from 'chai';
import { badRequest, expectFailure } from '../support/reply.js';
import { startServer } from '../support/server.js';
import { ack, barrier, collect, inOrder, next, settle, silent, type EventSocket } from '../support/wait.js';

const ns = '/trigger';

/** Each broadcast request and the event it produces at the other members. */
const broadcasts = [
  ['BROADCAST_EVENTS', 'EVENTS'],
  ['BROADCAST_UPDATES', 'UPDATES'],
  ['BROADCAST_STATUS', 'STATUS'],
] as const;

const OK = { ok: true };

/** Every relayed event `socket` receives from now on, tagged with its name, in arrival order. */
function collectAll(socket: EventSocket): [string, unknown][] {
  return inOrder(
    socket,
    broadcasts.map(([, event]) => event),
  );
}

describe('/trigger namespace', () => {
  describe('JOIN', () => {
    // The protocol's bare string, a JSON string of it (legacy clients stringify every payload) and the
    // object form the other namespaces use all name the same room.
    const forms: [string, unknown][] = [
      ['a bare string', 'room-1'],
      ['a JSON string of the room', JSON.stringify('room-1')],
      ['an object {room}', { room: 'room-1' }],
      ['a JSON string of {room}', JSON.stringify({ room: 'room-1' })],
    ];
    for (const [form, payload] of forms) {
      it(`joins the room given as ${form} and acks { ok: true }`, async () => {
        const srv = await startServer();
        const [a, b] = await Promise.all([srv.connect(ns), srv.connect(ns)]);
        expect(await ack(b, 'JOIN', payload)).to.deep.equal(OK);
        const event = next(b, 'EVENTS');
        expect(await ack(a, 'BROADCAST_EVENTS', 'room-1', { n: 1 })).to.deep.equal(OK);
        expect(await event).to.deep.equal({ n: 1 });
      });
    }

    it('takes a room that merely starts with a quote or brace as a plain name', async () => {
      const srv = await startServer();
      const [a, b] = await Promise.all([srv.connect(ns), srv.connect(ns)]);
      expect(await ack(b, 'JOIN', '{not json')).to.deep.equal(OK);
      const event = next(b, 'STATUS');
      expect(await ack(a, 'BROADCAST_STATUS', '{not json', 'x')).to.deep.equal(OK);
      expect(await event).to.equal('x');
    });

    it('tells no one about a join', async () => {
      const srv = await startServer();
      const [a, b] = await Promise.all([srv.connect(ns), srv.connect(ns)]);
      await ack(b, 'JOIN', 'r');
      const atB = collectAll(b);
      expect(await ack(a, 'JOIN', 'r')).to.deep.equal(OK);
      await barrier(b);
      expect(atB).to.deep.equal([]);
    });

    it('rejects a missing room with BAD_REQUEST', async () => {
      const srv = await startServer();
      const a = await srv.connect(ns);
      expect(await ack(a, 'JOIN')).to.deep.equal(badRequest('room is required'));
      expect(await ack(a, 'JOIN', {})).to.deep.equal(badRequest('room is required'));
    });

    it('does not coerce a number (or null) to a room name', async () => {
      const srv = await startServer();
      const [a, b] = await Promise.all([srv.connect(ns), srv.connect(ns)]);
      for (const room of [42, { room: 42 }, JSON.stringify({ room: 42 }), null]) {
        expect(await ack(a, 'JOIN', room), JSON.stringify(room)).to.deep.equal(badRequest('room must be string'));
      }
      // Had either request joined room "42", this would reach a.
      await silent(a, 'EVENTS', () => ack(b, 'BROADCAST_EVENTS', '42', 'm'));
    });

    it('rejects an empty room and a room longer than maxIdLength', async () => {
      const srv = await startServer({ maxIdLength: 8 });
      const [a, b] = await Promise.all([srv.connect(ns), srv.connect(ns)]);
      for (const room of ['', '123456789']) {
        expectFailure(await ack(a, 'JOIN', room), 'BAD_REQUEST', /^room must not have (fewer|more) than/, room);
      }
      expect(await ack(a, 'JOIN', '12345678')).to.deep.equal(OK);
      await silent(a, 'EVENTS', () => ack(b, 'BROADCAST_EVENTS', '123456789', 'm'));
    });

    it('fails with LIMIT past the per-socket room cap, and a re-join or a LEAVE makes room', async () => {
      const srv = await startServer({ maxRoomsPerSocket: 2 });
      const [a, b] = await Promise.all([srv.connect(ns), srv.connect(ns)]);
      expect(await ack(a, 'JOIN', 'r1')).to.deep.equal(OK);
      expect(await ack(a, 'JOIN', 'r2')).to.deep.equal(OK);
      expectFailure(await ack(a, 'JOIN', 'r3'), 'LIMIT', /2/);
      // The failed JOIN joined nothing.
      await silent(a, 'EVENTS', () => ack(b, 'BROADCAST_EVENTS', 'r3', 'm'));
      // Re-joining a room it is already in is not a new room.
      expect(await ack(a, 'JOIN', 'r1')).to.deep.equal(OK);
      expect(await ack(a, 'LEAVE', 'r1')).to.deep.equal(OK);
      expect(await ack(a, 'JOIN', 'r3')).to.deep.equal(OK);
      const event = next(a, 'EVENTS');
      await ack(b, 'BROADCAST_EVENTS', 'r3', 'now');
      expect(await event).to.equal('now');
    });
  });

  describe('LEAVE', () => {
    it('really leaves the room (the original never did), acks { ok: true } and tells no one', async () => {
      const srv = await startServer();
      const [a, b, c] = await Promise.all([srv.connect(ns), srv.connect(ns), srv.connect(ns)]);
      await ack(a, 'JOIN', 'r');
      await ack(b, 'JOIN', 'r');
      const atB = collectAll(b);
      expect(await ack(a, 'LEAVE', 'r')).to.deep.equal(OK);
      await barrier(b);
      expect(atB).to.deep.equal([]);
      const atA = collectAll(a);
      const event = next(b, 'UPDATES');
      await ack(c, 'BROADCAST_EVENTS', 'r', 1);
      await ack(c, 'BROADCAST_UPDATES', 'r', 2);
      await ack(c, 'BROADCAST_STATUS', 'r', 3);
      expect(await event).to.equal(2);
      await barrier(a);
      expect(atA).to.deep.equal([]);
    });

    it('leaves only the named room', async () => {
      const srv = await startServer();
      const [a, b] = await Promise.all([srv.connect(ns), srv.connect(ns)]);
      await ack(a, 'JOIN', 'keep');
      await ack(a, 'JOIN', 'drop');
      await ack(a, 'LEAVE', 'drop');
      const received = collect(a, 'EVENTS');
      await ack(b, 'BROADCAST_EVENTS', 'drop', 'dropped');
      await ack(b, 'BROADCAST_EVENTS', 'keep', 'kept');
      await barrier(a);
      expect(received).to.deep.equal(['kept']);
    });

    for (const [form, payload] of [
      ['a JSON string of the room', JSON.stringify('r')],
      ['an object {room}', { room: 'r' }],
    ] as const) {
      it(`leaves the room given as ${form}`, async () => {
        const srv = await startServer();
        const [a, b] = await Promise.all([srv.connect(ns), srv.connect(ns)]);
        await ack(a, 'JOIN', 'r');
        expect(await ack(a, 'LEAVE', payload)).to.deep.equal(OK);
        await silent(a, 'EVENTS', () => ack(b, 'BROADCAST_EVENTS', 'r', 'm'));
      });
    }

    it('is not an error when not a member', async () => {
      const srv = await startServer();
      const a = await srv.connect(ns);
      expect(await ack(a, 'LEAVE', 'never-joined')).to.deep.equal(OK);
    });

    it('validates the room like JOIN', async () => {
      const srv = await startServer({ maxIdLength: 8 });
      const a = await srv.connect(ns);
      expect(await ack(a, 'LEAVE')).to.deep.equal(badRequest('room is required'));
      expect(await ack(a, 'LEAVE', 7)).to.deep.equal(badRequest('room must be string'));
      for (const room of ['', '123456789']) {
        expectFailure(await ack(a, 'LEAVE', room), 'BAD_REQUEST', /^room must not have (fewer|more) than/, room);
      }
    });
  });

  for (const [request, event] of broadcasts) {
    describe(request, () => {
      it(`delivers ${event} with the data to every other member, not to the sender, and acks { ok: true }`, async () => {
        const srv = await startServer();
        const [a, b, c] = await Promise.all([srv.connect(ns), srv.connect(ns), srv.connect(ns)]);
        await Promise.all([a, b, c].map((s) => ack(s, 'JOIN', 'r')));
        const atB = collectAll(b);
        const atC = collectAll(c);
        const atA = collectAll(a);
        const data = { nested: [1, 'two', null, { three: true }] };
        expect(await ack(a, request, 'r', data)).to.deep.equal(OK);
        await settle(a, b, c);
        expect(atB).to.deep.equal([[event, data]]);
        expect(atC).to.deep.equal([[event, data]]);
        expect(atA).to.deep.equal([]);
      });

      it('passes every kind of data through unchanged, JSON-looking strings included', async () => {
        const srv = await startServer();
        const [a, b] = await Promise.all([srv.connect(ns), srv.connect(ns)]);
        await ack(b, 'JOIN', 'r');
        const received = collect(b, event);
        const values = ['a string', '{"looks":"like json"}', '"quoted"', '', 42, 0, -1.5, false, true, null, [], {}, { deep: { a: [1] } }];
        for (const data of values) expect(await ack(a, request, 'r', data)).to.deep.equal(OK);
        await barrier(b);
        expect(received).to.deep.equal(values);
      });

      it('accepts a sender that is not a member', async () => {
        const srv = await startServer();
        const [outsider, b] = await Promise.all([srv.connect(ns), srv.connect(ns)]);
        await ack(b, 'JOIN', 'r');
        const received = next(b, event);
        expect(await ack(outsider, request, 'r', 'from outside')).to.deep.equal(OK);
        expect(await received).to.equal('from outside');
      });

      it('does not reach members of other rooms', async () => {
        const srv = await startServer();
        const [a, b, c] = await Promise.all([srv.connect(ns), srv.connect(ns), srv.connect(ns)]);
        await ack(b, 'JOIN', 'other');
        await ack(c, 'JOIN', 'r');
        const atB = collectAll(b);
        const atC = next(c, event);
        await ack(a, request, 'r', 'm');
        expect(await atC).to.equal('m');
        await barrier(b);
        expect(atB).to.deep.equal([]);
      });

      it('keeps rooms apart from socket ids: a room named like a socket id does not reach that socket', async () => {
        const srv = await startServer();
        const [a, b] = await Promise.all([srv.connect(ns), srv.connect(ns)]);
        await silent(b, event, () => ack(a, request, b.id, 'direct?'));
      });

      it('takes the room as a JSON string or as {room} too', async () => {
        const srv = await startServer();
        const [a, b] = await Promise.all([srv.connect(ns), srv.connect(ns)]);
        await ack(b, 'JOIN', 'r');
        const received = collect(b, event);
        expect(await ack(a, request, JSON.stringify('r'), 1)).to.deep.equal(OK);
        expect(await ack(a, request, { room: 'r' }, 2)).to.deep.equal(OK);
        await barrier(b);
        expect(received).to.deep.equal([1, 2]);
      });

      it('requires data (null is data) and sends nothing without it', async () => {
        const srv = await startServer();
        const [a, b] = await Promise.all([srv.connect(ns), srv.connect(ns)]);
        await ack(b, 'JOIN', 'r');
        await silent(b, event, async () => expect(await ack(a, request, 'r')).to.deep.equal(badRequest('data is required')));
        const received = next(b, event);
        expect(await ack(a, request, 'r', null)).to.deep.equal(OK);
        expect(await received).to.equal(null);
      });

      it('rejects a missing, non-string, empty or over-long room with BAD_REQUEST', async () => {
        const srv = await startServer({ maxIdLength: 8 });
        const [a, b] = await Promise.all([srv.connect(ns), srv.connect(ns)]);
        await ack(b, 'JOIN', '12345678');
        expect(await ack(a, request)).to.deep.equal(badRequest('room is required'));
        await silent(b, event, async () => {
          for (const room of [12345678, null, { room: 12345678 }]) {
            expect(await ack(a, request, room, 'm'), JSON.stringify(room)).to.deep.equal(badRequest('room must be string'));
          }
          for (const room of ['', '123456789']) {
            expectFailure(await ack(a, request, room, 'm'), 'BAD_REQUEST', /^room must not have (fewer|more) than/, room);
          }
        });
      });
    });
  }

  describe('errors without an ack', () => {
    it('emits ERROR {event, code, message} to the requester alone and keeps the connection', async () => {
      const srv = await startServer();
      const [a, b] = await Promise.all([srv.connect(ns), srv.connect(ns)]);
      await ack(b, 'JOIN', 'r');
      const errorsAtB = collect(b, 'ERROR');
      let error = next(a, 'ERROR');
      a.emit('JOIN');
      expect(await error).to.deep.equal({ event: 'JOIN', code: 'BAD_REQUEST', message: 'room is required' });
      error = next(a, 'ERROR');
      a.emit('BROADCAST_EVENTS', 'r');
      expect(await error).to.deep.equal({ event: 'BROADCAST_EVENTS', code: 'BAD_REQUEST', message: 'data is required' });
      error = next(a, 'ERROR');
      a.emit('LEAVE', 5);
      expect(await error).to.deep.equal({ event: 'LEAVE', code: 'BAD_REQUEST', message: 'room must be string' });
      await barrier(b);
      expect(errorsAtB).to.deep.equal([]);
      // Still connected and served.
      expect(a.connected).to.equal(true);
      expect(await ack(a, 'JOIN', 'r')).to.deep.equal(OK);
    });

    it('emits ERROR with code LIMIT past the room cap', async () => {
      const srv = await startServer({ maxRoomsPerSocket: 1 });
      const a = await srv.connect(ns);
      await ack(a, 'JOIN', 'r1');
      const error = next<{ event: string; code: string; message: unknown }>(a, 'ERROR');
      a.emit('JOIN', 'r2');
      const received = await error;
      expect(received).to.include({ event: 'JOIN', code: 'LIMIT' });
      expect(received.message).to.be.a('string');
    });

    it('emits no ERROR and no event for a successful request without an ack', async () => {
      const srv = await startServer();
      const [a, b] = await Promise.all([srv.connect(ns), srv.connect(ns)]);
      await ack(b, 'JOIN', 'r');
      const received = next(b, 'STATUS');
      await silent(a, 'ERROR', async () => {
        a.emit('JOIN', 'r');
        a.emit('BROADCAST_STATUS', 'r', { s: 1 });
        expect(await received).to.deep.equal({ s: 1 });
        a.emit('LEAVE', 'r');
      });
    });

    it('ignores unknown events without an ack', async () => {
      const srv = await startServer();
      const a = await srv.connect(ns);
      await silent(a, 'ERROR', async () => {
        a.emit('BROADCAST', 'r', 'm');
        a.emit('EVENTS', 'm');
        return Promise.resolve();
      });
    });
  });

  describe('legacy socket.io-client 2.x', () => {
    it('joins, broadcasts and receives with string payloads', async () => {
      const srv = await startServer();
      const [legacy, modern] = await Promise.all([srv.connectLegacy(ns), srv.connect(ns)]);
      expect(await ack(legacy, 'JOIN', 'r')).to.deep.equal(OK);
      await ack(modern, 'JOIN', 'r');
      const atLegacy = next(legacy, 'EVENTS');
      await ack(modern, 'BROADCAST_EVENTS', 'r', { from: 'v4' });
      expect(await atLegacy).to.deep.equal({ from: 'v4' });
      // A legacy timeline service stringifies its data: it arrives as the same string.
      const atModern = next(modern, 'UPDATES');
      legacy.emit('BROADCAST_UPDATES', 'r', JSON.stringify({ from: 'v2' }));
      expect(await atModern).to.equal('{"from":"v2"}');
      expect(await ack(legacy, 'LEAVE', 'r')).to.deep.equal(OK);
      await silent(legacy, 'EVENTS', () => ack(modern, 'BROADCAST_EVENTS', 'r', 'after leave'));
    });
  });
});
