import { writeFileSync } from 'node:fs';
import { expect } from 'chai';
import fc from 'fast-check';
import { SignJWT } from 'jose';
import type { Socket } from 'socket.io-client';
import type { Socket as EngineSocket } from 'engine.io';
import { parseSitesFile } from '../../lib/config/sites-file.js';
import { COUNT_EVENT, ErrorCatalog, LayoutEvents, LobbyEvents, TriggerBroadcasts, TriggerEvents } from '../../protocol/index.js';
import { asEncoded, binaryCount, brokenJsonArb, keyArb, PROTOTYPE_KEYS, valueArb, wireForm } from '../support/arbitraries.js';
import { scaled } from '../support/deadlines.js';
import { startServer, type ClientOptions, type TestServer, WITHOUT_RECOVERY } from '../support/server.js';
import { ack, next, recordAll, withDeadline, type EventSocket, type Heard } from '../support/wait.js';

// Property tests: arbitrary requests, well-formed or not, of every event of every namespace, through real
// clients. Each run connects a fresh actor and a bystander (fresh connections keep a run under any
// per-connection event budget), sends a generated sequence from the actor, and checks that every ack is
// answered exactly once in the reply format, that the bystander hears exactly what the requests that
// succeeded should make it hear, that the actor's rooms are what its successful requests say, and that
// nothing is left at the server once both are gone.
//
// Reproduce a failure with the seed and path fast-check prints: PROPERTY_SEED=<seed> npx mocha <this file>
// (the path is printed too; pass it with PROPERTY_PATH). PROPERTY_RUNS changes the number of runs, PROPERTY_DUMP=<file>
// writes the whole counterexample there.

const SEED = process.env.PROPERTY_SEED === undefined ? 0x5eed : Number(process.env.PROPERTY_SEED);
const PATH = process.env.PROPERTY_PATH;
/** Runs per namespace: a run is ~20 round trips; this keeps a namespace's property to a few seconds. */
const RUNS = process.env.PROPERTY_RUNS === undefined ? 60 : Number(process.env.PROPERTY_RUNS);
/** A property's own time bound (mocha's): generous, as every deadline of the suite. */
const PROPERTY_TIMEOUT_MS = scaled(120_000);

/** Short ids, so that over-long ones are cheap to generate. */
const MAX_ID = 16;
/**
 * Above the default: a run may put several large values in one packet, and the payload limit is not what
 * these properties are about (bad-input.test.ts covers it).
 */
const MAX_PAYLOAD = 8_000_000;
const WS: ClientOptions = { transports: ['websocket'] };

/** socket.io-parser's decoder's limit on the binary attachments of one packet (its `maxAttachments`). */
const MAX_ATTACHMENTS = 10;
/** Socket.IO packet types of an acknowledgement (socket.io-parser's ACK and BINARY_ACK). */
const ACK_PACKETS: ReadonlySet<number> = new Set([3, 6]);
/** Names socket.io-client v4 refuses to emit (it throws): a client cannot send them at all. */
const CLIENT_RESERVED_V4 = ['connect', 'connect_error', 'disconnect', 'disconnecting', 'newListener', 'removeListener'];
/** Names socket.io-client 2.x emits locally instead of sending them. */
const CLIENT_RESERVED_V2 = [
  ...CLIENT_RESERVED_V4,
  'connect_timeout',
  'connecting',
  'error',
  'ping',
  'pong',
  'reconnect',
  'reconnect_attempt',
  'reconnect_failed',
  'reconnect_error',
  'reconnecting',
];
/** Stands for a function in an argument position other than the last (where it would be the ack). */
const STRAY_FUNCTION = '$STRAY_FUNCTION';
/** Stand for socket ids, which exist only once a run has connected. */
const SELF = '$SELF';
const BYSTANDER = '$BYSTANDER';

/** One request a run sends: its event, its arguments, and whether it asks for an ack. */
interface Command {
  readonly event: string;
  readonly args: readonly unknown[];
  readonly ack: boolean;
}

/** What a request came to: its ack, or for one without, whether an ERROR came back before the next barrier. */
type Outcome =
  /** `reply` is the ack, or undefined for a request without one. */
  { readonly ok: true; readonly reply: Readonly<Record<string, unknown>> | undefined } | { readonly ok: false; readonly code: string };

/** A request as sent (markers replaced, the ack and stray functions left out) and what it came to. */
interface Sent {
  readonly event: string;
  readonly args: readonly unknown[];
  readonly outcome: Outcome;
}

