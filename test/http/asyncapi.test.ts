import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import specs from '@asyncapi/specs';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { expect } from 'chai';
import { ASYNCAPI_FILE, ASYNCAPI_PATH, asyncApiDocument } from '../../lib/http/asyncapi-document.js';
import { packageManifest } from '../../lib/runtime/package.js';
import { ErrorCatalog, ForwardingEvents, NamespaceEvents, RecoveryEvents, SiteEvents } from '../../protocol/index.js';
import { repoRoot } from '../../scripts/generate.js';
import { request } from '../support/http.js';
import { startServer } from '../support/server.js';
import { ack, next } from '../support/wait.js';

type Json = Record<string, unknown>;

const document = asyncApiDocument(packageManifest);

/** The member at `path` of `value`, or undefined. */
function at(value: unknown, ...path: string[]): unknown {
  let here = value;
  for (const key of path) {
    if (typeof here !== 'object' || here === null) return undefined;
    here = Reflect.get(here, key);
  }
  return here;
}

/** The value a local `$ref` (`#/a/b`) points to in the document. */
function resolve(pointer: string): unknown {
  expect(pointer.startsWith('#/'), pointer).to.equal(true);
  return at(
    document,
    ...pointer
      .slice(2)
      .split('/')
      .map((part) => part.replaceAll('~1', '/').replaceAll('~0', '~')),
  );
}

/** Every `$ref` of the document. */
function refs(value: unknown, found: string[] = []): string[] {
  if (Array.isArray(value)) for (const item of value) refs(item, found);
  else if (typeof value === 'object' && value !== null)
    for (const [key, member] of Object.entries(value)) {
      if (key === '$ref' && typeof member === 'string') found.push(member);
      else refs(member, found);
    }
  return found;
}

/** The key of the channel whose address is `address`. */
function channelOf(address: string): string {
  const channels = Object.entries((document.channels ?? {}) as Json);
  const found = channels.find(([, channel]) => at(channel, 'address') === address);
  expect(found, `a channel with address ${address}`).not.to.equal(undefined);
  return found?.[0] ?? '';
}

/** Every namespace's event lists, as protocol/ enumerates them, by channel address. */
const PROTOCOL_EVENTS: ReadonlyArray<
  readonly [string, { readonly clientToServer: readonly string[]; readonly serverToClient: readonly string[] }]
> = [...Object.entries(NamespaceEvents), ['/{site}', SiteEvents], ['/{namespace}', ForwardingEvents]];

/** A validator of the document's own schemas: `doc#/…` pointers into it. */
function payloadValidator() {
  const ajv = new Ajv({ strict: false, allErrors: true });
  ajv.addSchema(document, 'doc');
  return (pointer: string) => ajv.compile({ $ref: `doc${pointer}` });
}

