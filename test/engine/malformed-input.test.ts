import { expect } from 'chai';
import type { Socket } from 'socket.io-client';
import { heapAfterGc } from '../support/gc.js';
import { rawClient, rawRoundTrip, type RawClient } from '../support/raw-engine.js';
import { startServer, type TestServer } from '../support/server.js';
import { ack, barrier, recordAll, withDeadline } from '../support/wait.js';

// Hostile input below the client libraries: Engine.IO and Socket.IO packets written by hand on a raw
// WebSocket. Whatever a connection sends, the server either answers it or closes that connection, never
// crashes, and everyone else is served as before and hears nothing of it.

/** How many one-byte fragments of one message the hostile fragmenter sends (bounded from millions to stay quick). */
const HOSTILE_FRAGMENTS = 200_000;
/** What the server may still hold once it has closed the fragmenter: noise, not the fragments. */
const FRAGMENT_HEAP_BOUND = 8_000_000;

/** A NOTIFY with ack id 5 to a room nobody is in, exactly `length` characters of JSON text. */
function notify(length: number): string {
  const head = '42/layout,5["NOTIFY",{"room":"elsewhere","message":"';
  const tail = '"}]';
  return head + 'x'.repeat(length - head.length - tail.length) + tail;
}

/** `n` arrays inside each other, as JSON text. */
const deep = (n: number): string => '['.repeat(n) + ']'.repeat(n);

/** One malformed input and what the server does with the connection that sent it. */
interface Malformed {
  readonly what: string;
  /** Sent one after the other, on a connection whose /layout socket is connected. */
  readonly frames: readonly (string | Buffer)[];
  /** `served`: the connection still answers a request; `closed`: the server closes it. */
  readonly outcome: 'served' | 'closed';
}