/** The socket ids of a run. */
interface Ids {
  readonly actor: string;
  readonly bystander: string;
}

/** What a namespace's requests should do: the actor's rooms and what the bystander hears. */
interface Model {
  apply(sent: Sent): void;
  /** Expected at the bystander, in order, as `[event, ...args]`. */
  readonly heard: Heard[];
  /** The actor's rooms as the server keys them, its own id room left out. */
  rooms(): string[];
  /** The server closed the actor's connection. */
  disconnected?(): void;
}

/** A namespace under test. */
interface Spec {
  readonly ns: string;
  /** The events a socket of this namespace may receive (undefined: any, as on a forwarding namespace). */
  readonly serverEvents?: readonly string[];
  readonly command: fc.Arbitrary<Command>;
  /** Markers in generated arguments and what they stand for (beyond the socket ids). */
  readonly markers?: Readonly<Record<string, string>>;
  /** Handshake options of the actor and of the bystander. */
  readonly handshake?: (role: 'actor' | 'bystander') => ClientOptions;
  /** Puts the bystander where the actor's requests can reach it. */
  enter(bystander: Socket): Promise<unknown>;
  /** The bystander's rooms afterwards, as the server keys them. */
  readonly bystanderRooms: readonly string[];
  /** An acked request that changes nothing, answered only after any ERROR of an earlier request. */
  probe(socket: EventSocket): Promise<unknown>;
  /** A barrier on the bystander that makes it hear nothing itself ({@link probe} unless given). */
  quietProbe?(socket: EventSocket): Promise<unknown>;
  model(ids: Ids): Model;
}

// --------------------------------------------------------------------------------------------------------
// Arbitraries.

/** Event names that are not requests: prototype keys, server-to-client names, wrong case, empty. */
const oddEventArb = fc.constantFrom(...PROTOTYPE_KEYS, 'EVENT', 'ERROR', 'join', 'NOPE', '', '__barrier__');

/** Mostly the namespace's own events, sometimes {@link oddEventArb} or any string a v4 client can send. */
function eventArb(events: readonly string[]): fc.Arbitrary<string> {
  return fc.oneof(
    { arbitrary: fc.constantFrom(...events), weight: 8 },
    { arbitrary: oddEventArb, weight: 1 },
    { arbitrary: fc.string({ maxLength: 12 }).filter((name) => !CLIENT_RESERVED_V2.includes(name)), weight: 1 },
  );
}

/** `value` one time in `oneIn`, null otherwise (fc.option's `freq` is the other way round). */
function sometimes<T>(value: fc.Arbitrary<T>, oneIn: number): fc.Arbitrary<T | null> {
  return fc.oneof({ arbitrary: fc.constant(null), weight: oneIn - 1 }, { arbitrary: value, weight: 1 });
}

/** An identifier: mostly one of `valid`, sometimes empty, over-long, a prototype key, or not a string at all. */
function idArb(valid: readonly string[]): fc.Arbitrary<unknown> {
  return fc.oneof(
    { arbitrary: fc.constantFrom(...valid), weight: 12 },
    { arbitrary: fc.constantFrom('', 'x'.repeat(MAX_ID + 1), ...PROTOTYPE_KEYS), weight: 1 },
    { arbitrary: valueArb, weight: 1 },
  );
}

