import { expect } from 'chai';
import type { Socket } from 'socket.io-client';
import type { ErrorCode } from '../../protocol/index.js';
import { DEFAULT_OPTIONS, type ServiceOptions } from '../../lib/config/options.js';
import { startServer, type TestServer, WITHOUT_RECOVERY } from '../support/server.js';
import { ack, barrier, next, recordAll, settle, silent, type Recording } from '../support/wait.js';

// Bad requests of every kind, on every namespace: each one is answered exactly once (its ack, or one
// ERROR to the sender alone), reaches no one else, and leaves the sender connected and served.

/** The id length limit the fixtures configure, so that over-long ids stay short in the tests. */
const MAX_ID = 16;
const LONGEST_ID = 'x'.repeat(MAX_ID);
const TOO_LONG_ID = 'x'.repeat(MAX_ID + 1);
/** Fixture clients skip long-polling: the transports are covered by the payload-limit and legacy tests. */
const WS = { transports: ['websocket'] };

/**
 * Asserts that none of `sockets` receives any event because of `action`. `action` must only resolve once
 * the server has handled the request under test (an ack or ERROR came back, or a barrier on the sender);
 * the barrier on each socket then comes after anything the server sent it meanwhile.
 */
async function nothingAt(sockets: readonly Socket[], action: () => Promise<unknown>): Promise<void> {
  const recorders = sockets.map(recordAll);
  try {
    await action();
    await settle(...sockets);
  } finally {
    for (const recorder of recorders) recorder.stop();
  }
  recorders.forEach((recorder, i) => expect(recorder.heard, `events at socket #${i}`).to.deep.equal([]));
}

/** Three clients of one namespace: two inside the room (or lobby), one connected but outside. */
interface Clients {
  readonly srv: TestServer;
  /** In the room; sends the bad requests that need membership. */
  readonly member: Socket;
  /** In the room too; never sends anything bad, so it sees whatever a bad request might leak. */
  readonly bystander: Socket;
  /** Connected, in no room; sends the bad JOINs. */
  readonly outsider: Socket;
}

/** The {@link Clients} of a namespace and how to tell that one of them is still served. */
interface Fixture extends Clients {
  /** Proves that `socket` is still connected and served: its next valid request succeeds and has its effect. */
  stillWorks(socket: Socket): Promise<void>;
}

/**
 * Starts a service with ids of at most {@link MAX_ID} characters, connects the three {@link Clients} to `ns`,
 * and puts member (`A`) and bystander (`B`) in the room with `join`.
 */
async function startClients(
  ns: string,
  options: Partial<ServiceOptions>,
  join: (socket: Socket, name: 'A' | 'B') => Promise<unknown>,
): Promise<Clients> {
  const srv = await startServer({ ...WITHOUT_RECOVERY, maxIdLength: MAX_ID, ...options });
  const [member, bystander, outsider] = await Promise.all([srv.connect(ns, WS), srv.connect(ns, WS), srv.connect(ns, WS)]);
  await join(member, 'A');
  await join(bystander, 'B');
  return { srv, member, bystander, outsider };
}

type Sender = 'member' | 'outsider';

/** One bad request and the error it must produce. */
interface BadRequest {
  readonly what: string;
  readonly event: string;
  readonly args: readonly unknown[] | ((fx: Fixture) => readonly unknown[]);
  readonly message: string;
  readonly code?: ErrorCode;
  /** Which fixture socket sends it; `member` unless said otherwise. */
  readonly from?: Sender;
}

/**
 * Sends `bad` once with an ack and once without. With an ack: the ack is `{ ok: false, error }` and no one,
 * the sender included, receives any event. Without: the sender receives exactly one `ERROR {event, code,
 * message}` and nothing else, no one else receives anything. Then the sender is still connected and served.
 */
async function expectRejected(fx: Fixture, bad: BadRequest): Promise<void> {
  const socket = fx[bad.from ?? 'member'];
  const others = [fx.member, fx.bystander, fx.outsider].filter((other) => other !== socket);
  const args = typeof bad.args === 'function' ? bad.args(fx) : bad.args;
  const error = { code: bad.code ?? 'BAD_REQUEST', message: bad.message };

  await nothingAt([socket, ...others], async () =>
    expect(await ack(socket, bad.event, ...args), 'the ack').to.deep.equal({ ok: false, error }),
  );

  const atSender = recordAll(socket);
  try {
    await nothingAt(others, async () => {
      // Waiting for the ERROR itself, not a barrier: an async handler may fail after a later request is answered.
      const reported = next(socket, 'ERROR');
      socket.emit(bad.event, ...args);
      expect(await reported, 'the ERROR event').to.deep.equal({ event: bad.event, ...error });
    });
    await barrier(socket);
  } finally {
    atSender.stop();
  }
  expect(atSender.heard, 'everything the sender received').to.deep.equal([['ERROR', { event: bad.event, ...error }]]);
  expect(socket.connected).to.equal(true);
  await fx.stillWorks(socket);
}

