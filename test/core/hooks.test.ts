import { expect } from 'chai';
import { SignJWT } from 'jose';
import type { Socket } from 'socket.io';
import { RequestError } from '../../lib/core/errors.js';
import { parseSitesFile } from '../../lib/config/sites-file.js';
import { connectV4, startServer } from '../support/server.js';
import { ack, barrier, next, withDeadline } from '../support/wait.js';

/** Resolves with the arguments of the `n`th call to the returned recorder, once it has happened. */
function recorder<Args extends unknown[]>(): { record: (...args: Args) => void; calls: Args[]; nth(n: number): Promise<Args> } {
  const calls: Args[] = [];
  const waiters: (() => void)[] = [];
  return {
    calls,
    record: (...args) => {
      calls.push(args);
      for (const wake of waiters.splice(0)) wake();
    },
    nth(n) {
      return withDeadline(
        new Promise<Args>((resolve) => {
          const check = (): void => {
            const call = calls[n - 1];
            if (call) resolve(call);
            else waiters.push(check);
          };
          check();
        }),
        `hook call #${n}`,
      );
    },
  };
}

describe('service hooks', () => {
  it('report connection, join, leave and disconnect with the socket, the client room and its adapter key', async () => {
    const srv = await startServer();
    const seen: string[] = [];
    const disconnected = recorder<[Socket, string]>();
    srv.app.hooks.on('connection', (socket) => seen.push(`connection ${socket.nsp.name}`));
    srv.app.hooks.on('join', (socket, room, key) => seen.push(`join ${room} ${key} already=${String(socket.rooms.has(key))}`));
    srv.app.hooks.on('leave', (socket, room, key) => seen.push(`leave ${room} ${key} still=${String(socket.rooms.has(key))}`));
    srv.app.hooks.on('disconnect', disconnected.record);

    const client = await srv.connect('/layout');
    await ack(client, 'JOIN', { room: 'r', name: 'A' });
    await ack(client, 'JOIN', { room: 'r', name: 'A' });
    await ack(client, 'LEAVE', { room: 'r' });
    const id = client.id;
    const gone = srv.serverDisconnect('/layout', id);
    client.disconnect();
    await gone;
    const [socket, reason] = await disconnected.nth(1);
    expect(socket.id).to.equal(id);
    expect(reason).to.equal('client namespace disconnect');
    expect(seen).to.deep.equal([
      'connection /layout',
      'join r room:r already=false',
      'join r room:r already=true',
      'leave r room:r still=false',
    ]);
  });

  it('report joins and leaves of /trigger rooms and /lobby lobbies, and rooms an auth backend grants', async () => {
    const secret = 'a-secret-of-at-least-thirty-two-bytes!';
    const access = parseSitesFile({ sites: { app: { auth: { mode: 'jwt', algorithms: ['HS256'], secret } } } }, 'test', {});
    const srv = await startServer({ access });
    const joins: string[] = [];
    srv.app.hooks.on('join', (socket, room) => joins.push(`${socket.nsp.name} ${room}`));
    srv.app.hooks.on('leave', (socket, room) => joins.push(`${socket.nsp.name} -${room}`));

    const trigger = await srv.connect('/trigger');
    await ack(trigger, 'JOIN', 'timeline');
    await ack(trigger, 'LEAVE', 'timeline');
    const lobby = await srv.connect('/lobby');
    await ack(lobby, 'JOIN', { lobby: 'l' });
    await ack(lobby, 'LEAVE', { lobby: 'l' });
    const token = await new SignJWT({ rooms: ['granted'] }).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(secret));
    await srv.connect('/app', { auth: { token } });

    expect(joins).to.deep.equal(['/trigger timeline', '/trigger -timeline', '/lobby l', '/lobby -l', '/app granted']);
  });

  it('tell disconnect subscribers of a socket that a connection subscriber disconnected at once', async () => {
    const srv = await startServer();
    const disconnected = recorder<[Socket, string]>();
    srv.app.hooks.on('connection', (socket) => socket.disconnect(true));
    srv.app.hooks.on('disconnect', disconnected.record);
    const client = connectV4(`${srv.url}/layout`);
    await client.catch(() => undefined);
    const [socket, reason] = await disconnected.nth(1);
    expect(socket.nsp.name).to.equal('/layout');
    expect(reason).to.equal('server namespace disconnect');
  });

  it('limit a subscription to one namespace when scoped', async () => {
    const srv = await startServer();
    const connected: string[] = [];
    srv.app.hooks.on('connection', (socket) => connected.push(socket.nsp.name), { namespace: '/bus' });
    await srv.connect('/layout');
    const bus = await srv.connect('/bus');
    await barrier(bus);
    expect(connected).to.deep.equal(['/bus']);
  });

  it('keep serving when a subscriber throws: the failure is the subscriber’s, not the client’s', async () => {
    const srv = await startServer();
    srv.app.hooks.on('connection', () => {
      throw new Error('a broken subscriber');
    });
    srv.app.hooks.on('join', () => {
      throw new Error('another broken subscriber');
    });
    const client = await srv.connect('/layout');
    expect(await ack(client, 'JOIN', { room: 'r', name: 'A' })).to.deep.equal({ ok: true });
    expect(await ack(client, 'CLIENTS', { room: 'r' })).to.deep.include({ clients: ['A'] });
  });

  describe('the inbound-event chain', () => {
    it('sees every event before validation, unknown ones and invalid payloads included, with the ack removed', async () => {
      const srv = await startServer();
      const seen: [string, unknown[]][] = [];
      srv.app.hooks.use((_socket, event, args) => seen.push([event, [...args]]));
      const client = await srv.connect('/layout');
      await ack(client, 'JOIN', { room: 'r', name: 'A' });
      await ack(client, 'JOIN', { room: 5 });
      await ack(client, 'NOPE', 1, 2);
      expect(seen).to.deep.equal([
        ['JOIN', [{ room: 'r', name: 'A' }]],
        ['JOIN', [{ room: 5 }]],
        ['NOPE', [1, 2]],
      ]);
    });

    it('refuses an event by throwing a RequestError: ack or ERROR carries its code, and the handler never runs', async () => {
      const srv = await startServer();
      srv.app.hooks.use((socket, event) => {
        if (event === 'JOIN' && socket.handshake.auth.flooder === true) throw new RequestError('RATE_LIMITED', 'slow down');
      });
      const flooder = await srv.connect('/layout', { auth: { flooder: true } });
      const other = await srv.connect('/layout');
      expect(await ack(flooder, 'JOIN', { room: 'r', name: 'F' })).to.deep.equal({
        ok: false,
        error: { code: 'RATE_LIMITED', message: 'slow down' },
      });
      const error = next(flooder, 'ERROR');
      flooder.emit('JOIN', { room: 'r', name: 'F' });
      expect(await error).to.deep.equal({ event: 'JOIN', code: 'RATE_LIMITED', message: 'slow down' });
      expect(await ack(other, 'JOIN', { room: 'r', name: 'O' })).to.deep.equal({ ok: true });
      expect(await ack(other, 'CLIENTS', { room: 'r' })).to.deep.include({ clients: ['O'] });
    });

    it('runs for unknown events, forwarding namespaces and site namespaces too', async () => {
      const access = parseSitesFile(
        { sites: { shop: { auth: { mode: 'none' } } }, forwarding: [{ namespace: '/sharedsocket' }] },
        'test',
        {},
      );
      const srv = await startServer({ access });
      srv.app.hooks.use((socket, event) => {
        throw new RequestError('RATE_LIMITED', `${socket.nsp.name} ${event}`);
      });
      const layout = await srv.connect('/layout');
      const shared = await srv.connect('/sharedsocket');
      const shop = await srv.connect('/shop');
      expect(await ack(layout, 'NOPE')).to.deep.equal({ ok: false, error: { code: 'RATE_LIMITED', message: '/layout NOPE' } });
      expect(await ack(shared, 'anything', 1)).to.deep.equal({
        ok: false,
        error: { code: 'RATE_LIMITED', message: '/sharedsocket anything' },
      });
      expect(await ack(shop, 'hello')).to.deep.equal({ ok: false, error: { code: 'RATE_LIMITED', message: '/shop hello' } });
    });
  });
});
