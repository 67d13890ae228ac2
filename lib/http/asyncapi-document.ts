/**
 * The wire protocol as an AsyncAPI 3.0 document, built from the schemas of protocol/: what `GET /asyncapi.json`
 * serves and `npm run generate` writes to docs/asyncapi.json, for clients in other languages and AsyncAPI tools.
 *
 * How Socket.IO maps onto AsyncAPI 3: one channel per namespace (its address is the namespace, `/{site}` and
 * `/{namespace}` stand for the sites' and the forwarding namespaces); one message per event and direction,
 * named by the event; operations are the service's: `receive` for what a client emits, `send` for what the
 * service emits; an acknowledgement is the operation's `reply` on the same channel. A message's payload is
 * the event's one argument, or, for an event with several, the list of its arguments (`x-socket-io-arguments`
 * names them); an event without arguments has no payload.
 */
import Type, { type TSchema } from 'typebox';
import {
  AckFailureSchema,
  AckSuccessSchema,
  AuthRefreshResultSchema,
  AuthRefreshSchema,
  BatchSchema,
  COUNT_EVENT,
  ErrorBodySchema,
  ErrorCatalog,
  ErrorEventSchema,
  ForwardingEvents,
  Identifier,
  LayoutEvents,
  LayoutEventSchemas,
  LayoutRequestSchemas,
  LobbyEvents,
  LobbyEventSchemas,
  LobbyRequestSchemas,
  Namespaces,
  OFFSET_EVENT,
  PresenceEventSchema,
  RecoveryEvents,
  SettingsSchema,
  SiteEvents,
  TriggerEvents,
  TriggerRequestSchemas,
  ViewCountSchema,
  ViewPeerSchema,
} from '../../protocol/index.js';
import { assertDraft07, plainJson } from './json-schema.js';

/** The path of the document on the service. */
export const ASYNCAPI_PATH = '/asyncapi.json';

/** Where `npm run generate` writes the document, from the repository root. */
export const ASYNCAPI_FILE = 'docs/asyncapi.json';

/** What the document's `info` says about the package. */
export interface AsyncApiInfo {
  readonly version: string;
  readonly description: string;
  readonly license: string;
}

/** A JSON object of the document. */
export type JsonObject = { [key: string]: unknown };

/** One argument of an event: its name (for `x-socket-io-arguments`) and its schema. */
interface Argument {
  readonly name: string;
  readonly schema: TSchema | JsonObject;
}

/** An event a client emits, and what its ack answers on success. */
interface ClientEvent {
  readonly summary: string;
  readonly args: readonly Argument[];
  /** The fields of a successful ack besides `ok: true`; none: the ack is `{ ok: true }`. */
  readonly result?: TSchema;
  /** How the service answers without an ack, when that is not an `ERROR` event on failure alone. */
  readonly withoutAck?: string;
}

/** An event the service emits; `acked`: the client must call the event's ack callback (with no arguments). */
interface ServerEvent {
  readonly summary: string;
  readonly args: readonly Argument[];
  readonly acked?: string;
}

/** A namespace: its channel and every event of its protocol module's name lists, in both directions. */
interface NamespaceSpec<C extends string, S extends string> {
  readonly key: string;
  readonly address: string;
  readonly title: string;
  readonly description: string;
  readonly parameters?: Readonly<Record<string, { readonly description: string; readonly examples: readonly string[] }>>;
  readonly names: { readonly clientToServer: readonly C[]; readonly serverToClient: readonly S[] };
  readonly clientToServer: Readonly<Record<C, ClientEvent>>;
  readonly serverToClient: Readonly<Record<S, ServerEvent>>;
}

/** The codes of the error catalog, in its order. */
const ERROR_CODES = Object.keys(ErrorCatalog);

const ref = (path: string): JsonObject => ({ $ref: path });
const SCHEMAS = '#/components/schemas/';
// The error shapes as TypeBox emits them, to be replaced by references wherever a schema embeds them.
const ERROR_BODY_JSON = JSON.stringify(plainJson(ErrorBodySchema));
const ACK_FAILURE_JSON = JSON.stringify(plainJson(AckFailureSchema));

/** A request as it may travel: the object, or a JSON string of it (what legacy clients send). */
function wire(schema: TSchema, string = 'the same object as a JSON string (what legacy clients send)'): JsonObject {
  return { anyOf: [schema, { type: 'string', description: string }] };
}