/** Defines one test per bad request. */
function rejects(start: () => Promise<Fixture>, cases: readonly BadRequest[]): void {
  for (const bad of cases) {
    const sender = bad.from === 'outsider' ? ' from a socket outside' : '';
    it(`${bad.event} with ${bad.what}${sender}: ${bad.code ?? 'BAD_REQUEST'} once, to the sender alone, which stays usable`, async () => {
      await expectRejected(await start(), bad);
    });
  }
}

/** Unknown events, with and without an ack, with and without a payload: never forwarded, never an ERROR. */
function ignoresUnknownEvents(start: () => Promise<Fixture>, spoofed: readonly { event: string; args: readonly unknown[] }[]): void {
  const events = [
    { event: 'NOPE', args: [{ room: 'r' }] },
    { event: 'NOPE', args: [] },
    // Names an object would inherit: listener tables must not find anything under them.
    ...['constructor', '__proto__', 'hasOwnProperty', 'toString'].map((event) => ({ event, args: [{ room: 'r' }] })),
    ...spoofed,
  ];
  for (const { event, args } of events) {
    const form = args.length === 0 ? 'without a payload' : `with ${JSON.stringify(args).slice(1, -1)}`;
    it(`unknown event ${event} ${form}: acked BAD_REQUEST with an ack, ignored without; nothing reaches anyone`, async () => {
      const fx = await start();
      const all = [fx.member, fx.bystander, fx.outsider];
      await nothingAt(all, async () =>
        expect(await ack(fx.member, event, ...args)).to.deep.equal({
          ok: false,
          error: { code: 'BAD_REQUEST', message: `unknown event ${JSON.stringify(event)}` },
        }),
      );
      await nothingAt(all, async () => {
        fx.member.emit(event, ...args);
        await barrier(fx.member);
      });
      expect(fx.member.connected).to.equal(true);
      await fx.stillWorks(fx.member);
    });
  }
  it(`an unknown event name over --max-event-name (${DEFAULT_OPTIONS.maxEventNameLength}): acked with the bound, not echoed; ignored without an ack`, async () => {
    const fx = await start();
    const event = 'N'.repeat(100_000);
    const all = [fx.member, fx.bystander, fx.outsider];
    await nothingAt(all, async () =>
      expect(await ack(fx.member, event, { room: 'r' })).to.deep.equal({
        ok: false,
        error: { code: 'BAD_REQUEST', message: `event names are at most ${DEFAULT_OPTIONS.maxEventNameLength} characters, got 100000` },
      }),
    );
    await nothingAt(all, async () => {
      fx.member.emit(event, { room: 'r' });
      await barrier(fx.member);
    });
    await fx.stillWorks(fx.member);
  });
}

/** Asserts that `value` is a plain object whose own `__proto__` key holds `{ polluted: true }` as data. */
function expectProtoKeyAsData(value: unknown): void {
  if (typeof value !== 'object' || value === null) throw new Error(`expected an object, got ${JSON.stringify(value)}`);
  expect(Object.getPrototypeOf(value)).to.equal(Object.prototype);
  expect(Object.getOwnPropertyNames(value)).to.include('__proto__');
  expect(Object.getOwnPropertyDescriptor(value, '__proto__')?.value).to.deep.equal({ polluted: true });
  expect('polluted' in value).to.equal(false);
}

/** The JSON text of a value with prototype-polluting keys (an object literal would set the prototype instead). */
const POLLUTING = '{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}';

// ---------------------------------------------------------------------------------------------------------