describe('AsyncAPI document', () => {
  it('is a valid AsyncAPI 3.0.0 document by the official JSON Schema (@asyncapi/specs)', () => {
    const ajv = new Ajv({ strict: false, allErrors: true });
    addFormats.default(ajv);
    const validate = ajv.compile(specs.schemasWithoutId['3.0.0']);
    expect(validate(document), JSON.stringify(validate.errors?.slice(0, 5), null, 2)).to.equal(true);
  });

  it('says what it is: title, the package version, description and license, the ws and wss servers at /socket.io/', () => {
    expect(document.asyncapi).to.equal('3.0.0');
    expect(at(document, 'info', 'version')).to.equal(packageManifest.version);
    expect(at(document, 'info', 'license', 'name')).to.equal('Apache-2.0');
    expect(at(document, 'info', 'description'))
      .to.be.a('string')
      .that.includes(packageManifest.description);
    for (const protocol of ['ws', 'wss']) {
      expect(at(document, 'servers', protocol, 'protocol')).to.equal(protocol);
      expect(at(document, 'servers', protocol, 'pathname')).to.equal('/socket.io/');
    }
  });

  it('resolves every $ref inside the document', () => {
    const all = refs(document);
    expect(all.length).to.be.greaterThan(100);
    for (const pointer of all) expect(resolve(pointer), pointer).not.to.equal(undefined);
  });

  it('has, for every namespace, every client-to-server event of protocol/ as a receive operation whose reply is the ack', () => {
    for (const [address, events] of PROTOCOL_EVENTS) {
      const channel = channelOf(address);
      for (const event of events.clientToServer) {
        const operation = at(document, 'operations', `${channel}.receive.${event}`);
        expect(operation, `${address} ${event}`).to.include({ action: 'receive' });
        expect(at(operation, 'channel', '$ref')).to.equal(`#/channels/${channel}`);
        expect(at(resolve(`#/channels/${channel}/messages/request.${event}`), 'name')).to.equal(event);
        expect(at(operation, 'messages', '0', '$ref')).to.equal(`#/channels/${channel}/messages/request.${event}`);
        expect(at(operation, 'reply', 'messages', '0', '$ref')).to.equal(`#/channels/${channel}/messages/ack.${event}`);
        expect(at(resolve(`#/channels/${channel}/messages/ack.${event}`), 'payload', 'oneOf', '1', '$ref')).to.equal(
          '#/components/schemas/AckFailure',
        );
      }
    }
  });

  it('has, for every namespace, every server-to-client event of protocol/ (and the recovery offset) as a send operation', () => {
    for (const [address, events] of PROTOCOL_EVENTS) {
      const channel = channelOf(address);
      for (const event of [...events.serverToClient, ...RecoveryEvents.serverToClient]) {
        expect(at(document, 'operations', `${channel}.send.${event}`), `${address} ${event}`).to.include({ action: 'send' });
        expect(at(resolve(`#/channels/${channel}/messages/event.${event}`), 'name')).to.equal(event);
      }
    }
  });

  it('describes nothing protocol/ does not list: one operation per event and direction', () => {
    const expected = PROTOCOL_EVENTS.flatMap(([address, events]) => {
      const channel = channelOf(address);
      return [
        ...events.clientToServer.map((event) => `${channel}.receive.${event}`),
        ...[...events.serverToClient, ...RecoveryEvents.serverToClient].map((event) => `${channel}.send.${event}`),
      ];
    });
    expect(Object.keys(document.operations ?? {}).sort()).to.deep.equal(expected.sort());
  });

  it('has the error catalog in components: every code in the enum, with its description, referenced from the error body', () => {
    const codes = Object.keys(ErrorCatalog);
    expect(at(document, 'components', 'schemas', 'ErrorCode', 'enum')).to.deep.equal(codes);
    const descriptions = at(document, 'components', 'schemas', 'ErrorCode', 'x-enum-descriptions');
    expect(descriptions).to.have.length(codes.length);
    for (const [i, [code, info]] of Object.entries(ErrorCatalog).entries())
      expect(at(descriptions, String(i)))
        .to.include(code)
        .and.include(info.description);
    expect(at(document, 'components', 'schemas', 'ErrorBody', 'properties', 'code', '$ref')).to.equal('#/components/schemas/ErrorCode');
    expect(at(document, 'components', 'schemas', 'AckFailure', 'properties', 'error', '$ref')).to.equal('#/components/schemas/ErrorBody');
  });

  it('has payload schemas that accept what the protocol accepts and refuse the rest', () => {
    const compile = payloadValidator();
    const join = compile('#/channels/layout/messages/request.JOIN/payload');
    expect(join({ room: 'r', name: 'tv' })).to.equal(true);
    expect(join(JSON.stringify({ room: 'r', name: 'tv' }))).to.equal(true);
    expect(join({ room: 1, name: 'tv' })).to.equal(false);
    const ack = compile('#/channels/lobby/messages/ack.JOIN/payload');
    expect(ack({ ok: true, lobby: 'l', peers: ['a'] })).to.equal(true);
    expect(ack({ ok: false, error: { code: 'ALREADY_IN_LOBBY', message: 'leave first' } })).to.equal(true);
    expect(ack({ ok: false, error: { code: 'NO_SUCH_CODE', message: 'x' } })).to.equal(false);
    const error = compile('#/channels/trigger/messages/event.ERROR/payload');
    expect(error({ event: 'JOIN', code: 'BAD_REQUEST', message: 'room must be a string' })).to.equal(true);
    expect(error({ event: 'JOIN', code: 'BAD', message: 'x' })).to.equal(false);
    const broadcast = compile('#/channels/trigger/messages/request.BROADCAST_EVENTS/payload');
    expect(broadcast(['room', { any: 'data' }])).to.equal(true);
    expect(broadcast([1, { any: 'data' }])).to.equal(false);
    expect(broadcast(['room'])).to.equal(false);
    const batch = compile('#/channels/site/messages/event._batch/payload');
    expect(batch([['order', { id: 1 }, { _id: 'm1' }]])).to.equal(true);
    expect(batch([[1]])).to.equal(false);
  });

  it('describes what a real server sends: acks, failures, events and ERROR validate against their messages', async () => {
    const compile = payloadValidator();
    const check = (pointer: string, value: unknown): void => {
      const validate = compile(`${pointer}/payload`);
      expect(validate(value), `${pointer}: ${JSON.stringify(value)} ${JSON.stringify(validate.errors)}`).to.equal(true);
    };
    const srv = await startServer();
    const [a, b] = [await srv.connect('/layout'), await srv.connect('/layout')];
    check('#/channels/layout/messages/ack.JOIN', await ack(a, 'JOIN', { room: 'r', name: 'a' }));
    check('#/channels/layout/messages/ack.JOIN', await ack(b, 'JOIN', JSON.stringify({ room: 'r', name: 'b' })));
    check('#/channels/layout/messages/ack.JOIN', await ack(b, 'JOIN', { room: 1, name: 'b' }));
    const clients = next(b, 'CLIENTS');
    check('#/channels/layout/messages/ack.CLIENTS', await ack(b, 'CLIENTS', { room: 'r' }));
    check('#/channels/layout/messages/event.CLIENTS', await clients);
    const event = next(b, 'EVENT');
    check('#/channels/layout/messages/ack.NOTIFY', await ack(a, 'NOTIFY', { room: 'r', message: { any: ['json'] } }));
    check('#/channels/layout/messages/event.EVENT', await event);

    const lobby = await srv.connect('/lobby');
    const joined = next(lobby, 'JOINED');
    check('#/channels/lobby/messages/ack.JOIN', await ack(lobby, 'JOIN', 'l1'));
    check('#/channels/lobby/messages/event.JOINED', await joined);
    check('#/channels/lobby/messages/ack.JOIN', await ack(lobby, 'JOIN', 'l2'));

    const trigger = await srv.connect('/trigger');
    const error = next(trigger, 'ERROR');
    trigger.emit('JOIN', 5);
    check('#/channels/trigger/messages/event.ERROR', await error);
  });

  it(`is what ${ASYNCAPI_FILE} holds and what GET ${ASYNCAPI_PATH} answers, as application/json`, async () => {
    const file: unknown = JSON.parse(readFileSync(join(repoRoot, ASYNCAPI_FILE), 'utf8'));
    expect(file).to.deep.equal(document);
    const srv = await startServer();
    const res = await request(`${srv.url}${ASYNCAPI_PATH}`);
    expect(res.status).to.equal(200);
    expect(res.type).to.match(/^application\/json/);
    expect(res.body).to.deep.equal(file);
  });

  it('is shipped in the package and exported by path', () => {
    const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { files: string[]; exports: Record<string, unknown> };
    expect(pkg.files).to.include(ASYNCAPI_FILE);
    expect(pkg.exports['./asyncapi.json']).to.equal(`./${ASYNCAPI_FILE}`);
  });
});