/** A room or lobby reference: a bare id, a JSON string of one, or the object. */
function idOrObject(schema: TSchema, what: string): JsonObject {
  return {
    anyOf: [
      { ...plainSchema(Identifier()), description: `a bare ${what} id` },
      schema,
      { type: 'string', description: 'the object, or the id, as a JSON string' },
    ],
  };
}

const ERROR_EVENT: ServerEvent = {
  summary: 'A request without an ack failed: its event name, code and message.',
  args: [{ name: 'error', schema: ErrorEventSchema }],
};
const PRESENCE: ServerEvent = {
  summary: 'Another socket joined, left or was renamed in one of this socket’s rooms (only where presence is on).',
  args: [{ name: 'presence', schema: PresenceEventSchema }],
};

type LayoutSpec = NamespaceSpec<(typeof LayoutEvents.clientToServer)[number], (typeof LayoutEvents.serverToClient)[number]>;

/** The events of /layout, and of /bus, whose EVENT may also come from HTTP. */
const layoutEvents = (bus: boolean): Pick<LayoutSpec, 'clientToServer' | 'serverToClient'> => ({
  clientToServer: {
    JOIN: {
      summary: 'Join a room under a display name (a later JOIN overwrites the name).',
      args: [{ name: 'request', schema: wire(LayoutRequestSchemas.JOIN) }],
    },
    LEAVE: {
      summary: 'Leave a room (not an error when not a member).',
      args: [{ name: 'request', schema: wire(LayoutRequestSchemas.LEAVE) }],
    },
    NOTIFY: {
      summary: 'Send `message` to every other socket in the room, as EVENT.',
      args: [{ name: 'request', schema: wire(LayoutRequestSchemas.NOTIFY) }],
    },
    CLIENTS: {
      summary: 'Ask for the names of the room’s current members, in join order.',
      args: [{ name: 'request', schema: wire(LayoutRequestSchemas.CLIENTS) }],
      result: LayoutEventSchemas.CLIENTS,
      withoutAck: 'The requester also receives CLIENTS, with or without an ack.',
    },
  },
  serverToClient: {
    EVENT: {
      summary: bus
        ? 'Another socket’s NOTIFY, or `POST /bus-message/:room` (sender "POST").'
        : 'Another socket’s NOTIFY: its display name (or "unknown"), the room and the message, unchanged.',
      args: [{ name: 'event', schema: LayoutEventSchemas.EVENT }],
    },
    CLIENTS: {
      summary: 'The answer to CLIENTS: member names in join order.',
      args: [{ name: 'clients', schema: LayoutEventSchemas.CLIENTS }],
    },
    PRESENCE,
    ERROR: ERROR_EVENT,
  },
});

const LAYOUT: LayoutSpec = {
  key: 'layout',
  address: Namespaces.layout,
  title: '/layout: rooms with named members',
  description:
    'Rooms whose members have display names. On disconnect a socket leaves all its rooms; no one is told (unless `--presence` names the namespace).',
  names: LayoutEvents,
  ...layoutEvents(false),
};

const BUS: LayoutSpec = {
  ...LAYOUT,
  key: 'bus',
  address: Namespaces.bus,
  title: '/bus: /layout’s protocol, plus HTTP publishing',
  description:
    'The events and semantics of /layout on rooms of its own; in addition `POST /bus-message/:room` with a JSON body reaches every socket of the room as EVENT with sender "POST".',
  ...layoutEvents(true),
};