for (const ns of ['/layout', '/bus']) {
  describe(`${ns} bad input`, () => {
    async function layoutFixture(options: Partial<ServiceOptions> = {}): Promise<Fixture> {
      const clients = await startClients(ns, options, (socket, name) => ack(socket, 'JOIN', { room: 'r', name }));
      const { member, bystander } = clients;
      return {
        ...clients,
        async stillWorks(socket) {
          const event = next(bystander, 'EVENT');
          expect(await ack(socket, 'NOTIFY', { room: 'r', message: 'after' })).to.deep.equal({ ok: true });
          // The name is unchanged by the failed request, and so is the room.
          expect(await event).to.deep.equal({ sender: socket === member ? 'A' : 'unknown', room: 'r', message: 'after' });
          expect(await ack(socket, 'CLIENTS', { room: 'r' })).to.deep.equal({ ok: true, room: 'r', clients: ['A', 'B'] });
        },
      };
    }
    const start = () => layoutFixture();

    const notJson = '{"room": "r", "name": ';
    const notObject = 'payload must be object';
    describe('JOIN', () => {
      rejects(start, [
        { what: 'an unparseable JSON string', event: 'JOIN', args: [notJson], message: 'payload is a string but not valid JSON' },
        { what: 'a number as payload', event: 'JOIN', args: [5], message: notObject },
        { what: 'a boolean as payload', event: 'JOIN', args: [true], message: notObject },
        { what: 'an array as payload', event: 'JOIN', args: [['r', 'A']], message: notObject },
        { what: 'null as payload', event: 'JOIN', args: [null], message: notObject },
        { what: 'a JSON string of a string', event: 'JOIN', args: ['"r"'], message: notObject },
        { what: 'a JSON string of null', event: 'JOIN', args: ['null'], message: notObject },
        { what: 'a number as room', event: 'JOIN', args: [{ room: 5, name: 'A2' }], message: 'room must be string' },
        { what: 'a number as room in a JSON string', event: 'JOIN', args: ['{"room":5,"name":"A2"}'], message: 'room must be string' },
        { what: 'an object as room', event: 'JOIN', args: [{ room: { id: 'r' }, name: 'A2' }], message: 'room must be string' },
        { what: 'a number as name', event: 'JOIN', args: [{ room: 'r2', name: 7 }], message: 'name must be string' },
        { what: 'neither room nor name', event: 'JOIN', args: [{}], message: 'room, name are required' },
        { what: 'an empty room', event: 'JOIN', args: [{ room: '', name: 'A2' }], message: 'room must not have fewer than 1 characters' },
        { what: 'an empty name', event: 'JOIN', args: [{ room: 'r2', name: '' }], message: 'name must not have fewer than 1 characters' },
        {
          what: 'a room over the length limit',
          event: 'JOIN',
          args: [{ room: TOO_LONG_ID, name: 'A2' }],
          message: `room must not have more than ${MAX_ID} characters`,
        },
        {
          what: 'a name over the length limit',
          event: 'JOIN',
          args: [{ room: 'r2', name: TOO_LONG_ID }],
          message: `name must not have more than ${MAX_ID} characters`,
        },
        {
          what: 'room and name only under a __proto__ key',
          event: 'JOIN',
          args: ['{"__proto__":{"room":"r2","name":"A2"}}'],
          message: 'room, name are required',
        },
        { what: 'no payload at all', event: 'JOIN', args: [], message: 'payload is required' },
      ]);
    });

    describe('LEAVE', () => {
      rejects(start, [
        { what: 'an unparseable JSON string', event: 'LEAVE', args: ['{room'], message: 'payload is a string but not valid JSON' },
        { what: 'a number as payload', event: 'LEAVE', args: [5], message: notObject },
        { what: 'a bare room string', event: 'LEAVE', args: ['r'], message: 'payload is a string but not valid JSON' },
        { what: 'a number as room', event: 'LEAVE', args: [{ room: 5 }], message: 'room must be string' },
        { what: 'no room', event: 'LEAVE', args: [{}], message: 'room is required' },
        { what: 'an empty room', event: 'LEAVE', args: [{ room: '' }], message: 'room must not have fewer than 1 characters' },
        {
          what: 'a room over the length limit',
          event: 'LEAVE',
          args: [{ room: TOO_LONG_ID }],
          message: `room must not have more than ${MAX_ID} characters`,
        },
        { what: 'no payload at all', event: 'LEAVE', args: [], message: 'payload is required' },
      ]);
    });

    describe('NOTIFY', () => {
      rejects(start, [
        {
          what: 'an unparseable JSON string',
          event: 'NOTIFY',
          args: ['{"room":"r","message":'],
          message: 'payload is a string but not valid JSON',
        },
        { what: 'a number as payload', event: 'NOTIFY', args: [5], message: notObject },
        { what: 'an array as payload', event: 'NOTIFY', args: [['r', 'hello']], message: notObject },
        { what: 'null as payload', event: 'NOTIFY', args: [null], message: notObject },
        { what: 'a number as room', event: 'NOTIFY', args: [{ room: 5, message: 1 }], message: 'room must be string' },
        { what: 'no room', event: 'NOTIFY', args: [{ message: 1 }], message: 'room is required' },
        { what: 'no message', event: 'NOTIFY', args: [{ room: 'r' }], message: 'message is required' },
        { what: 'an empty room', event: 'NOTIFY', args: [{ room: '', message: 1 }], message: 'room must not have fewer than 1 characters' },
        {
          what: 'a room over the length limit',
          event: 'NOTIFY',
          args: [{ room: TOO_LONG_ID, message: 1 }],
          message: `room must not have more than ${MAX_ID} characters`,
        },
        { what: 'no payload at all', event: 'NOTIFY', args: [], message: 'payload is required' },
      ]);
    });

    describe('CLIENTS', () => {
      rejects(start, [
        { what: 'an unparseable JSON string', event: 'CLIENTS', args: ['{"room"'], message: 'payload is a string but not valid JSON' },
        { what: 'a boolean as payload', event: 'CLIENTS', args: [false], message: notObject },
        { what: 'a number as room', event: 'CLIENTS', args: [{ room: 5 }], message: 'room must be string' },
        { what: 'no room', event: 'CLIENTS', args: [{}], message: 'room is required' },
        { what: 'an empty room', event: 'CLIENTS', args: [{ room: '' }], message: 'room must not have fewer than 1 characters' },
        {
          what: 'a room over the length limit',
          event: 'CLIENTS',
          args: [{ room: TOO_LONG_ID }],
          message: `room must not have more than ${MAX_ID} characters`,
        },
        { what: 'no payload at all', event: 'CLIENTS', args: [], message: 'payload is required' },
      ]);
    });

    describe('unknown events', () => {
      ignoresUnknownEvents(start, [
        // Names of server-to-client events are not requests: a client cannot inject them into a room.
        { event: 'EVENT', args: [{ sender: 'spoofed', room: 'r', message: 'injected' }] },
        { event: 'join', args: [{ room: 'r2', name: 'lowercase' }] },
      ]);
    });

    describe('identifiers', () => {
      it('does not coerce a number room: the failed JOIN joined no room "5"', async () => {
        const fx = await start();
        expect(await ack(fx.outsider, 'JOIN', { room: 5, name: 'C' })).to.deep.include({ ok: false });
        await silent(fx.outsider, 'EVENT', () => ack(fx.member, 'NOTIFY', { room: '5', message: 'to five' }));
        expect(await ack(fx.member, 'CLIENTS', { room: '5' })).to.deep.equal({ ok: true, room: '5', clients: [] });
      });

      it(`accepts ids of exactly the length limit (${MAX_ID})`, async () => {
        const fx = await start();
        expect(await ack(fx.outsider, 'JOIN', { room: LONGEST_ID, name: LONGEST_ID })).to.deep.equal({ ok: true });
        expect(await ack(fx.member, 'CLIENTS', { room: LONGEST_ID })).to.deep.equal({ ok: true, room: LONGEST_ID, clients: [LONGEST_ID] });
      });
    });

    describe('payload limit', () => {
      const transports: readonly { label: string; transports?: string[] }[] = [
        { label: 'polling upgraded to websocket' },
        { label: 'websocket only', transports: ['websocket'] },
        { label: 'polling only', transports: ['polling'] },
      ];
      for (const { label, transports: only } of transports) {
        it(`disconnects a client (${label}) that sends more than maxPayload; the room's other members see nothing and keep working`, async () => {
          const srv = await startServer({ ...WITHOUT_RECOVERY, maxPayload: 2048 });
          const [big, member, third] = await Promise.all([
            srv.connect(ns, only ? { transports: only } : {}),
            srv.connect(ns),
            srv.connect(ns),
          ]);
          await ack(big, 'JOIN', { room: 'r', name: 'BIG' });
          await ack(member, 'JOIN', { room: 'r', name: 'M' });
          await ack(third, 'JOIN', { room: 'r', name: 'T' });

          // Under the limit, a message gets through: the limit is the payload size, nothing else.
          const small = next(member, 'EVENT');
          expect(await ack(big, 'NOTIFY', { room: 'r', message: 'y'.repeat(1000) })).to.deep.equal({ ok: true });
          expect(await small).to.deep.equal({ sender: 'BIG', room: 'r', message: 'y'.repeat(1000) });

          const atMember = recordAll(member);
          const serverSide = srv.serverDisconnect(ns, big.id);
          const clientSide = next(big, 'disconnect');
          big.emit('NOTIFY', { room: 'r', message: 'x'.repeat(10_000) });
          await clientSide;
          await serverSide;
          expect(big.connected).to.equal(false);
          await barrier(member);
          atMember.stop();
          expect(atMember.heard).to.deep.equal([]);

          expect(await ack(member, 'CLIENTS', { room: 'r' })).to.deep.equal({ ok: true, room: 'r', clients: ['M', 'T'] });
          const event = next(member, 'EVENT');
          expect(await ack(third, 'NOTIFY', { room: 'r', message: 'still here' })).to.deep.equal({ ok: true });
          expect(await event).to.deep.equal({ sender: 'T', room: 'r', message: 'still here' });
        });
      }
    });

    describe('room cap', () => {
      it('lets a socket JOIN 1000 rooms, refuses the 1001st with LIMIT until it leaves one; others unaffected', async () => {
        // The 1000 JOINs go at once, past the default event rate: the room cap is under test here.
        const srv = await startServer({ ...WITHOUT_RECOVERY, eventRate: 0 });
        const [a, b] = await Promise.all([srv.connect(ns), srv.connect(ns)]);
        const rooms = Array.from({ length: 1000 }, (_, i) => `room-${i}`);
        const joined = await Promise.all(rooms.map((room) => ack(a, 'JOIN', { room, name: 'A' })));
        expect(joined).to.deep.equal(rooms.map(() => ({ ok: true })));

        const limit = { code: 'LIMIT', message: 'a socket may be in at most 1000 rooms; leave one first' };
        expect(await ack(a, 'JOIN', { room: 'room-1000', name: 'renamed' })).to.deep.equal({ ok: false, error: limit });
        const reported = next(a, 'ERROR');
        a.emit('JOIN', { room: 'room-1001', name: 'renamed' });
        expect(await reported).to.deep.equal({ event: 'JOIN', ...limit });
        expect(a.connected).to.equal(true);

        // Another socket is not limited by a's rooms, and a still gets what is sent to its rooms, under its name.
        expect(await ack(b, 'JOIN', { room: 'room-1000', name: 'B' })).to.deep.equal({ ok: true });
        expect(await ack(b, 'JOIN', { room: 'room-999', name: 'B' })).to.deep.equal({ ok: true });
        expect(await ack(b, 'CLIENTS', { room: 'room-999' })).to.deep.equal({ ok: true, room: 'room-999', clients: ['A', 'B'] });
        expect(await ack(b, 'CLIENTS', { room: 'room-1000' })).to.deep.equal({ ok: true, room: 'room-1000', clients: ['B'] });
        const event = next(a, 'EVENT');
        await ack(b, 'NOTIFY', { room: 'room-0', message: 'first room' });
        expect(await event).to.deep.equal({ sender: 'B', room: 'room-0', message: 'first room' });

        expect(await ack(a, 'LEAVE', { room: 'room-0' })).to.deep.equal({ ok: true });
        expect(await ack(a, 'JOIN', { room: 'room-1000', name: 'A' })).to.deep.equal({ ok: true });
        expect(await ack(b, 'CLIENTS', { room: 'room-1000' })).to.deep.equal({ ok: true, room: 'room-1000', clients: ['B', 'A'] });
        expect(await ack(a, 'JOIN', { room: 'room-0', name: 'A' })).to.deep.include({ ok: false });
      });
    });

    describe('prototype-polluting keys', () => {
      for (const form of ['an object', 'a JSON string'] as const) {
        it(`relays __proto__ and constructor keys in a NOTIFY message sent as ${form} as plain data`, async () => {
          const fx = await start();
          const text = `{"room":"r","message":${POLLUTING}}`;
          const payload: unknown = form === 'an object' ? JSON.parse(text) : text;
          const event = next<{ sender: unknown; room: unknown; message: unknown }>(fx.bystander, 'EVENT');
          expect(await ack(fx.member, 'NOTIFY', payload)).to.deep.equal({ ok: true });
          const { sender, room, message } = await event;
          expect([sender, room]).to.deep.equal(['A', 'r']);
          expectProtoKeyAsData(message);
          await fx.stillWorks(fx.member);
        });
      }
    });
  });
}