/** `request` as is, as JSON text, as broken JSON text, or replaced by any value at all. */
function payloadForms(request: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> {
  return fc.oneof(
    { arbitrary: request, weight: 6 },
    { arbitrary: request.map((value) => JSON.stringify(value) ?? 'null'), weight: 3 },
    { arbitrary: brokenJsonArb(request), weight: 1 },
    { arbitrary: valueArb, weight: 1 },
  );
}

/** An object of `fields`, now and then with some of them missing, now and then with an extra key. */
function requestArb(fields: Record<string, fc.Arbitrary<unknown>>): fc.Arbitrary<unknown> {
  const complete = fc.oneof({ arbitrary: fc.record(fields), weight: 5 }, { arbitrary: fc.record(fields, { requiredKeys: [] }), weight: 1 });
  return fc.tuple(complete, sometimes(fc.tuple(keyArb, valueArb), 4)).map(([request, extra]) => {
    if (extra === null) return request;
    const copy: Record<string, unknown> = { ...request };
    Object.defineProperty(copy, extra[0], { value: extra[1], enumerable: true, writable: true, configurable: true });
    return copy;
  });
}

/**
 * A command of `events` with the arguments `args` makes, then its arity changed now and then (none at
 * all, one short, extra ones), a function in an odd position now and then, with or without an ack.
 */
function commandArb(
  events: fc.Arbitrary<string>,
  args: (event: string) => fc.Arbitrary<unknown[]>,
  ack = fc.boolean(),
): fc.Arbitrary<Command> {
  return events.chain((event) =>
    fc.record({
      event: fc.constant(event),
      args: fc
        .tuple(
          fc.oneof(
            { arbitrary: args(event), weight: 12 },
            { arbitrary: fc.constant([]), weight: 1 },
            { arbitrary: args(event).map((list) => list.slice(0, -1)), weight: 1 },
            {
              arbitrary: fc
                .tuple(args(event), fc.array(valueArb, { minLength: 1, maxLength: 3 }))
                .map(([list, extra]) => [...list, ...extra]),
              weight: 2,
            },
          ),
          sometimes(fc.nat(), 8),
        )
        .map(([list, stray]) => {
          // Never in the last position, where the client would take it for the ack.
          if (stray === null || list.length === 0) return list;
          const at = stray % list.length;
          return [...list.slice(0, at), STRAY_FUNCTION, ...list.slice(at)];
        }),
      ack,
    }),
  );
}

/** A run's commands: enough to interleave joins, leaves and messages, few enough to stay quick. */
function commandsArb(command: fc.Arbitrary<Command>): fc.Arbitrary<Command[]> {
  return fc.array(command, { minLength: 1, maxLength: 12 });
}

// --------------------------------------------------------------------------------------------------------
// Reading requests the server accepted (independently of lib/: these are the protocol's rules).

/** A layout payload: JSON text is parsed; anything else is taken as sent. */
function wirePayload(value: unknown): Record<string, unknown> {
  const wire = wireForm(value);
  const parsed: unknown = typeof wire === 'string' ? JSON.parse(wire) : wire;
  if (typeof parsed !== 'object' || parsed === null) throw new Error(`an accepted payload that is no object: ${JSON.stringify(wire)}`);
  return parsed as Record<string, unknown>;
}

/** A bare id, a JSON string of one, or an object with the id under `key` (PROTOCOL.md: id-or-object arguments). */
function idOrObject(value: unknown, key: string): unknown {
  const wire = wireForm(value);
  if (typeof wire === 'string') {
    if (wire.startsWith('{') || wire.startsWith('"')) {
      try {
        const parsed: unknown = JSON.parse(wire);
        if (typeof parsed === 'string') return parsed;
        if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) return (parsed as Record<string, unknown>)[key];
      } catch {
        // A plain id that starts like JSON.
      }
    }
    return wire;
  }
  return typeof wire === 'object' && wire !== null && !Array.isArray(wire) ? (wire as Record<string, unknown>)[key] : wire;
}

function text(value: unknown): string {
  if (typeof value !== 'string') throw new Error(`expected an accepted id to be a string, got ${JSON.stringify(value)}`);
  return value;
}

// --------------------------------------------------------------------------------------------------------
// Namespaces.

const layoutArgs = (): fc.Arbitrary<unknown[]> =>
  payloadForms(requestArb({ room: idArb(['r', 's']), name: idArb(['A', 'A2']), message: valueArb })).map((payload) => [payload]);

function layoutSpec(ns: '/layout' | '/bus'): Spec {
  return {
    ns,
    serverEvents: LayoutEvents.serverToClient,
    command: commandArb(eventArb(LayoutEvents.clientToServer), layoutArgs),
    enter: (bystander) => ack(bystander, 'JOIN', { room: 'r', name: 'B' }),
    bystanderRooms: ['room:r'],
    // CLIENTS is answered asynchronously: an ERROR of an earlier failed CLIENTS comes before this one's ack.
    probe: (socket) => ack(socket, 'CLIENTS', { room: 'probe' }),
    quietProbe: (socket) => ack(socket, '__barrier__'),
    model() {
      let name: string | undefined;
      const rooms = new Set<string>();
      const heard: Heard[] = [];
      return {
        heard,
        rooms: () => [...rooms],
        apply({ event, args, outcome }) {
          if (!outcome.ok || !LayoutEvents.clientToServer.some((known) => known === event)) return;
          const payload = wirePayload(args[0]);
          const room = text(payload.room);
          if (event === 'JOIN') {
            name = text(payload.name);
            rooms.add(`room:${room}`);
          } else if (event === 'LEAVE') {
            rooms.delete(`room:${room}`);
          } else if (event === 'NOTIFY' && room === 'r') {
            heard.push(['EVENT', { sender: name ?? 'unknown', room, message: payload.message }]);
          } else if (event === 'CLIENTS' && outcome.reply) {
            expect(outcome.reply).to.have.property('room', room);
          }
        },
      };
    },
  };
}

