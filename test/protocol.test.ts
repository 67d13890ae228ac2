import { expect } from 'chai';
import type { Socket } from 'socket.io-client';
import { Compile } from 'typebox/compile';
import {
  ErrorBodySchema,
  ErrorCode,
  LayoutEventSchemas,
  LayoutRequestSchemas,
  LobbyEventSchemas,
  layoutRequestSchemas,
  type LayoutClientToServerEvents,
  type LayoutServerToClientEvents,
  type LobbyClientToServerEvents,
  type LobbyServerToClientEvents,
} from '../protocol/index.js';
import { startServer } from './support/server.js';
import { withDeadline } from './support/wait.js';

describe('protocol module', () => {
  it('is the package export a client imports by name (after npm run build)', async () => {
    const exported = (await import('realtime-rooms/protocol')) as { ErrorCode?: unknown; Namespaces?: unknown };
    expect(exported.ErrorCode).to.deep.equal(ErrorCode);
    expect(exported.Namespaces).to.deep.equal({ layout: '/layout', bus: '/bus', lobby: '/lobby', trigger: '/trigger' });
  });

  it('has the closed error catalog of PROTOCOL.md, plus NOT_FOUND for HTTP and AUTH_UNAVAILABLE for handshakes', () => {
    expect(Object.values(ErrorCode)).to.have.members([
      'BAD_REQUEST', 'LIMIT', 'NOT_IN_LOBBY', 'ALREADY_IN_LOBBY', 'UNKNOWN_PEER', 'UNAUTHORIZED', 'RATE_LIMITED', 'NOT_FOUND', 'AUTH_UNAVAILABLE', 'INTERNAL',
    ]);
    const check = Compile(ErrorBodySchema);
    expect(check.Check({ code: 'LIMIT', message: 'x' })).to.equal(true);
    expect(check.Check({ code: 'NOPE', message: 'x' })).to.equal(false);
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