// ---------------------------------------------------------------------------------------------------------

describe('/lobby bad input', () => {
  async function lobbyFixture(options: Partial<ServiceOptions> = {}): Promise<Fixture> {
    const clients = await startClients('/lobby', options, (socket) => ack(socket, 'JOIN', 'l'));
    const { member, bystander, outsider } = clients;
    return {
      ...clients,
      async stillWorks(socket) {
        if (socket === outsider) {
          expect(await ack(outsider, 'JOIN', 'l')).to.deep.equal({ ok: true, lobby: 'l', peers: [member.id, bystander.id] });
          return;
        }
        const [atBystander, atSender] = [next(bystander, 'MESSAGE'), next(socket, 'MESSAGE')];
        expect(await ack(socket, 'BROADCAST', { message: 'after' })).to.deep.equal({ ok: true });
        expect(await atBystander).to.deep.equal({ from: socket.id, message: 'after' });
        expect(await atSender).to.deep.equal({ from: socket.id, message: 'after' });
      },
    };
  }
  const start = () => lobbyFixture();
  const notLobby = 'lobby must be string';
  const notObject = 'payload must be object';
  const notJson = 'payload is a string but not valid JSON';

  describe('JOIN', () => {
    rejects(start, [
      { what: 'a number as payload', event: 'JOIN', args: [5], message: notLobby, from: 'outsider' },
      { what: 'a boolean as payload', event: 'JOIN', args: [true], message: notLobby, from: 'outsider' },
      { what: 'an array as payload', event: 'JOIN', args: [['l']], message: notLobby, from: 'outsider' },
      { what: 'null as payload', event: 'JOIN', args: [null], message: notLobby, from: 'outsider' },
      { what: 'a number as lobby', event: 'JOIN', args: [{ lobby: 5 }], message: 'lobby must be string', from: 'outsider' },
      {
        what: 'a number as lobby in a JSON string',
        event: 'JOIN',
        args: ['{"lobby":5}'],
        message: 'lobby must be string',
        from: 'outsider',
      },
      { what: 'no lobby', event: 'JOIN', args: [{ room: 'l' }], message: 'lobby is required', from: 'outsider' },
      { what: 'an empty string', event: 'JOIN', args: [''], message: 'lobby must not have fewer than 1 characters', from: 'outsider' },
      {
        what: 'an empty lobby',
        event: 'JOIN',
        args: [{ lobby: '' }],
        message: 'lobby must not have fewer than 1 characters',
        from: 'outsider',
      },
      {
        what: 'a JSON string of an empty string',
        event: 'JOIN',
        args: ['""'],
        message: 'lobby must not have fewer than 1 characters',
        from: 'outsider',
      },
      {
        what: 'a lobby id over the length limit',
        event: 'JOIN',
        args: [TOO_LONG_ID],
        message: `lobby must not have more than ${MAX_ID} characters`,
        from: 'outsider',
      },
      { what: 'no payload at all', event: 'JOIN', args: [], message: 'payload is required', from: 'outsider' },
      {
        what: 'another lobby while in one',
        event: 'JOIN',
        args: ['other'],
        code: 'ALREADY_IN_LOBBY',
        message: 'already in lobby "l"; LEAVE it first',
      },
      {
        what: 'its own lobby again',
        event: 'JOIN',
        args: ['l'],
        code: 'ALREADY_IN_LOBBY',
        message: 'already in lobby "l"; LEAVE it first',
      },
    ]);
  });

  describe('LEAVE', () => {
    rejects(start, [
      { what: 'a number as payload', event: 'LEAVE', args: [5], message: notLobby },
      { what: 'a number as lobby', event: 'LEAVE', args: [{ lobby: 5 }], message: 'lobby must be string' },
      { what: 'an empty string', event: 'LEAVE', args: [''], message: 'lobby must not have fewer than 1 characters' },
      { what: 'no payload at all', event: 'LEAVE', args: [], message: 'payload is required' },
      { what: 'a lobby it is not in', event: 'LEAVE', args: ['other'], code: 'NOT_IN_LOBBY', message: 'not in lobby "other"' },
      { what: 'a lobby', event: 'LEAVE', args: ['l'], code: 'NOT_IN_LOBBY', message: 'not in lobby "l"', from: 'outsider' },
    ]);
  });

  describe('BROADCAST', () => {
    rejects(start, [
      { what: 'an unparseable JSON string', event: 'BROADCAST', args: ['{"message": hi}'], message: notJson },
      { what: 'a number as payload', event: 'BROADCAST', args: [5], message: notObject },
      { what: 'an array as payload', event: 'BROADCAST', args: [['hi']], message: notObject },
      { what: 'null as payload', event: 'BROADCAST', args: [null], message: notObject },
      { what: 'no message', event: 'BROADCAST', args: [{ msg: 'hi' }], message: 'message is required' },
      { what: 'no payload at all', event: 'BROADCAST', args: [], message: 'payload is required' },
      {
        what: 'a message',
        event: 'BROADCAST',
        args: [{ message: 'hi' }],
        code: 'NOT_IN_LOBBY',
        message: 'join a lobby first',
        from: 'outsider',
      },
    ]);
  });

  describe('RTCSIGNAL', () => {
    rejects(start, [
      { what: 'an unparseable JSON string', event: 'RTCSIGNAL', args: ['{"to":'], message: notJson },
      { what: 'a number as payload', event: 'RTCSIGNAL', args: [5], message: notObject },
      { what: 'a bare peer id', event: 'RTCSIGNAL', args: (fx) => [fx.bystander.id], message: notJson },
      { what: 'no to', event: 'RTCSIGNAL', args: [{ sdp: 'v=0' }], message: 'to is required' },
      { what: 'a number as to', event: 'RTCSIGNAL', args: [{ to: 5, sdp: 'v=0' }], message: 'to must be string' },
      { what: 'an empty to', event: 'RTCSIGNAL', args: [{ to: '', sdp: 'v=0' }], message: 'to must not have fewer than 1 characters' },
      { what: 'no payload at all', event: 'RTCSIGNAL', args: [], message: 'payload is required' },
      {
        what: 'an unknown peer',
        event: 'RTCSIGNAL',
        args: [{ to: 'nobody' }],
        code: 'UNKNOWN_PEER',
        message: 'no peer "nobody" in lobby "l"',
      },
      {
        what: 'a peer',
        event: 'RTCSIGNAL',
        args: [{ to: 'nobody' }],
        code: 'NOT_IN_LOBBY',
        message: 'join a lobby first',
        from: 'outsider',
      },
    ]);
  });

  describe('unknown events', () => {
    ignoresUnknownEvents(start, [
      { event: 'MESSAGE', args: [{ from: 'spoofed', message: 'injected' }] },
      { event: 'JOINED', args: ['spoofed'] },
    ]);
  });

  describe('identifiers', () => {
    it('does not coerce a number lobby: the failed JOIN joined no lobby "5"', async () => {
      const fx = await start();
      expect(await ack(fx.outsider, 'JOIN', 5)).to.deep.include({ ok: false });
      expect(await ack(fx.outsider, 'LEAVE', '5')).to.deep.include({ ok: false });
      const other = await fx.srv.connect('/lobby');
      expect(await ack(other, 'JOIN', '5')).to.deep.equal({ ok: true, lobby: '5', peers: [] });
    });

    it('reports a number as handshake lobbyId with one ERROR, and the socket stays connected', async () => {
      const srv = await startServer(WITHOUT_RECOVERY);
      // The ERROR follows the connect at once, so the recorder must be there before it.
      let recorder: Recording | undefined;
      const socket = await srv.connect('/lobby', { auth: { lobbyId: 5 } }, (fresh) => (recorder = recordAll(fresh)));
      await barrier(socket);
      if (!recorder) throw new Error('no recorder was attached');
      recorder.stop();
      expect(recorder.heard).to.deep.equal([['ERROR', { event: 'JOIN', code: 'BAD_REQUEST', message: 'lobby must be string' }]]);
      expect(await ack(socket, 'JOIN', 'l')).to.deep.equal({ ok: true, lobby: 'l', peers: [] });
    });

    it(`accepts a lobby id of exactly the length limit (${MAX_ID})`, async () => {
      const fx = await start();
      expect(await ack(fx.outsider, 'JOIN', LONGEST_ID)).to.deep.equal({ ok: true, lobby: LONGEST_ID, peers: [] });
    });

    it('documented: a string that only looks like broken JSON is a plain lobby id', async () => {
      const fx = await start();
      expect(await ack(fx.outsider, 'JOIN', '{lobby')).to.deep.equal({ ok: true, lobby: '{lobby', peers: [] });
    });

    // maxIdLength bounds room and lobby ids and names (PROTOCOL.md, Identifiers); peer ids are socket ids the
    // server made (20 characters, `/lobby#` + 20 for legacy clients), so a short limit must not stop signalling.
    it(`does not apply maxIdLength (${MAX_ID}) to RTCSIGNAL peer ids, which are server-made socket ids`, async () => {
      const fx = await start();
      const signal = next(fx.bystander, 'RTCSIGNAL');
      expect(await ack(fx.member, 'RTCSIGNAL', { to: fx.bystander.id, sdp: 'v=0' })).to.deep.equal({ ok: true });
      expect(await signal).to.deep.equal({ sdp: 'v=0', to: fx.bystander.id, from: fx.member.id });
      expect(await ack(fx.member, 'RTCSIGNAL', { to: fx.outsider.id })).to.deep.equal({
        ok: false,
        error: { code: 'UNKNOWN_PEER', message: `no peer ${JSON.stringify(fx.outsider.id)} in lobby "l"` },
      });
    });
  });

  describe('prototype-polluting keys', () => {
    it('relays __proto__ and constructor keys in BROADCAST messages and RTCSIGNAL fields as plain data', async () => {
      // Default limits: RTCSIGNAL to a real socket id (see the maxIdLength test above).
      const fx = await lobbyFixture({ maxIdLength: 256 });
      const message = next<{ from: unknown; message: unknown }>(fx.bystander, 'MESSAGE');
      expect(await ack(fx.member, 'BROADCAST', `{"message":${POLLUTING}}`)).to.deep.equal({ ok: true });
      const received = await message;
      expect(received.from).to.equal(fx.member.id);
      expectProtoKeyAsData(received.message);

      for (const payload of [
        `{"to":${JSON.stringify(fx.bystander.id)},"sdp":"v=0","__proto__":{"polluted":true}}`,
        JSON.parse(`{"to":${JSON.stringify(fx.bystander.id)},"sdp":"v=0","__proto__":{"polluted":true}}`) as unknown,
      ]) {
        const signal = next<Record<string, unknown>>(fx.bystander, 'RTCSIGNAL');
        expect(await ack(fx.member, 'RTCSIGNAL', payload)).to.deep.equal({ ok: true });
        const relayed = await signal;
        expectProtoKeyAsData(relayed);
        expect([relayed.to, relayed.from, relayed.sdp]).to.deep.equal([fx.bystander.id, fx.member.id, 'v=0']);
      }

      // A __proto__ key cannot smuggle in a `to`: the request lacks one.
      expect(await ack(fx.member, 'RTCSIGNAL', `{"__proto__":{"to":${JSON.stringify(fx.bystander.id)}}}`)).to.deep.equal({
        ok: false,
        error: { code: 'BAD_REQUEST', message: 'to is required' },
      });
      await fx.stillWorks(fx.member);
    });
  });
});