const LOBBY: NamespaceSpec<(typeof LobbyEvents.clientToServer)[number], (typeof LobbyEvents.serverToClient)[number]> = {
  key: 'lobby',
  address: Namespaces.lobby,
  title: '/lobby: peer lobbies for WebRTC signalling',
  description:
    'A socket is in at most one lobby; peers are known by their socket ids. A `lobbyId` in the handshake (query or auth) joins that lobby right after connecting. On disconnect the other members receive LEFT.',
  names: LobbyEvents,
  clientToServer: {
    JOIN: {
      summary: 'Join a lobby: every member, the newcomer included, receives JOINED; then the newcomer PEERS.',
      args: [{ name: 'lobby', schema: idOrObject(LobbyRequestSchemas.LOBBY, 'lobby') }],
      result: LobbyEventSchemas.JOIN_RESULT,
    },
    LEAVE: {
      summary: 'Leave the lobby: the other members receive LEFT.',
      args: [{ name: 'lobby', schema: idOrObject(LobbyRequestSchemas.LOBBY, 'lobby') }],
    },
    BROADCAST: {
      summary: 'Send `message` to every member of the sender’s lobby, the sender included, as MESSAGE.',
      args: [{ name: 'request', schema: wire(LobbyRequestSchemas.BROADCAST) }],
    },
    RTCSIGNAL: {
      summary:
        'Relay a signal (SDP, ICE candidates, …) to the peer `to` of the sender’s lobby, as RTCSIGNAL with `from` set by the server.',
      args: [{ name: 'signal', schema: wire(LobbyRequestSchemas.RTCSIGNAL) }],
    },
  },
  serverToClient: {
    JOINED: {
      summary: 'A socket id that joined the lobby (the newcomer receives its own).',
      args: [{ name: 'peerId', schema: LobbyEventSchemas.JOINED }],
    },
    PEERS: {
      summary: 'To the newcomer alone, after JOINED: the ids of the other members.',
      args: [{ name: 'peerIds', schema: LobbyEventSchemas.PEERS }],
    },
    LEFT: { summary: 'A socket id that left the lobby or disconnected.', args: [{ name: 'peerId', schema: LobbyEventSchemas.LEFT }] },
    MESSAGE: {
      summary: 'A BROADCAST in the lobby, the sender’s own included.',
      args: [{ name: 'message', schema: LobbyEventSchemas.MESSAGE }],
    },
    RTCSIGNAL: {
      summary: 'A peer’s signal: its fields, `to`, and `from` (always set by the server).',
      args: [{ name: 'signal', schema: LobbyEventSchemas.RTCSIGNAL }],
    },
    ERROR: ERROR_EVENT,
  },
};

const triggerRoom: Argument = { name: 'room', schema: idOrObject(TriggerRequestSchemas.ROOM, 'room') };
const triggerData: Argument = { name: 'data', schema: { description: 'any JSON value, relayed unchanged' } };
const triggerRelay = (event: string): ServerEvent => ({
  summary: `Another member’s BROADCAST_${event}: its data, unchanged.`,
  args: [triggerData],
});

const TRIGGER: NamespaceSpec<(typeof TriggerEvents.clientToServer)[number], (typeof TriggerEvents.serverToClient)[number]> = {
  key: 'trigger',
  address: Namespaces.trigger,
  title: '/trigger: room broadcast channel',
  description: 'Rooms whose members relay data to each other, used by timeline services.',
  names: TriggerEvents,
  clientToServer: {
    JOIN: { summary: 'Join a room.', args: [triggerRoom] },
    LEAVE: { summary: 'Leave a room.', args: [triggerRoom] },
    BROADCAST_EVENTS: { summary: 'Every other member of the room receives EVENTS with `data`.', args: [triggerRoom, triggerData] },
    BROADCAST_UPDATES: { summary: 'Every other member of the room receives UPDATES with `data`.', args: [triggerRoom, triggerData] },
    BROADCAST_STATUS: { summary: 'Every other member of the room receives STATUS with `data`.', args: [triggerRoom, triggerData] },
  },
  serverToClient: { EVENTS: triggerRelay('EVENTS'), UPDATES: triggerRelay('UPDATES'), STATUS: triggerRelay('STATUS'), ERROR: ERROR_EVENT },
};

const SITE: NamespaceSpec<(typeof SiteEvents.clientToServer)[number], (typeof SiteEvents.serverToClient)[number]> = {
  key: 'site',
  address: '/{site}',
  title: 'A site’s namespace',
  description:
    'One per site of the sites file, with the site’s auth mode (handshake `auth`/query: `token`; `username`/`password` in `auth` only; `deviceId` and `messageIds` on sites with a `userRoomPrefix`). The site’s own events come from its backend through `POST /send` and are not described here; a refused handshake is a `connect_error` whose `data.code` is an error code.',
  parameters: {
    site: { description: 'The namespace of a site of the sites file (its name unless it sets `namespace`).', examples: ['shop'] },
  },
  names: SiteEvents,
  clientToServer: {
    AUTH: {
      summary: 'jwt sites: a fresh token for the same user; the socket’s rooms follow its claim. Elsewhere an ack gets BAD_REQUEST.',
      args: [
        {
          name: 'request',
          schema: { anyOf: [AuthRefreshSchema, { type: 'string', description: 'the token itself, or the object as a JSON string' }] },
        },
      ],
      result: AuthRefreshResultSchema,
    },
  },
  serverToClient: {
    ERROR: { ...ERROR_EVENT, summary: 'A failed AUTH without an ack, and on a jwt site the token’s expiry, just before the disconnect.' },
    _settings: {
      summary: 'Sites with a `userRoomPrefix`: right after the connect, to every socket.',
      args: [{ name: 'settings', schema: SettingsSchema }],
    },
    _batch: {
      summary: 'A device socket’s pending messages, oldest first, right after _settings.',
      args: [{ name: 'entries', schema: BatchSchema }],
      acked: 'The client calls the ack once it has applied the entries; it removes exactly these from the device’s queue.',
    },
    _resync: { summary: 'The device’s queue was cleared (a resync push acked out of order, or an overflow): resync in full.', args: [] },
    PRESENCE: { ...PRESENCE, summary: 'Sites with `presence: true`: another socket joined or left one of this socket’s rooms.' },
  },
};