const MALFORMED: readonly Malformed[] = [
  // Engine.IO packets
  { what: 'an empty text frame', frames: [''], outcome: 'closed' },
  { what: 'an unknown Engine.IO packet type', frames: ['9'], outcome: 'closed' },
  { what: 'a letter as Engine.IO packet type', frames: ['x'], outcome: 'closed' },
  { what: 'a non-ASCII Engine.IO packet type', frames: ['ÿ'], outcome: 'closed' },
  { what: 'an Engine.IO open packet from the client', frames: ['0{"sid":"forged"}'], outcome: 'served' },
  { what: 'an Engine.IO close packet from the client', frames: ['1'], outcome: 'served' },
  { what: 'an unsolicited pong', frames: ['3'], outcome: 'served' },
  { what: 'a ping probe outside an upgrade', frames: ['2probe'], outcome: 'closed' },
  { what: 'an upgrade packet outside an upgrade', frames: ['5'], outcome: 'served' },
  { what: 'a noop packet', frames: ['6'], outcome: 'served' },
  { what: 'an Engine.IO 3 base64 binary frame', frames: ['b4AQID'], outcome: 'closed' },
  { what: 'a binary frame with no packet announcing it', frames: [Buffer.from([1, 2, 3])], outcome: 'closed' },
  { what: 'an empty binary frame', frames: [Buffer.alloc(0)], outcome: 'closed' },
  // Socket.IO packet types and headers
  { what: 'a Socket.IO packet type 9', frames: ['49'], outcome: 'closed' },
  { what: 'a Socket.IO packet with no type', frames: ['4'], outcome: 'closed' },
  { what: 'a letter as Socket.IO packet type', frames: ['4z'], outcome: 'closed' },
  { what: 'an EVENT with no payload', frames: ['42'], outcome: 'closed' },
  { what: 'an EVENT of a namespace never connected', frames: ['42/lobby,["JOIN","l"]'], outcome: 'closed' },
  { what: 'an EVENT of a namespace that does not exist', frames: ['42/nope,["JOIN","l"]'], outcome: 'closed' },
  { what: 'an EVENT whose namespace has no comma', frames: ['42/layout["JOIN"]'], outcome: 'closed' },
  { what: 'an EVENT with a truncated JSON array', frames: ['42/layout,["JOIN",'], outcome: 'closed' },
  { what: 'an EVENT with an object instead of an array', frames: ['42/layout,{"event":"JOIN"}'], outcome: 'closed' },
  { what: 'an EVENT with an empty array', frames: ['42/layout,[]'], outcome: 'closed' },
  { what: "an EVENT named 'disconnect', which Socket.IO reserves", frames: ['42/layout,1["disconnect"]'], outcome: 'closed' },
  {
    what: "an EVENT named 'newListener', which Node's EventEmitter reserves",
    frames: ['42/layout,1["newListener","x"]'],
    outcome: 'closed',
  },
  { what: "an EVENT named 'disconnecting'", frames: ['42/layout,["disconnecting","forged"]'], outcome: 'closed' },
  { what: 'an EVENT with a number as event name', frames: ['42/layout,[5,{}]'], outcome: 'served' },
  { what: 'an EVENT with null as event name', frames: ['42/layout,[null]'], outcome: 'closed' },
  { what: 'an EVENT with an object as event name', frames: ['42/layout,[{"a":1}]'], outcome: 'closed' },
  { what: 'an EVENT with an array as event name', frames: ['42/layout,[["JOIN"]]'], outcome: 'closed' },
  { what: 'an EVENT with a JSON string as data', frames: ['42/layout,"JOIN"'], outcome: 'closed' },
  { what: 'an EVENT with trailing garbage', frames: ['42/layout,["CLIENTS",{"room":"elsewhere"}]garbage'], outcome: 'closed' },
  {
    what: 'an EVENT with an ack id of 30 digits',
    frames: ['42/layout,999999999999999999999999999999["CLIENTS",{"room":"elsewhere"}]'],
    outcome: 'served',
  },
  { what: 'an EVENT with a negative ack id', frames: ['42/layout,-1["CLIENTS",{"room":"elsewhere"}]'], outcome: 'closed' },
  { what: 'an EVENT with a fractional ack id', frames: ['42/layout,1.5["CLIENTS",{"room":"elsewhere"}]'], outcome: 'closed' },
  { what: 'an EVENT with a lone surrogate in the event name', frames: ['42/layout,["\\ud800",{}]'], outcome: 'served' },
  { what: 'an EVENT with a 100 kB event name', frames: [`42/layout,["${'E'.repeat(100_000)}",{}]`], outcome: 'served' },
  {
    what: 'an EVENT with 100,000-level nested data',
    frames: [`42/layout,1["NOTIFY",{"room":"elsewhere","message":${deep(100_000)}}]`],
    outcome: 'served',
  },
  {
    what: 'an EVENT with 100,000-level nested data, no ack',
    frames: [`42/layout,["NOTIFY",{"room":"elsewhere","message":${deep(100_000)}}]`],
    outcome: 'served',
  },
  { what: 'an EVENT with 10,000 arguments', frames: [`42/layout,["NOTIFY"${',0'.repeat(10_000)}]`], outcome: 'served' },
  { what: 'an ACK for an id the server never sent', frames: ['43/layout,7[{"ok":true}]'], outcome: 'served' },
  { what: 'an ACK with no id', frames: ['43/layout,[{"ok":true}]'], outcome: 'served' },
  { what: 'an ACK with a non-array payload', frames: ['43/layout,7{"ok":true}'], outcome: 'closed' },
  { what: 'a CONNECT_ERROR from the client', frames: ['44/layout,{"message":"forged"}'], outcome: 'closed' },
  { what: 'a second CONNECT of the same namespace', frames: ['40/layout,'], outcome: 'closed' },
  { what: 'a CONNECT with an array as auth', frames: ['40/lobby,[1,2]'], outcome: 'closed' },
  { what: 'a CONNECT with a string as auth', frames: ['40/lobby,"token"'], outcome: 'closed' },
  { what: 'a CONNECT with truncated JSON auth', frames: ['40/lobby,{"lobbyId":'], outcome: 'closed' },
  { what: 'a CONNECT to a 100 kB namespace name', frames: [`40/${'n'.repeat(100_000)},`], outcome: 'served' },
  { what: 'a CONNECT to a namespace named __proto__', frames: ['40/__proto__,'], outcome: 'served' },
  { what: 'a DISCONNECT of a namespace never connected', frames: ['41/lobby,'], outcome: 'closed' },
  // Binary packets and attachments
  { what: 'a BINARY_EVENT announcing no attachments', frames: ['450-/layout,["CLIENTS",{"room":"elsewhere"}]'], outcome: 'closed' },
  { what: 'a BINARY_EVENT without an attachment count', frames: ['45/layout,["CLIENTS",{"room":"elsewhere"}]'], outcome: 'closed' },
  {
    what: 'a BINARY_EVENT with a non-numeric attachment count',
    frames: ['45x-/layout,["CLIENTS",{"room":"elsewhere"}]'],
    outcome: 'closed',
  },
  {
    what: 'a BINARY_EVENT announcing a million attachments',
    frames: ['451000000-/layout,["CLIENTS",{"room":"elsewhere"}]'],
    outcome: 'closed',
  },
  {
    what: 'a BINARY_EVENT announcing 2^53 attachments',
    frames: ['459007199254740993-/layout,["CLIENTS",{"room":"elsewhere"}]'],
    outcome: 'closed',
  },
  { what: 'a BINARY_EVENT announcing 11 attachments', frames: ['4511-/layout,["CLIENTS",{"room":"elsewhere"}]'], outcome: 'closed' },
  {
    what: 'a placeholder pointing past the attachments',
    frames: ['451-/layout,["NOTIFY",{"room":"elsewhere","message":{"_placeholder":true,"num":5}}]', Buffer.from([1])],
    outcome: 'closed',
  },
  {
    what: 'a placeholder with a negative index',
    frames: ['451-/layout,["NOTIFY",{"room":"elsewhere","message":{"_placeholder":true,"num":-1}}]', Buffer.from([1])],
    outcome: 'closed',
  },
  {
    what: 'a placeholder with a string index',
    frames: ['451-/layout,["NOTIFY",{"room":"elsewhere","message":{"_placeholder":true,"num":"0"}}]', Buffer.from([1])],
    outcome: 'closed',
  },
  {
    what: 'a placeholder named __proto__',
    frames: ['451-/layout,["NOTIFY",{"room":"elsewhere","message":{"__proto__":{"_placeholder":true,"num":0}}}]', Buffer.from([1])],
    outcome: 'served',
  },
  {
    what: 'a placeholder in a plain EVENT',
    frames: ['42/layout,["NOTIFY",{"room":"elsewhere","message":{"_placeholder":true,"num":0}}]'],
    outcome: 'served',
  },
  {
    what: 'a text frame where an attachment is expected',
    frames: [
      '451-/layout,["NOTIFY",{"room":"elsewhere","message":{"_placeholder":true,"num":0}}]',
      '42/layout,["CLIENTS",{"room":"elsewhere"}]',
    ],
    outcome: 'closed',
  },
  {
    what: 'a BINARY_ACK for an id the server never sent',
    frames: ['461-/layout,7[{"_placeholder":true,"num":0}]', Buffer.from([1])],
    outcome: 'served',
  },
];