const lobbyArgs = (event: string): fc.Arbitrary<unknown[]> => {
  const lobby = idArb(['l', 'm']);
  const forms =
    event === 'BROADCAST'
      ? payloadForms(requestArb({ message: valueArb }))
      : event === 'RTCSIGNAL'
        ? payloadForms(requestArb({ to: idArb([BYSTANDER, SELF, 'nobody']), sdp: valueArb, from: fc.constant('forged') }))
        : fc.oneof(lobby, payloadForms(requestArb({ lobby })));
  return forms.map((payload) => [payload]);
};

const lobbySpec: Spec = {
  ns: '/lobby',
  serverEvents: LobbyEvents.serverToClient,
  command: commandArb(eventArb(LobbyEvents.clientToServer), lobbyArgs),
  enter: (bystander) => ack(bystander, 'JOIN', 'l'),
  bystanderRooms: ['room:l'],
  probe: (socket) => ack(socket, '__barrier__'),
  model(ids) {
    let lobby: string | undefined;
    const heard: Heard[] = [];
    return {
      heard,
      rooms: () => (lobby === undefined ? [] : [`room:${lobby}`]),
      disconnected() {
        if (lobby === 'l') heard.push(['LEFT', ids.actor]);
      },
      apply({ event, args, outcome }) {
        if (!outcome.ok || !LobbyEvents.clientToServer.some((known) => known === event)) return;
        if (event === 'JOIN') {
          lobby = text(idOrObject(args[0], 'lobby'));
          if (outcome.reply) expect(outcome.reply.peers, 'the peers of a JOIN').to.deep.equal(lobby === 'l' ? [ids.bystander] : []);
          if (lobby === 'l') heard.push(['JOINED', ids.actor]);
        } else if (event === 'LEAVE') {
          if (lobby === 'l') heard.push(['LEFT', ids.actor]);
          lobby = undefined;
        } else if (event === 'BROADCAST') {
          if (lobby === 'l') heard.push(['MESSAGE', { from: ids.actor, message: wirePayload(args[0]).message }]);
        } else {
          const { to, from: _forged, ...rest } = wirePayload(args[0]);
          if (to === ids.bystander) heard.push(['RTCSIGNAL', { ...rest, to, from: ids.actor }]);
        }
      },
    };
  },
};

const triggerArgs = (event: string): fc.Arbitrary<unknown[]> => {
  const room = fc.oneof(idArb(['r', 's']), payloadForms(requestArb({ room: idArb(['r', 's']) })));
  return event === 'JOIN' || event === 'LEAVE' ? room.map((r) => [r]) : fc.tuple(room, valueArb).map(([r, data]) => [r, data]);
};

const triggerSpec: Spec = {
  ns: '/trigger',
  serverEvents: TriggerEvents.serverToClient,
  command: commandArb(eventArb(TriggerEvents.clientToServer), triggerArgs),
  enter: (bystander) => ack(bystander, 'JOIN', 'r'),
  bystanderRooms: ['room:r'],
  probe: (socket) => ack(socket, '__barrier__'),
  model() {
    const rooms = new Set<string>();
    const heard: Heard[] = [];
    return {
      heard,
      rooms: () => [...rooms],
      apply({ event, args, outcome }) {
        if (!outcome.ok || !TriggerEvents.clientToServer.some((known) => known === event)) return;
        const room = text(idOrObject(args[0], 'room'));
        if (event === 'JOIN') rooms.add(`room:${room}`);
        else if (event === 'LEAVE') rooms.delete(`room:${room}`);
        else if (room === 'r') heard.push([TriggerBroadcasts[event as keyof typeof TriggerBroadcasts], wireForm(args[1])]);
      },
    };
  },
};

