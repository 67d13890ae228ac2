import { expect } from 'chai';
import { enginePatches } from '../../lib/engine/index.js';
import { isCoalescing } from '../../lib/engine/websocket-transport.js';
import { FAST_PATH, startServer } from '../support/server.js';
import { ack, barrier, collect } from '../support/wait.js';
import { serverSocket, serverUpgraded, tcpOf } from './support.js';

// The coalescing transport is engaged on every WebSocket connection of the service (direct, upgraded, legacy),
// seen from the outside: the connection's transport is the coalescing one, and a send leaves the client's TCP
// socket corked until the end of the turn (Engine.IO's own transport, through ws, uncorks before it returns).
// With FAST_PATH=off the same tests assert that none of it happens.

describe('coalescing WebSocket transport', () => {
  it(`is ${FAST_PATH ? '' : 'not '}reported active for the service's server`, async () => {
    const srv = await startServer();
    const { websocketTransport } = enginePatches(srv.app.io);
    expect(websocketTransport.active, websocketTransport.reason).to.equal(FAST_PATH);
    if (!FAST_PATH) expect(websocketTransport.reason).to.match(/switched off/);
  });

  for (const [kind, connect] of [
    ['a WebSocket-only v4 client', (srv: Awaited<ReturnType<typeof startServer>>) => srv.connect('/layout', { transports: ['websocket'] })],
    ['a v4 client upgraded from long-polling', (srv: Awaited<ReturnType<typeof startServer>>) => srv.connect('/layout')],
    [
      'a legacy (Engine.IO 3) WebSocket client',
      (srv: Awaited<ReturnType<typeof startServer>>) => srv.connectLegacy('/layout', { transports: ['websocket'] }),
    ],
  ] as const) {
    it(
      FAST_PATH ? `carries ${kind}: a turn's packets leave in one corked write` : `is not used for ${kind}: ws writes each packet uncorked`,
      async () => {
        const srv = await startServer();
        const client = await connect(srv);
        await ack(client, 'JOIN', JSON.stringify({ room: 'r', name: 'a' }));
        const [id] = srv.app.io.of('/layout').sockets.keys();
        const socket = serverSocket(srv.app.io, '/layout', id);
        await serverUpgraded(socket);
        expect(isCoalescing(socket.conn.transport)).to.equal(FAST_PATH);
        const seen = collect<number>(client, 'DIRECT');
        const tcp = tcpOf(socket);
        expect(tcp.writableCorked).to.equal(0);
        for (let i = 0; i < 3; i++) socket.emit('DIRECT', i);
        // Corked for the rest of this turn by the coalescing transport; ws's own write path uncorks at once.
        expect(tcp.writableCorked).to.equal(FAST_PATH ? 1 : 0);
        await barrier(client);
        expect(seen).to.deep.equal([0, 1, 2]);
        expect(tcp.writableCorked).to.equal(0);
      },
    );
  }
});
