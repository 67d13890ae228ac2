import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import type { Socket } from 'socket.io-client';
import { Compile } from 'typebox/compile';
import { parseSitesFile } from '../lib/config/sites-file.js';
import {
  AuthRefreshResultSchema,
  ErrorBodySchema,
  ErrorCatalog,
  ErrorCode,
  LayoutEventSchemas,
  LayoutRequestSchemas,
  LobbyEventSchemas,
  NamespaceEvents,
  SiteEvents,
  layoutRequestSchemas,
  pushRequestSchema,
  PushResultSchema,
  type LayoutClientToServerEvents,
  type LayoutServerToClientEvents,
  type LobbyClientToServerEvents,
  type LobbyServerToClientEvents,
} from '../protocol/index.js';
import { repoRoot } from './support/cli.js';
import { request } from './support/http.js';
import { startServer } from './support/server.js';
import { withDeadline } from './support/wait.js';

describe('protocol module', () => {
  it('is the package export a client imports by name (after npm run build)', async () => {
    const exported = (await import('realtime-rooms/protocol')) as { ErrorCatalog?: unknown; ErrorCode?: unknown; Namespaces?: unknown };
    expect(exported.ErrorCatalog).to.deep.equal(ErrorCatalog);
    expect(exported.ErrorCode).to.deep.equal(ErrorCode);
    expect(exported.Namespaces).to.deep.equal({ layout: '/layout', bus: '/bus', lobby: '/lobby', trigger: '/trigger' });
  });

  it('has the closed error catalog of PROTOCOL.md, plus NOT_FOUND for HTTP, AUTH_UNAVAILABLE for handshakes and UNAVAILABLE for cluster lookups', () => {
    const protocolMd = [
      'BAD_REQUEST',
      'LIMIT',
      'NOT_IN_LOBBY',
      'ALREADY_IN_LOBBY',
      'UNKNOWN_PEER',
      'UNAUTHORIZED',
      'RATE_LIMITED',
      'INTERNAL',
    ];
    expect(Object.keys(ErrorCatalog)).to.have.members([...protocolMd, 'NOT_FOUND', 'AUTH_UNAVAILABLE', 'UNAVAILABLE']);
  });

  it('derives ErrorCode and the error body schema from the catalog, and gives every code an HTTP error status', () => {
    const codes = Object.keys(ErrorCatalog);
    expect(ErrorCode).to.deep.equal(Object.fromEntries(codes.map((code) => [code, code])));
    const check = Compile(ErrorBodySchema);
    for (const code of codes) expect(check.Check({ code, message: 'x' }), code).to.equal(true);
    expect(check.Check({ code: 'NOPE', message: 'x' })).to.equal(false);
    for (const [code, info] of Object.entries(ErrorCatalog)) {
      expect(info.status, code).to.be.within(400, 599);
      expect(info.retryable, code).to.be.a('boolean');
      expect(info.description, code).to.match(/\.$/);
    }
  });

  it("is what HTTP answers: each error body carries its code's status from the catalog", async () => {
    const access = parseSitesFile({ sites: { shop: { auth: { mode: 'none' }, apiKey: 'shop-key' } } }, 'test', {});
    const srv = await startServer({ access, maxPayload: 100 });
    const send = (query: string, key: string) =>
      request(`${srv.url}/send?${query}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: '{}',
      });
    const answers = [
      await request(`${srv.url}/nowhere`),
      await request(`${srv.url}/bus-message/r`, { method: 'POST', body: '' }),
      await request(`${srv.url}/bus-message/r`, { method: 'POST', body: JSON.stringify('x'.repeat(200)) }),
      await send('site=shop', 'wrong-key'),
      await send('site=nope', 'shop-key'),
      await send('site=shop', 'shop-key'),
    ];
    const seen = answers.map(({ status, body }) => {
      const { code } = (body as { error: { code: keyof typeof ErrorCatalog } }).error;
      expect(status, code).to.equal(ErrorCatalog[code].status);
      return code;
    });
    expect(seen).to.deep.equal(['NOT_FOUND', 'BAD_REQUEST', 'LIMIT', 'UNAUTHORIZED', 'NOT_FOUND', 'BAD_REQUEST']);
  });

  it('bounds identifiers by the configured limit and never coerces numbers', () => {
    const join = Compile(LayoutRequestSchemas.JOIN);
    expect(join.Check({ room: 'r', name: 'n' })).to.equal(true);
    expect(join.Check({ room: 5, name: 'n' })).to.equal(false);
    expect(join.Check({ room: '', name: 'n' })).to.equal(false);
    expect(join.Check({ room: 'x'.repeat(256), name: 'n' })).to.equal(true);
    expect(join.Check({ room: 'x'.repeat(257), name: 'n' })).to.equal(false);
    expect(Compile(layoutRequestSchemas({ maxIdLength: 4 }).JOIN).Check({ room: 'abcde', name: 'n' })).to.equal(false);
  });

  it('bounds the push body and describes its answer and the AUTH ack', () => {
    const push = Compile(pushRequestSchema({ maxIdLength: 4, maxRoomsPerSocket: 2 }));
    expect(push.Check({ rooms: ['a', 'b'], event: 'e', args: [1, { x: null }] })).to.equal(true);
    expect(push.Check({ rooms: ['a'], event: 'e' })).to.equal(true);
    expect(push.Check({ rooms: [], event: 'e' })).to.equal(false);
    expect(push.Check({ rooms: ['a', 'b', 'c'], event: 'e' })).to.equal(false);
    expect(push.Check({ rooms: ['abcde'], event: 'e' })).to.equal(false);
    expect(push.Check({ rooms: ['a'], event: 'abcde' })).to.equal(false);
    expect(push.Check({ rooms: ['a'], event: 'e', args: 'x' })).to.equal(false);
    expect(Compile(PushResultSchema).Check({ ok: true, delivered: 2 })).to.equal(true);
    const refreshed = Compile(AuthRefreshResultSchema);
    expect(refreshed.Check({ expiresAt: null }) && refreshed.Check({ expiresAt: new Date().toISOString() })).to.equal(true);
  });

  // Also a compile-time check: typed client sockets accept the protocol's event maps.
  it('describes what the server sends: EVENT, CLIENTS and lobby events validate against their schemas', async () => {
    const srv = await startServer();
    const layout: Socket<LayoutServerToClientEvents, LayoutClientToServerEvents> = await srv.connect('/layout');
    const other: Socket<LayoutServerToClientEvents, LayoutClientToServerEvents> = await srv.connect('/layout');
    await layout.emitWithAck('JOIN', { room: 'r', name: 'typed' });
    await other.emitWithAck('JOIN', { room: 'r', name: 'other' });
    const event = withDeadline(new Promise((resolve) => other.once('EVENT', resolve)), 'EVENT');
    const sent = await layout.emitWithAck('NOTIFY', { room: 'r', message: { any: 'json' } });
    expect(sent).to.deep.equal({ ok: true });
    expect(Compile(LayoutEventSchemas.EVENT).Check(await event)).to.equal(true);
    const clients = await layout.emitWithAck('CLIENTS', { room: 'r' });
    if (!clients.ok) throw new Error(clients.error.message);
    expect(Compile(LayoutEventSchemas.CLIENTS).Check({ room: clients.room, clients: clients.clients })).to.equal(true);

    const lobby: Socket<LobbyServerToClientEvents, LobbyClientToServerEvents> = await srv.connect('/lobby');
    const joined = withDeadline(new Promise((resolve) => lobby.once('JOINED', resolve)), 'JOINED');
    const res = await lobby.emitWithAck('JOIN', { lobby: 'l' });
    if (!res.ok) throw new Error(res.error.message);
    expect(Compile(LobbyEventSchemas.JOIN_RESULT).Check({ lobby: res.lobby, peers: res.peers })).to.equal(true);
    expect(Compile(LobbyEventSchemas.JOINED).Check(await joined)).to.equal(true);
  });
});

/** The sections of a Markdown doc by their `## ` heading. */
function sections(path: string): Map<string, string> {
  const text = readFileSync(join(repoRoot, path), 'utf8');
  return new Map(
    text
      .split(/^## /m)
      .slice(1)
      .map((part) => [part.slice(0, part.indexOf('\n')), part]),
  );
}

/** The section whose heading starts with `` `<namespace>` ``. */
function sectionOf(docs: Map<string, string>, namespace: string): string {
  const found = [...docs].find(([heading]) => heading.startsWith(`\`${namespace}\``));
  if (!found) throw new Error(`no section for ${namespace}`);
  return found[1];
}

/**
 * The protocol words of some Markdown: the leading upper-case word of every code span (`JOIN {room}` → JOIN),
 * except HTTP routes (`POST /bus-message/:room`).
 */
function eventWords(markdown: string): Set<string> {
  return new Set([...markdown.matchAll(/`([A-Z][A-Z_]*)\b(?! \/)[^`]*`/g)].map((match) => match[1] ?? ''));
}

describe('protocol docs', () => {
  const codes = new Set(Object.keys(ErrorCatalog));

  it("protocol/README.md lists exactly each namespace's client events in its table, and names every event it sends", () => {
    const docs = sections('protocol/README.md');
    for (const namespace of ['/layout', '/lobby', '/trigger'] as const) {
      const { clientToServer, serverToClient } = NamespaceEvents[namespace];
      const section = sectionOf(docs, namespace);
      const firstCells = section
        .split('\n')
        .filter((line) => line.startsWith('| `') || line.startsWith('| connect'))
        .map((line) => line.split('|')[1] ?? '');
      expect([...eventWords(firstCells.join(' '))], `${namespace} table`).to.have.members([...clientToServer]);
      const mentioned = eventWords(section);
      // ERROR is every namespace's, described once under the conventions.
      for (const event of serverToClient.filter((name) => name !== 'ERROR'))
        expect(mentioned, `${namespace} sends ${event}`).to.include(event);
      const known = new Set<string>([...clientToServer, ...serverToClient, ...codes]);
      expect(
        [...mentioned].filter((word) => !known.has(word)),
        `${namespace}: words that are neither its events nor error codes`,
      ).to.deep.equal([]);
    }
    const bus = eventWords(sectionOf(docs, '/bus'));
    const layout = new Set<string>([...NamespaceEvents['/bus'].clientToServer, ...NamespaceEvents['/bus'].serverToClient, ...codes]);
    expect(
      [...bus].filter((word) => !layout.has(word)),
      '/bus',
    ).to.deep.equal([]);
    const sites = [...docs].find(([heading]) => heading.startsWith('Sites'))?.[1] ?? '';
    for (const event of SiteEvents.clientToServer) expect(eventWords(sites), `sites: ${event}`).to.include(event);
  });

  it('protocol/README.md names only what protocol/ exports in its table of the typed module', () => {
    const section = sections('protocol/README.md').get('The typed module') ?? '';
    const table = section.split('\n').filter((line) => line.startsWith('| ') && !line.startsWith('| for |'));
    const named = [...table.join(' ').matchAll(/`([A-Za-z]+)`/g)].map((match) => match[1] ?? '').filter((name) => /[a-z]/.test(name));
    const sources = readdirSync(join(repoRoot, 'protocol'))
      .filter((file) => file.endsWith('.ts'))
      .map((file) => readFileSync(join(repoRoot, 'protocol', file), 'utf8'))
      .join('\n');
    const exported = new Set([...sources.matchAll(/^export (?:const|function|interface|type) (\w+)/gm)].map((match) => match[1]));
    expect(named.length).to.be.above(20);
    expect(named.filter((name) => !exported.has(name))).to.deep.equal([]);
  });

  it("README.md's namespace list names only events of the namespace each entry is about", () => {
    const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
    for (const namespace of ['/layout', '/lobby', '/trigger'] as const) {
      const entry = new RegExp(`^- \\*\\*\`${namespace}\`\\*\\*.*(?:\n  .*)*`, 'm').exec(readme)?.[0];
      if (entry === undefined) throw new Error(`README.md lists no ${namespace}`);
      const { clientToServer, serverToClient } = NamespaceEvents[namespace];
      const known = new Set<string>([...clientToServer, ...serverToClient]);
      // Whole code spans only: `POST /bus-message/:room` is a route, not an event.
      const words = [...entry.matchAll(/`([A-Z][A-Z_]*)`/g)].map((match) => match[1] ?? '');
      expect(words.length, namespace).to.be.above(0);
      expect(
        words.filter((word) => !known.has(word)),
        namespace,
      ).to.deep.equal([]);
    }
  });
});