const FORWARDING: NamespaceSpec<(typeof ForwardingEvents.clientToServer)[number], (typeof ForwardingEvents.serverToClient)[number]> = {
  key: 'forwarding',
  address: '/{namespace}',
  title: 'A forwarding namespace',
  description:
    'One per forwarding entry of the sites file (`/sharedsocket`, `/do-<name>`): every other event a client sends is the application’s own and is re-emitted to the namespace unchanged. A socket may declare itself a `controller` or a `view` in its handshake (`auth.type`, or `?type=` for legacy clients); views are counted and announced.',
  parameters: { namespace: { description: 'A forwarding namespace of the sites file.', examples: ['sharedsocket', 'do-tv'] } },
  names: ForwardingEvents,
  clientToServer: {
    [COUNT_EVENT]: {
      summary: 'Ask how many views the namespace has, on every node.',
      args: [],
      result: ViewCountSchema,
      withoutAck: 'Without an ack the asker alone receives `__count__ <count>`.',
    },
  },
  serverToClient: {
    __count__: {
      summary: 'The answer to a `__count__` without an ack: the number of views.',
      args: [{ name: 'count', schema: Type.Integer({ minimum: 0 }) }],
    },
    __connect__: { summary: 'A view connected; to every other socket of the namespace.', args: [{ name: 'view', schema: ViewPeerSchema }] },
    __disconnect__: {
      summary: 'A view is gone; to every other socket of the namespace.',
      args: [{ name: 'view', schema: ViewPeerSchema }],
    },
    ERROR: ERROR_EVENT,
  },
};

/** Every namespace the document describes, in its order. */
const NAMESPACES = [LAYOUT, BUS, LOBBY, TRIGGER, SITE, FORWARDING];

/** The recovery event, sent on every namespace that recovers sessions (besides the namespace's own events). */
const RECOVERY: Readonly<Record<(typeof RecoveryEvents.serverToClient)[number], ServerEvent>> = {
  [OFFSET_EVENT]: {
    summary:
      'Namespaces that recover sessions (the built-in ones unless `--recovery-window 0`; sites and forwarding entries with `recovery: true`): the new v4 session’s first recovery offset, right after it connects. With recovery on, every other event also carries its offset as one more, last argument. Clients need not listen.',
    args: [{ name: 'offset', schema: Type.String() }],
  },
};

/** A TypeBox schema as plain draft-07 JSON, the error catalog's shapes referenced from components. */
function plainSchema(schema: TSchema | JsonObject): JsonObject {
  const plain = toDraft07(plainJson(schema));
  if (typeof plain !== 'object' || plain === null || Array.isArray(plain)) throw new Error('a schema is not an object');
  return plain as JsonObject;
}

/** TypeBox's 2020-12 tuples as draft-07's, and the error shapes as references. */
function toDraft07(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(toDraft07);
  if (typeof value !== 'object' || value === null) return value;
  const json = JSON.stringify(value);
  if (json === ACK_FAILURE_JSON) return ref(`${SCHEMAS}AckFailure`);
  if (json === ERROR_BODY_JSON) return ref(`${SCHEMAS}ErrorBody`);
  const copy: JsonObject = {};
  for (const [key, member] of Object.entries(value)) copy[key] = toDraft07(member);
  if ('prefixItems' in copy) {
    const { prefixItems, items, ...rest } = copy;
    return { ...rest, items: prefixItems, additionalItems: items ?? true };
  }
  return copy;
}