// ---------------------------------------------------------------------------------------------------------

describe('/trigger bad input', () => {
  async function triggerFixture(options: Partial<ServiceOptions> = {}): Promise<Fixture> {
    const clients = await startClients('/trigger', options, (socket) => ack(socket, 'JOIN', 'r'));
    const { bystander, outsider } = clients;
    return {
      ...clients,
      async stillWorks(socket) {
        const atBystander = next(bystander, 'EVENTS');
        expect(await ack(socket, 'BROADCAST_EVENTS', 'r', 'after')).to.deep.equal({ ok: true });
        expect(await atBystander).to.equal('after');
        if (socket === outsider) {
          expect(await ack(outsider, 'JOIN', 'r')).to.deep.equal({ ok: true });
        } else {
          // Still in its room: a failed request left nothing.
          const atSocket = next(socket, 'UPDATES');
          await ack(bystander, 'BROADCAST_UPDATES', 'r', 'back');
          expect(await atSocket).to.equal('back');
        }
      },
    };
  }
  const start = () => triggerFixture();
  // The room is a bare value: anything but an object is taken as the room itself and must be a string.
  const notString = 'room must be string';

  describe('JOIN', () => {
    rejects(start, [
      { what: 'a number as room', event: 'JOIN', args: [5], message: notString, from: 'outsider' },
      { what: 'a boolean as room', event: 'JOIN', args: [true], message: notString, from: 'outsider' },
      { what: 'an array as room', event: 'JOIN', args: [['r']], message: notString, from: 'outsider' },
      { what: 'null as room', event: 'JOIN', args: [null], message: notString, from: 'outsider' },
      { what: 'a number as room in an object', event: 'JOIN', args: [{ room: 5 }], message: 'room must be string', from: 'outsider' },
      { what: 'a number as room in a JSON string', event: 'JOIN', args: ['{"room":5}'], message: 'room must be string', from: 'outsider' },
      { what: 'an object without room', event: 'JOIN', args: [{}], message: 'room is required', from: 'outsider' },
      { what: 'an empty string', event: 'JOIN', args: [''], message: 'room must not have fewer than 1 characters', from: 'outsider' },
      {
        what: 'a room over the length limit',
        event: 'JOIN',
        args: [TOO_LONG_ID],
        message: `room must not have more than ${MAX_ID} characters`,
        from: 'outsider',
      },
      { what: 'no payload at all', event: 'JOIN', args: [], message: 'room is required', from: 'outsider' },
    ]);
  });

  describe('LEAVE', () => {
    rejects(start, [
      { what: 'a number as room', event: 'LEAVE', args: [5], message: notString },
      { what: 'an empty string', event: 'LEAVE', args: [''], message: 'room must not have fewer than 1 characters' },
      { what: 'no payload at all', event: 'LEAVE', args: [], message: 'room is required' },
    ]);
  });

  describe('BROADCAST_*', () => {
    rejects(start, [
      { what: 'a number as room', event: 'BROADCAST_EVENTS', args: [5, 'd'], message: notString },
      { what: 'a number as room in an object', event: 'BROADCAST_EVENTS', args: [{ room: 5 }, 'd'], message: 'room must be string' },
      { what: 'an empty room', event: 'BROADCAST_EVENTS', args: ['', 'd'], message: 'room must not have fewer than 1 characters' },
      {
        what: 'a room over the length limit',
        event: 'BROADCAST_EVENTS',
        args: [TOO_LONG_ID, 'd'],
        message: `room must not have more than ${MAX_ID} characters`,
      },
      { what: 'no data', event: 'BROADCAST_EVENTS', args: ['r'], message: 'data is required' },
      { what: 'no payload at all', event: 'BROADCAST_EVENTS', args: [], message: 'room is required' },
      { what: 'no data', event: 'BROADCAST_UPDATES', args: ['r'], message: 'data is required' },
      { what: 'null as room', event: 'BROADCAST_STATUS', args: [null, 'd'], message: notString },
    ]);
  });

  describe('unknown events', () => {
    ignoresUnknownEvents(start, [
      { event: 'EVENTS', args: ['injected'] },
      { event: 'BROADCAST', args: ['r', 'not a trigger request'] },
    ]);
  });

  describe('identifiers', () => {
    it('does not coerce a number room: the failed JOIN joined no room "5"', async () => {
      const fx = await start();
      expect(await ack(fx.outsider, 'JOIN', 5)).to.deep.include({ ok: false });
      await silent(fx.outsider, 'EVENTS', () => ack(fx.member, 'BROADCAST_EVENTS', '5', 'to five'));
    });

    it(`accepts a room id of exactly the length limit (${MAX_ID})`, async () => {
      const fx = await start();
      expect(await ack(fx.outsider, 'JOIN', LONGEST_ID)).to.deep.equal({ ok: true });
      const event = next(fx.outsider, 'EVENTS');
      await ack(fx.member, 'BROADCAST_EVENTS', LONGEST_ID, 1);
      expect(await event).to.equal(1);
    });

    it('documented: a string that only looks like broken JSON is a plain room id', async () => {
      const fx = await start();
      expect(await ack(fx.outsider, 'JOIN', '{room')).to.deep.equal({ ok: true });
      const event = next(fx.outsider, 'EVENTS');
      await ack(fx.member, 'BROADCAST_EVENTS', '{room', 'x');
      expect(await event).to.equal('x');
    });
  });

  describe('room cap', () => {
    it('lets a socket JOIN 1000 rooms, refuses the 1001st with LIMIT until it leaves one; others unaffected', async () => {
      // The 1000 JOINs go at once, past the default event rate: the room cap is under test here.
      const srv = await startServer({ ...WITHOUT_RECOVERY, eventRate: 0 });
      const [a, b] = await Promise.all([srv.connect('/trigger'), srv.connect('/trigger')]);
      const rooms = Array.from({ length: 1000 }, (_, i) => `room-${i}`);
      const joined = await Promise.all(rooms.map((room) => ack(a, 'JOIN', room)));
      expect(joined).to.deep.equal(rooms.map(() => ({ ok: true })));

      const limit = { code: 'LIMIT', message: 'a socket may be in at most 1000 rooms; leave one first' };
      expect(await ack(a, 'JOIN', 'room-1000')).to.deep.equal({ ok: false, error: limit });
      const reported = next(a, 'ERROR');
      a.emit('JOIN', 'room-1001');
      expect(await reported).to.deep.equal({ event: 'JOIN', ...limit });
      await silent(a, 'EVENTS', () => ack(b, 'BROADCAST_EVENTS', 'room-1000', 'not a member'));

      expect(await ack(b, 'JOIN', 'room-1000')).to.deep.equal({ ok: true });
      const event = next(a, 'EVENTS');
      await ack(b, 'BROADCAST_EVENTS', 'room-999', 'last room');
      expect(await event).to.equal('last room');

      expect(await ack(a, 'LEAVE', 'room-0')).to.deep.equal({ ok: true });
      expect(await ack(a, 'JOIN', 'room-1000')).to.deep.equal({ ok: true });
      const joinedEvent = next(a, 'EVENTS');
      await ack(b, 'BROADCAST_EVENTS', 'room-1000', 'new room');
      expect(await joinedEvent).to.equal('new room');
    });
  });

  describe('prototype-polluting keys', () => {
    it('relays __proto__ and constructor keys in broadcast data as plain data', async () => {
      const fx = await start();
      const event = next(fx.bystander, 'STATUS');
      expect(await ack(fx.member, 'BROADCAST_STATUS', 'r', JSON.parse(POLLUTING) as unknown)).to.deep.equal({ ok: true });
      expectProtoKeyAsData(await event);
      await fx.stillWorks(fx.member);
    });
  });
});