/** Relayed names: ordinary ones, prototype keys, and names that are or look reserved. */
const forwardedEventArb = fc.oneof(
  { arbitrary: fc.constantFrom('draw', 'hello'), weight: 4 },
  {
    arbitrary: fc.constantFrom(...PROTOTYPE_KEYS, 'ERROR', '__count__', '_batch', 'error', 'reconnect', 'ping', 'pong', 'connect_timeout'),
    weight: 2,
  },
  { arbitrary: fc.string({ maxLength: 12 }).filter((name) => !CLIENT_RESERVED_V4.includes(name)), weight: 2 },
);

const forwardingSpec: Spec = {
  ns: '/sharedsocket',
  command: commandArb(forwardedEventArb, () => fc.array(payloadForms(valueArb), { maxLength: 3 })),
  enter: () => Promise.resolve(),
  bystanderRooms: [],
  // A reserved name is refused at once; anything else would be relayed to everyone.
  probe: (socket) => ack(socket, 'ERROR'),
  model() {
    const heard: Heard[] = [];
    return {
      heard,
      rooms: () => [],
      apply({ event, args, outcome }) {
        // `__count__` is answered to its asker alone (the controller/view model), never relayed.
        if (outcome.ok && event !== COUNT_EVENT) heard.push([event, ...(wireForm(args) as unknown[])]);
      },
    };
  },
};

const HMAC = 'a-hmac-secret-of-at-least-32-bytes!!';

/** Tokens of the jwt site, by the marker the generated commands use for them, and the rooms each grants. */
interface SiteTokens {
  readonly token: Readonly<Record<string, string>>;
  readonly rooms: Readonly<Record<string, readonly string[]>>;
}

async function siteTokens(): Promise<SiteTokens> {
  const sign = (claims: Record<string, unknown>, secret = HMAC): Promise<string> =>
    new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setIssuedAt().sign(new TextEncoder().encode(secret));
  const unsigned = (claims: Record<string, unknown>): string =>
    `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.`;
  return {
    token: {
      $T_AB: await sign({ sub: 'u', rooms: ['a', 'b'] }),
      $T_C: await sign({ sub: 'u', rooms: ['c'] }),
      $T_OTHER_USER: await sign({ sub: 'intruder', rooms: ['a'] }),
      $T_EXPIRED: await sign({ sub: 'u', rooms: ['x'], exp: Math.floor(Date.now() / 1000) - 60 }),
      $T_WRONG_KEY: await sign({ sub: 'u', rooms: ['x'] }, 'another-hmac-secret-of-32-bytes-or-more'),
      $T_ALG_NONE: unsigned({ sub: 'u', rooms: ['x'] }),
    },
    rooms: { $T_AB: ['a', 'b'], $T_C: ['c'] },
  };
}

function siteSpec(tokens: SiteTokens): Spec {
  const tokenArb = fc.constantFrom(...Object.keys(tokens.token));
  const authArgs = fc
    .oneof(
      { arbitrary: tokenArb, weight: 3 },
      {
        arbitrary: payloadForms(requestArb({ token: fc.oneof({ arbitrary: tokenArb, weight: 4 }, { arbitrary: valueArb, weight: 1 }) })),
        weight: 4,
      },
    )
    .map((payload) => [payload]);
  return {
    ns: '/app',
    serverEvents: ['ERROR'],
    // AUTH verifies asynchronously, in a thread pool that may finish two verifications out of order: its
    // ack-less form cannot be told apart from the next request's, so it is always acked here (jwt.test.ts
    // covers its ERROR). Unknown events go either way.
    command: eventArb(['AUTH']).chain((event) =>
      event === 'AUTH'
        ? commandArb(fc.constant(event), () => authArgs, fc.constant(true))
        : commandArb(fc.constant(event), () => fc.array(valueArb, { maxLength: 2 })),
    ),
    markers: tokens.token,
    handshake: () => ({ auth: { token: tokens.token.$T_AB } }),
    enter: () => Promise.resolve(),
    bystanderRooms: ['room:a', 'room:b'],
    probe: (socket) => ack(socket, '__barrier__'),
    model() {
      let rooms: readonly string[] = ['a', 'b'];
      return {
        heard: [],
        rooms: () => rooms.map((room) => `room:${room}`),
        apply({ event, args, outcome }) {
          if (!outcome.ok || event !== 'AUTH') return;
          const used = text(idOrObject(args[0], 'token'));
          const marker = Object.keys(tokens.token).find((key) => tokens.token[key] === used);
          const granted = marker === undefined ? undefined : tokens.rooms[marker];
          if (!granted) throw new Error(`AUTH accepted a token that must be refused: ${marker ?? used}`);
          rooms = granted;
        },
      };
    },
  };
}