/** The message of an event's arguments: one argument is the payload, several are a list, none is no payload. */
function message(name: string, title: string, summary: string, args: readonly Argument[]): JsonObject {
  const payload =
    args.length === 0
      ? undefined
      : args.length === 1 && args[0] !== undefined
        ? plainSchema(args[0].schema)
        : { type: 'array', items: args.map((arg) => plainSchema(arg.schema)), minItems: args.length, additionalItems: false };
  if (payload !== undefined) assertDraft07(payload, `${name} payload`, isExtra);
  return {
    name,
    title,
    summary,
    contentType: 'application/json',
    ...(payload === undefined ? {} : { payload }),
    ...(args.length > 1 ? { 'x-socket-io-arguments': args.map((arg) => arg.name) } : {}),
  };
}

/** The channel and operations of one namespace. */
function namespaceParts<C extends string, S extends string>(spec: NamespaceSpec<C, S>): { channel: JsonObject; operations: JsonObject } {
  const messages: JsonObject = {};
  const operations: JsonObject = {};
  const channelRef = ref(`#/channels/${spec.key}`);
  const messageRef = (key: string) => ref(`#/channels/${spec.key}/messages/${key}`);
  for (const name of spec.names.clientToServer) {
    const event: ClientEvent | undefined = spec.clientToServer[name];
    if (event === undefined) throw new Error(`${spec.address}: client-to-server event ${name} has no schema in the AsyncAPI document`);
    messages[`request.${name}`] = message(name, `${name} (client → server)`, event.summary, event.args);
    const success = plainSchema(event.result === undefined ? Type.Object({ ok: Type.Literal(true) }) : AckSuccessSchema(event.result));
    messages[`ack.${name}`] = {
      name: `${name}.ack`,
      title: `${name} acknowledgement`,
      summary: 'The ack callback’s one argument: `{ ok: true, … }` on success, `{ ok: false, error }` on failure.',
      contentType: 'application/json',
      payload: { oneOf: [success, ref(`${SCHEMAS}AckFailure`)] },
    };
    operations[`${spec.key}.receive.${name}`] = {
      action: 'receive',
      channel: channelRef,
      title: `${spec.address} ${name}`,
      summary: event.summary,
      description:
        `${event.withoutAck ?? ''} With an ack callback the service calls it exactly once (the reply); without one a failure is an ERROR event to this socket alone.`.trim(),
      messages: [messageRef(`request.${name}`)],
      reply: { channel: channelRef, messages: [messageRef(`ack.${name}`)] },
    };
  }
  const serverToClient: ReadonlyArray<readonly [string, ServerEvent | undefined]> = [
    ...spec.names.serverToClient.map((name): [string, ServerEvent | undefined] => [name, spec.serverToClient[name]]),
    ...RecoveryEvents.serverToClient.map((name): [string, ServerEvent] => [name, RECOVERY[name]]),
  ];
  for (const [name, event] of serverToClient) {
    if (event === undefined) throw new Error(`${spec.address}: server-to-client event ${name} has no schema in the AsyncAPI document`);
    messages[`event.${name}`] = message(name, `${name} (server → client)`, event.summary, event.args);
    if (event.acked !== undefined)
      messages[`ack.${name}`] = { name: `${name}.ack`, title: `${name} acknowledgement`, summary: event.acked };
    operations[`${spec.key}.send.${name}`] = {
      action: 'send',
      channel: channelRef,
      title: `${spec.address} ${name}`,
      summary: event.summary,
      messages: [messageRef(`event.${name}`)],
      ...(event.acked === undefined ? {} : { reply: { channel: channelRef, messages: [messageRef(`ack.${name}`)] } }),
    };
  }
  const channel: JsonObject = {
    address: spec.address,
    title: spec.title,
    description: spec.description,
    messages,
    ...(spec.parameters === undefined ? {} : { parameters: spec.parameters }),
  };
  return { channel, operations };
}

/** An object schema of protocol/ as plain JSON, some of its properties replaced (by references to components). */
function withProperties(schema: TSchema, replaced: JsonObject): JsonObject {
  const plain = plainJson(schema);
  const properties = at(plain, 'properties');
  if (typeof plain !== 'object' || plain === null || typeof properties !== 'object' || properties === null)
    throw new Error('not an object schema');
  return { ...plain, properties: { ...properties, ...replaced } };
}

/** The member `key` of `value`, when `value` is an object. */
function at(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null ? Reflect.get(value, key) : undefined;
}

