import { expect } from 'chai';
import { enginePatches } from '../../lib/engine/index.js';
import { FAST_PATH, startServer, type TestServer } from '../support/server.js';
import { ack, barrier, collect, inOrder, next, silent } from '../support/wait.js';
import { packetsCreatedDuring, serverUpgraded } from './support.js';

// Broadcasts reach WebSocket clients through a direct write (lib/engine/fast-broadcast.ts) and every other client
// through Socket.IO's own path: whatever path a client is on, it gets each broadcast once, in order.

/** The server-side socket of a client, by id. */
function serverSocket(srv: TestServer, ns: string, id: string | undefined) {
  const socket = id === undefined ? undefined : srv.app.io.of(ns).sockets.get(id);
  if (!socket) throw new Error(`no socket ${String(id)} on ${ns} at the server`);
  return socket;
}

describe('broadcast delivery', () => {
  // Engaged, seen from the outside: a WebSocket recipient's copy creates no packet on Engine.IO's per-packet
  // path (which emits packetCreate for each), and the server counts it as a direct write. With FAST_PATH=off,
  // every copy goes through Engine.IO and nothing is counted.
  it(`${FAST_PATH ? 'writes' : 'does not write'} a broadcast straight to WebSocket recipients, to one room and to several`, async () => {
    const srv = await startServer();
    const nsp = srv.app.io.of('/layout');
    // One after the other, so that the server's sockets are in the same order as the clients.
    const clients = [
      await srv.connect('/layout', { transports: ['websocket'] }),
      await srv.connect('/layout'),
      await srv.connectLegacy('/layout', { transports: ['websocket'] }),
      await srv.connect('/layout', { transports: ['polling'] }),
    ];
    for (const [i, client] of clients.entries()) await ack(client, 'JOIN', JSON.stringify({ room: 'r', name: `c${i}` }));
    const sockets = [...nsp.sockets.values()];
    await Promise.all(sockets.slice(0, 3).map((socket) => serverUpgraded(socket)));
    expect(sockets.map((socket) => socket.conn.transport.name)).to.deep.equal(['websocket', 'websocket', 'websocket', 'polling']);
    const status = enginePatches(srv.app.io);
    expect(status.fastBroadcast.active, status.fastBroadcast.reason).to.equal(FAST_PATH);
    const seen = clients.map((client) => collect(client, 'EVENT'));

    const before = status.directWrites;
    const oneRoom = packetsCreatedDuring(sockets, () => nsp.to('room:r').emit('EVENT', 1));
    const rooms = packetsCreatedDuring(sockets, () => nsp.to(['room:r', 'room:none']).emit('EVENT', 2));
    // The three WebSocket recipients skip Engine.IO's per-packet path; the long-polling one takes it.
    const expected = FAST_PATH ? [0, 0, 0, 1] : [1, 1, 1, 1];
    expect(oneRoom).to.deep.equal(expected);
    expect(rooms).to.deep.equal(expected);
    expect(enginePatches(srv.app.io).directWrites - before).to.equal(FAST_PATH ? 6 : 0);
    for (const client of clients) await barrier(client);
    expect(seen).to.deep.equal(clients.map(() => [1, 2]));
  });

  it('reaches WebSocket, long-polling and legacy clients of one room once each, never the sender', async () => {
    const srv = await startServer();
    const clients = await Promise.all([
      srv.connect('/layout', { transports: ['websocket'] }),
      srv.connect('/layout', { transports: ['polling'] }),
      srv.connect('/layout'),
      srv.connectLegacy('/layout', { transports: ['websocket'] }),
      srv.connectLegacy('/layout', { transports: ['polling'] }),
    ]);
    const sender = await srv.connect('/layout', { transports: ['websocket'] });
    for (const [i, client] of clients.entries()) await ack(client, 'JOIN', JSON.stringify({ room: 'r', name: `c${i}` }));
    await ack(sender, 'JOIN', { room: 'r', name: 'sender' });
    const seen = clients.map((client) => collect(client, 'EVENT'));
    await silent(sender, 'EVENT', async () => {
      expect(await ack(sender, 'NOTIFY', { room: 'r', message: 1 })).to.deep.equal({ ok: true });
      expect(await ack(sender, 'NOTIFY', { room: 'r', message: 2 })).to.deep.equal({ ok: true });
    });
    for (const client of clients) await barrier(client);
    for (const events of seen) {
      expect(events).to.deep.equal([
        { sender: 'sender', room: 'r', message: 1 },
        { sender: 'sender', room: 'r', message: 2 },
      ]);
    }
  });

  it('keeps the order of broadcasts and direct emits sent in the same turn', async () => {
    const srv = await startServer();
    const client = await srv.connect('/layout', { transports: ['websocket'] });
    await ack(client, 'JOIN', { room: 'r', name: 'a' });
    const seen = inOrder(client, ['EVENT', 'DIRECT']);
    const nsp = srv.app.io.of('/layout');
    const socket = serverSocket(srv, '/layout', client.id);
    for (let i = 0; i < 3; i++) {
      nsp.to('room:r').emit('EVENT', i * 2);
      socket.emit('DIRECT', i * 2 + 1);
    }
    await barrier(client);
    expect(seen).to.deep.equal([
      ['EVENT', 0],
      ['DIRECT', 1],
      ['EVENT', 2],
      ['DIRECT', 3],
      ['EVENT', 4],
      ['DIRECT', 5],
    ]);
  });

  it('delivers a broadcast to several rooms once to a member of more than one', async () => {
    const srv = await startServer();
    const [both, one] = await Promise.all([srv.connect('/layout', { transports: ['websocket'] }), srv.connect('/layout')]);
    await ack(both, 'JOIN', { room: 'a', name: 'both' });
    await ack(both, 'JOIN', { room: 'b', name: 'both' });
    await ack(one, 'JOIN', { room: 'b', name: 'one' });
    const seen = [collect(both, 'EVENT'), collect(one, 'EVENT')];
    srv.app.io.of('/layout').to(['room:a', 'room:b']).emit('EVENT', 'x');
    await Promise.all([barrier(both), barrier(one)]);
    expect(seen).to.deep.equal([['x'], ['x']]);
  });

  it('delivers binary and volatile broadcasts through Socket.IO’s path', async () => {
    const srv = await startServer();
    const client = await srv.connect('/layout', { transports: ['websocket'] });
    await ack(client, 'JOIN', { room: 'r', name: 'a' });
    const nsp = srv.app.io.of('/layout');
    const binary = next<Buffer>(client, 'BINARY');
    nsp.to('room:r').emit('BINARY', Buffer.from([1, 2, 3]));
    expect([...(await binary)]).to.deep.equal([1, 2, 3]);
    const volatile = next(client, 'VOLATILE');
    nsp.volatile.to('room:r').emit('VOLATILE', 'v');
    expect(await volatile).to.equal('v');
  });

  it('drops volatile packets for a client whose socket is backed up, never other packets, and recovers', async () => {
    const srv = await startServer();
    const client = await srv.connect('/layout', { transports: ['websocket'] });
    await ack(client, 'JOIN', { room: 'r', name: 'a' });
    const nsp = srv.app.io.of('/layout');
    const socket = serverSocket(srv, '/layout', client.id);
    const volatile = collect<number>(client, 'VOLATILE');
    const reliable = collect<number>(client, 'RELIABLE');
    // 100 × 10 kB in one turn, far past the socket's 16 kB high-water mark before anything leaves it.
    const big = 'x'.repeat(10_000);
    for (let i = 0; i < 100; i++) {
      if (i % 2 === 0) socket.volatile.emit('VOLATILE', i, big);
      else nsp.volatile.to('room:r').emit('VOLATILE', i, big);
      socket.emit('RELIABLE', i, big);
    }
    await barrier(client);
    expect(volatile.length).to.be.within(1, 99);
    expect(reliable).to.deep.equal(Array.from({ length: 100 }, (_, i) => i));
    // Once the socket has drained, volatile packets flow again.
    const after = next<number>(client, 'VOLATILE');
    socket.volatile.emit('VOLATILE', 1000);
    expect(await after).to.equal(1000);
  });

  it('sends nothing to a client that disconnected, and keeps serving the others', async () => {
    const srv = await startServer();
    const [gone, stays] = await Promise.all([
      srv.connect('/layout', { transports: ['websocket'] }),
      srv.connect('/layout', { transports: ['websocket'] }),
    ]);
    await ack(gone, 'JOIN', { room: 'r', name: 'gone' });
    await ack(stays, 'JOIN', { room: 'r', name: 'stays' });
    const disconnected = srv.serverDisconnect('/layout', gone.id);
    gone.disconnect();
    await disconnected;
    const event = next(stays, 'EVENT');
    srv.app.io.of('/layout').to('room:r').emit('EVENT', 'after');
    expect(await event).to.equal('after');
  });
});