// --------------------------------------------------------------------------------------------------------
// The run.

/** The part of a v4 or v2 client a run drives. */
interface Actor {
  readonly socket: EventSocket;
  readonly id: string;
  connected(): boolean;
  /** The acknowledgement packets the client has received for the namespace since it connected. */
  readonly acks: { count: number };
  /** Every event it received, where the client can tell (v2 clients have no catch-all listener). */
  readonly heard?: readonly Heard[];
  close(): void;
}

/** Counts acknowledgement packets of `ns` on a client's manager (v4 and v2 managers both emit 'packet'). */
function ackCounter(
  manager: { on(event: 'packet', listener: (packet: { type: number; nsp: string }) => void): unknown },
  ns: string,
): { count: number } {
  const counter = { count: 0 };
  manager.on('packet', (packet) => {
    if (packet.nsp === ns && ACK_PACKETS.has(packet.type)) counter.count += 1;
  });
  return counter;
}

/** Replaces the markers in a value (at the top, in an object's own string fields, or in JSON text). */
function withMarkers(value: unknown, markers: Readonly<Record<string, string>>): unknown {
  const replace = (s: string): string => Object.entries(markers).reduce((text, [marker, real]) => text.replaceAll(marker, real), s);
  if (typeof value === 'string') return replace(value);
  if (typeof value !== 'object' || value === null || Object.getPrototypeOf(value) !== Object.prototype) return value;
  const copy: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) {
    Object.defineProperty(copy, key, {
      value: typeof field === 'string' ? replace(field) : field,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return copy;
}

/** Asserts that `actual` is `expected`, showing where they part (the texts may be megabytes long). */
function expectSameText(actual: string, expected: string, label: string): void {
  if (actual === expected) return;
  let at = 0;
  while (at < actual.length && actual[at] === expected[at]) at += 1;
  const around = (textOf: string): string => textOf.slice(Math.max(0, at - 200), at + 200);
  expect.fail(`${label} differs at character ${at}: got …${around(actual)}… expected …${around(expected)}…`);
}

/** Resolves once the server's Engine.IO connection is closed. */
function engineClosed(conn: EngineSocket): Promise<void> {
  if (conn.readyState === 'closed') return Promise.resolve();
  return withDeadline(new Promise<void>((resolve) => conn.once('close', () => resolve())), 'the engine connection to close');
}

/** Asserts that `reply` is `{ ok: true, ... }` or exactly `{ ok: false, error: { code, message } }` with a catalogued code. */
function expectReplyFormat(reply: unknown, label: string): Outcome {
  expect(reply, label).to.be.an('object').that.has.property('ok');
  const { ok } = reply as { ok: unknown };
  if (ok === true) return { ok: true, reply: reply as Record<string, unknown> };
  expect(ok, label).to.equal(false);
  expect(reply, label).to.have.all.keys('ok', 'error');
  const { error } = reply as { error: unknown };
  expect(error, label).to.be.an('object').that.has.all.keys('code', 'message');
  const { code, message } = error as { code: unknown; message: unknown };
  expect(Object.keys(ErrorCatalog), label).to.include(code);
  expect(message, label).to.be.a('string').and.not.equal('');
  return { ok: false, code: code as string };
}

/** Asserts an `ERROR` event: exactly `{ event, code, message }` with a catalogued code. */
function expectErrorEvent(body: unknown, event: string, label: string): string {
  expect(body, label).to.be.an('object').that.has.all.keys('event', 'code', 'message');
  const { event: named, code, message } = body as Record<string, unknown>;
  expect(named, label).to.equal(event);
  expect(Object.keys(ErrorCatalog), label).to.include(code);
  expect(message, label).to.be.a('string').and.not.equal('');
  return code as string;
}

type Connect = (srv: TestServer, spec: Spec) => Promise<Actor>;

const connectV4Actor: Connect = async (srv, spec) => {
  const socket = await srv.connect(spec.ns, { ...WS, ...spec.handshake?.('actor') });
  return {
    socket,
    id: socket.id ?? '',
    connected: () => socket.connected,
    acks: ackCounter(socket.io, spec.ns),
    heard: recordAll(socket).heard,
    close: () => socket.disconnect(),
  };
};

const connectV2Actor: Connect = async (srv, spec) => {
  const socket = await srv.connectLegacy(spec.ns, { transports: ['websocket'] });
  return { socket, id: socket.id, connected: () => socket.connected, acks: ackCounter(socket.io, spec.ns), close: () => socket.close() };
};

/** One run: fresh actor and bystander, `commands` from the actor, then every check. */
async function run(srv: TestServer, spec: Spec, commands: readonly Command[], connect: Connect): Promise<void> {
  const bystander = await srv.connect(spec.ns, { ...WS, ...spec.handshake?.('bystander') });
  await spec.enter(bystander);
  const actor = await connect(srv, spec);
  const ids: Ids = { actor: actor.id, bystander: bystander.id ?? '' };
  const markers = { [SELF]: ids.actor, [BYSTANDER]: ids.bystander, ...spec.markers };
  const conns = [srv.serverSocket(spec.ns, actor.id).conn, srv.serverSocket(spec.ns, bystander.id).conn];
  const actorGone = srv.serverDisconnect(spec.ns, actor.id);
  const model = spec.model(ids);
  const atBystander = recordAll(bystander);
  const errors: unknown[] = [];
  actor.socket.on('ERROR', (body: unknown) => errors.push(body));
  let strayCalls = 0;
  let acked = 0;
  let cutOff = false;

  for (const [i, command] of commands.entries()) {
    const label = `command #${i} ${JSON.stringify(command.event)}`;
    const probe = (): Promise<unknown> =>
      spec.probe(actor.socket).catch((err: unknown) => {
        throw new Error(`after ${label} (connected: ${String(actor.connected())}): ${err instanceof Error ? err.message : String(err)}`);
      });
    const args = command.args.map((arg) => withMarkers(arg, markers));
    const wire = args.map((arg) => (arg === STRAY_FUNCTION ? () => void (strayCalls += 1) : arg));
    const sent = asEncoded(args.map((arg) => (arg === STRAY_FUNCTION ? undefined : arg)));
    if (binaryCount(sent) > MAX_ATTACHMENTS) {
      // socket.io-parser's decoder refuses a packet announcing more attachments than that, and Socket.IO
      // closes the connection: the request has no effect, and nothing after it is sent.
      const closed = next<string>(actor.socket, 'disconnect');
      actor.socket.emit(command.event, ...wire, ...(command.ack ? [() => void (strayCalls += 1)] : []));
      expect(await closed, `the disconnect after ${label}, over the attachment limit`).to.equal('transport close');
      await actorGone;
      model.disconnected?.();
      cutOff = true;
      break;
    }
    let outcome: Outcome;
    if (command.ack) {
      let calls = 0;
      const reply = await withDeadline(
        new Promise<unknown>((resolve) =>
          actor.socket.emit(command.event, ...wire, (response: unknown) => {
            calls += 1;
            resolve(response);
          }),
        ),
        `the ack of ${label}`,
      );
      acked += 1;
      outcome = expectReplyFormat(reply, label);
      await probe();
      acked += 1;
      expect(calls, `ack calls of ${label}`).to.equal(1);
    } else {
      const before = errors.length;
      actor.socket.emit(command.event, ...wire);
      await probe();
      acked += 1;
      const reported = errors.slice(before);
      expect(reported.length, `ERROR events for ${label}`).to.be.at.most(1);
      outcome =
        reported.length === 0 ? { ok: true, reply: undefined } : { ok: false, code: expectErrorEvent(reported[0], command.event, label) };
    }
    model.apply({ event: command.event, args: sent, outcome });
  }

  if (!cutOff) {
    // Everything the actor caused has been sent to the bystander before the actor's last answer.
    await spec.probe(actor.socket);
    acked += 1;
    expect(actor.acks.count, 'acknowledgement packets: one per acked request').to.equal(acked);
    expect(actor.connected(), 'the actor is still connected').to.equal(true);
    expect(srv.roomsOf(spec.ns, actor.id).sort(), "the actor's rooms").to.deep.equal(model.rooms().sort());
  }
  await (spec.quietProbe ?? spec.probe)(bystander);
  atBystander.stop();
  expect(strayCalls, 'functions in argument positions other than the last are never called').to.equal(0);
  // As JSON text: chai's deep equality recurses several frames a level and overflows on the deep values.
  // The server builds its events with the fields in the order written here, and JSON keeps the order.
  expectSameText(JSON.stringify(wireForm(atBystander.heard)), JSON.stringify(wireForm(model.heard)), 'what the bystander heard');
  if (spec.serverEvents && actor.heard) {
    for (const [event] of actor.heard) expect(spec.serverEvents, 'an event the actor received').to.include(event);
  }
  expect(srv.roomsOf(spec.ns, bystander.id).sort(), "the bystander's rooms").to.deep.equal([...spec.bystanderRooms].sort());

  // Both gone: nothing of them is left in the namespace, its rooms or the engine.
  const gone = [actorGone, srv.serverDisconnect(spec.ns, bystander.id), ...conns.map(engineClosed)];
  actor.close();
  bystander.disconnect();
  await Promise.all(gone);
  const nsp = srv.app.io.of(spec.ns);
  expect(nsp.sockets.size, 'sockets left in the namespace').to.equal(0);
  expect([...nsp.adapter.rooms.keys()], 'rooms left in the namespace').to.deep.equal([]);
  expect(srv.app.io.engine.clientsCount, 'engine connections left').to.equal(0);
}

async function propertyServer(): Promise<TestServer> {
  const access = parseSitesFile(
    { sites: { app: { auth: { mode: 'jwt', algorithms: ['HS256'], secret: HMAC } } }, forwarding: [{ namespace: '/sharedsocket' }] },
    'test',
    {},
  );
  // Two fresh clients per run, runs back to back, and wrong tokens on purpose: the per-address limits (connect
  // rate, failed-auth budget) have their own tests in test/limits/, and here would only end the runs early.
  return startServer({ ...WITHOUT_RECOVERY, access, maxIdLength: MAX_ID, maxPayload: MAX_PAYLOAD, connectRate: 0, maxAuthFailures: 0 });
}

/** The counterexample as text; fast-check's printer recurses once per level and overflows on the deep values. */
function printable(value: unknown): string {
  try {
    return fc.stringify(value);
  } catch {
    return JSON.stringify(value, (_key, field: unknown) => (typeof field === 'function' ? '[function]' : field)) ?? String(value);
  }
}

async function check(spec: Spec | ((tokens: SiteTokens) => Spec), connect: Connect = connectV4Actor, runs = RUNS): Promise<void> {
  const srv = await propertyServer();
  const resolved = typeof spec === 'function' ? spec(await siteTokens()) : spec;
  const details = await fc.check(
    fc.asyncProperty(commandsArb(resolved.command), (commands) => run(srv, resolved, commands, connect)),
    // No shrinking by default: every step of it is a run over the network. PROPERTY_SHRINK=1 turns it on.
    { numRuns: runs, seed: SEED, ...(PATH === undefined ? {} : { path: PATH }), endOnFailure: process.env.PROPERTY_SHRINK === undefined },
  );
  if (!details.failed) return;
  // fast-check's own report prints the counterexample in full, megabytes of it with the large strings.
  const counterexample = printable(details.counterexample);
  const dump = process.env.PROPERTY_DUMP;
  if (dump !== undefined) writeFileSync(dump, counterexample);
  const cause = details.errorInstance instanceof Error ? details.errorInstance : new Error(String(details.errorInstance));
  throw new Error(
    `property failed after ${details.numRuns} runs; reproduce with PROPERTY_SEED=${details.seed} PROPERTY_PATH=${details.counterexamplePath ?? ''}\n` +
      `${cause.message}\ncounterexample (first 3000 characters): ${counterexample.slice(0, 3000)}`,
    { cause },
  );
}

describe('properties: arbitrary requests on every namespace', function () {
  this.timeout(PROPERTY_TIMEOUT_MS);

  for (const ns of ['/layout', '/bus'] as const) {
    it(`${ns}: every ack answered once in the reply format, bystander and rooms as the accepted requests say`, async () => {
      await check(layoutSpec(ns));
    });
  }

  it('/lobby: every ack answered once in the reply format, bystander and lobby as the accepted requests say', async () => {
    await check(lobbySpec);
  });

  it('/trigger: every ack answered once in the reply format, bystander and rooms as the accepted requests say', async () => {
    await check(triggerSpec);
  });

  it('a jwt site (AUTH with good, expired, wrongly signed, alg=none and other users’ tokens): rooms follow the accepted AUTHs only', async () => {
    await check(siteSpec);
  });

  it('a forwarding namespace: exactly the accepted events are relayed, with all their arguments, reserved names never', async () => {
    await check(forwardingSpec);
  });

  it('/layout through the legacy 2.x client (Engine.IO 3): the same, from a client that sends JSON strings as often as objects', async () => {
    await check(layoutSpec('/layout'), connectV2Actor, Math.ceil(RUNS / 2));
  });
});