/** The error catalog as components: the code (an enum, each value described), the body, a failed ack, the ERROR event. */
function errorSchemas(): JsonObject {
  const descriptions = Object.entries(ErrorCatalog).map(
    ([code, info]) => `${code} (HTTP ${info.status}, ${info.retryable ? 'retryable' : 'not retryable'}): ${info.description}`,
  );
  return {
    ErrorCode: {
      type: 'string',
      title: 'ErrorCode',
      description: `The closed catalog of error codes (protocol/errors.ts). Clients switch on these strings.\n\n${descriptions.map((line) => `- ${line}`).join('\n')}`,
      enum: ERROR_CODES,
      'x-enum-descriptions': descriptions,
      'x-error-catalog': ErrorCatalog,
    },
    ErrorBody: {
      ...withProperties(ErrorBodySchema, { code: ref(`${SCHEMAS}ErrorCode`) }),
      title: 'ErrorBody',
      description: '`{ code, message }`: the `error` of a failed ack, and an HTTP error body; `message` says what went wrong, for humans.',
    },
    AckFailure: {
      ...withProperties(AckFailureSchema, { error: ref(`${SCHEMAS}ErrorBody`) }),
      title: 'AckFailure',
      description: 'A failed acknowledgement.',
    },
  };
}

/**
 * Builds the AsyncAPI 3.0 document of the protocol. Throws when an event of protocol/'s name lists has no
 * schema here, so that a new event cannot be left out of the document.
 *
 * @example
 * ```ts
 * const document = asyncApiDocument(packageManifest);
 * const events = Object.keys(document.operations ?? {});
 * ```
 */
export function asyncApiDocument(info: AsyncApiInfo): JsonObject {
  const channels: JsonObject = {};
  const operations: JsonObject = {};
  for (const spec of NAMESPACES) {
    const parts = namespaceParts<string, string>(spec);
    channels[spec.key] = parts.channel;
    Object.assign(operations, parts.operations);
  }
  const schemas = errorSchemas();
  const document: JsonObject = {
    asyncapi: '3.0.0',
    info: {
      title: 'realtime-rooms',
      version: info.version,
      description: `${info.description}.\n\nSocket.IO v4 mapped onto AsyncAPI 3: a channel per namespace, a message per event and direction (named by the event), operations from the service’s side (\`receive\`: a client emits, \`send\`: the service emits), and a client’s ack callback as the operation’s \`reply\`. A payload is the event’s argument, or the list of its arguments (\`x-socket-io-arguments\`). Every client-to-server payload may also be sent as a JSON string of itself (legacy clients always do). The normative prose is protocol/README.md.`,
      license: { name: info.license, url: `https://spdx.org/licenses/${info.license}.html` },
    },
    servers: {
      ws: {
        host: '{host}',
        protocol: 'ws',
        pathname: '/socket.io/',
        title: 'The service, plain',
        description:
          'Socket.IO v4 (Engine.IO protocol 4; Engine.IO 3 clients, socket.io-client 1.x/2.x, are accepted too) over WebSocket or HTTP long-polling. Connect a Socket.IO client to `http://{host}/<namespace>`; the Engine.IO endpoint is the path `/socket.io/`, not the namespace, which travels inside the connection.',
        variables: { host: { default: 'localhost:3000', description: 'Host and port of the service (`--host`, `--port`).' } },
      },
      wss: {
        host: '{host}',
        protocol: 'wss',
        pathname: '/socket.io/',
        title: 'The service with TLS',
        description: 'The same over TLS (`--tls`), or behind a proxy that terminates it.',
        variables: { host: { default: 'localhost:3000', description: 'Host and port of the service.' } },
      },
    },
    defaultContentType: 'application/json',
    channels,
    operations,
    components: { schemas },
  };
  for (const [key, schema] of Object.entries(schemas))
    if (typeof schema === 'object' && schema !== null) assertDraft07(schema, `#/components/schemas/${key}`, isExtra);
  return document;
}

/** The document as the file and the route have it: indented JSON with a final newline. */
export function asyncApiJson(info: AsyncApiInfo): string {
  return `${JSON.stringify(asyncApiDocument(info), null, 2)}\n`;
}

/** What the document adds to draft-07 keywords inside schemas: references and extensions. */
function isExtra(keyword: string): boolean {
  return keyword === '$ref' || keyword === 'additionalItems' || keyword.startsWith('x-');
}