/** A service with a /layout member in room `r`, recording everything it hears. */
async function withBystander(): Promise<{ srv: TestServer; bystander: Socket; heard: () => unknown[] }> {
  // One attacker connection per malformed packet, dozens a second from one address: not the connect rate's test.
  const srv = await startServer({ connectRate: 0 });
  const bystander = await srv.connect('/layout', { transports: ['websocket'] });
  await ack(bystander, 'JOIN', { room: 'r', name: 'B' });
  // Requests go to a room nobody is in: a malformed one that the server accepts after all reaches no one.
  const recording = recordAll(bystander);
  return { srv, bystander, heard: () => recording.heard };
}

/** Resolves with `served` after a round trip on `client`, or `closed` once the server has closed it. */
async function outcomeOf(client: RawClient): Promise<'served' | 'closed'> {
  const served = rawRoundTrip(client, 990_001).then(
    () => 'served' as const,
    () => 'closed' as const,
  );
  return withDeadline(Promise.race([served, client.closed.then(() => 'closed' as const)]), 'the connection to be answered or closed');
}

describe('malformed input on a raw Engine.IO connection', () => {
  it(`covers ${MALFORMED.length} kinds of malformed packets`, () => {
    expect(MALFORMED.length).to.be.at.least(60);
    expect(new Set(MALFORMED.map(({ what }) => what)).size, 'distinct names').to.equal(MALFORMED.length);
  });

  for (const { what, frames, outcome } of MALFORMED) {
    it(`${what}: the connection is ${outcome === 'served' ? 'still served' : 'closed'}; the service and everyone else are not affected`, async () => {
      const { srv, bystander, heard } = await withBystander();
      const attacker = await rawClient(srv.url);
      for (const frame of frames) attacker.send(frame);
      expect(await outcomeOf(attacker)).to.equal(outcome);
      // Every frame the server sent the attacker is one of the protocol's: Engine.IO open, heartbeat or Socket.IO packet.
      for (const frame of attacker.received) expect(frame, 'a frame the attacker received').to.match(/^(0\{|2$|4[0-6])/);

      await barrier(bystander);
      expect(heard(), 'what the bystander heard').to.deep.equal([]);
      expect(await ack(bystander, 'CLIENTS', { room: 'r' })).to.deep.equal({ ok: true, room: 'r', clients: ['B'] });
      const fresh = await srv.connect('/layout', { transports: ['websocket'] });
      expect(await ack(fresh, 'JOIN', { room: 'r', name: 'C' })).to.deep.equal({ ok: true });
    });
  }

  describe('100,000-level nested JSON', () => {
    it('is answered in the reply format (INTERNAL or BAD_REQUEST), with an ack and with an ERROR, and the socket stays usable', async () => {
      const { srv, bystander, heard } = await withBystander();
      const attacker = await rawClient(srv.url);
      attacker.send(`42/layout,7["NOTIFY",{"room":"r","message":${deep(100_000)}}]`);
      const reply = JSON.parse(
        (await attacker.next((f) => f.startsWith('43/layout,7['), 'the ack')).slice('43/layout,7'.length),
      ) as unknown[];
      expect(reply).to.have.lengthOf(1);
      expect(reply[0]).to.have.all.keys('ok', 'error');
      expect(reply[0]).to.have.nested.property('error.code').that.is.oneOf(['INTERNAL', 'BAD_REQUEST']);

      attacker.send(`42/layout,["NOTIFY",{"room":"r","message":${deep(100_000)}}]`);
      const error = await attacker.next((f) => f.startsWith('42/layout,["ERROR"'), 'the ERROR event');
      const [, body] = JSON.parse(error.slice('42/layout,'.length)) as [string, { event: string; code: string }];
      expect(body.event).to.equal('NOTIFY');
      expect(body.code).to.be.oneOf(['INTERNAL', 'BAD_REQUEST']);

      // Nothing of the two reached the room's member, and the attacker's socket is still served.
      await barrier(bystander);
      expect(heard()).to.deep.equal([]);
      await rawRoundTrip(attacker, 8);
    });
  });

  // socket.io-parser's decoder refuses more than 10 attachments per packet (its maxAttachments): a packet
  // announcing millions cannot make the server wait for, or allocate for, them.
  describe('attachment-count bombs', () => {
    it('closes each connection that announces 11, a million or 2^53 attachments, and holds nothing for them', async () => {
      const { srv, bystander } = await withBystander();
      const before = heapAfterGc();
      for (const count of ['11', '1000000', '9007199254740993']) {
        for (let i = 0; i < 20; i++) {
          const attacker = await rawClient(srv.url);
          attacker.send(`45${count}-/layout,["NOTIFY",{"room":"elsewhere","message":{"_placeholder":true,"num":0}}]`);
          await attacker.closed;
        }
      }
      const grown = heapAfterGc() - before;
      expect(grown, `heap growth after 60 bombs: ${grown} bytes`).to.be.below(5_000_000);
      expect(srv.app.io.of('/layout').sockets.size).to.equal(1);
      expect(await ack(bystander, 'CLIENTS', { room: 'r' })).to.deep.equal({ ok: true, room: 'r', clients: ['B'] });
    });
  });

  // ws (engine.io's own copy, 8.21) keeps the fragments of a message until its last one: at most 16,384 (maxFragments,
  // then close 1008), and at most the payload limit in all (then close 1009).
  describe('WebSocket fragments', () => {
    /** Sends `text` in fragments of `size` characters (ASCII: one byte each), the last one with fin, while the connection is open. */
    function sendFragmented(client: RawClient, text: string, size: number): void {
      for (let at = 0; at < text.length && client.ws.readyState === client.ws.OPEN; at += size) {
        client.ws.send(text.slice(at, at + size), { fin: at + size >= text.length });
      }
    }

    it(`closes a connection that sends one message in ${HOSTILE_FRAGMENTS.toLocaleString('en')} one-byte fragments (1008), holding little meanwhile; others are served`, async () => {
      const { srv, bystander, heard } = await withBystander();
      const attacker = await rawClient(srv.url);
      const before = heapAfterGc();
      sendFragmented(attacker, notify(HOSTILE_FRAGMENTS), 1);
      expect(await withDeadline(attacker.closed, 'the close of the attacker')).to.equal(1008);
      const held = heapAfterGc() - before;
      expect(held, `heap after the fragments: ${held} bytes more`).to.be.below(FRAGMENT_HEAP_BOUND);
      await barrier(bystander);
      expect(heard()).to.deep.equal([]);
      expect(await ack(bystander, 'CLIENTS', { room: 'r' })).to.deep.equal({ ok: true, room: 'r', clients: ['B'] });
      expect(srv.app.io.of('/layout').sockets.size).to.equal(1);
    });

    it('answers a message in 16,000 one-byte fragments (under the fragment cap) like any other', async () => {
      const { srv } = await withBystander();
      const attacker = await rawClient(srv.url);
      sendFragmented(attacker, notify(16_000), 1);
      expect(await attacker.next((f) => f.startsWith('43/layout,5['), 'the ack of the fragmented NOTIFY')).to.equal(
        '43/layout,5[{"ok":true}]',
      );
    });

    it('closes a connection whose fragments add up to more than the payload limit (1009)', async () => {
      const srv = await startServer({ maxPayload: 20_000 });
      const bystander = await srv.connect('/layout', { transports: ['websocket'] });
      const attacker = await rawClient(srv.url);
      sendFragmented(attacker, notify(30_000), 100);
      expect(await withDeadline(attacker.closed, 'the close of the attacker')).to.equal(1009);
      expect(await ack(bystander, 'CLIENTS', { room: 'r' })).to.deep.equal({ ok: true, room: 'r', clients: [] });
    });
  });

  // Socket.IO spreads a packet's values into one call: ~50,000 of them (200 kB, under the payload limit, on
  // any namespace, before any auth) overflowed the stack in its dispatch and ended the process. The parser
  // of lib/limits/arguments.ts refuses such a packet before it is dispatched.
  it('an EVENT with 100,000 arguments is refused (the connection closed or the request answered); the process survives', async () => {
    const { srv, bystander, heard } = await withBystander();
    const attacker = await rawClient(srv.url);
    attacker.send(`42/layout,["NOTIFY"${',0'.repeat(100_000)}]`);
    await outcomeOf(attacker);
    await barrier(bystander);
    expect(heard()).to.deep.equal([]);
    const fresh = await srv.connect('/layout', { transports: ['websocket'] });
    expect(await ack(fresh, 'CLIENTS', { room: 'r' })).to.deep.equal({ ok: true, room: 'r', clients: ['B'] });
  });
});
