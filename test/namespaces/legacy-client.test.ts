import { expect } from 'chai';
import type { LegacyOptions } from 'socket.io-client-v2';
import { postBusMessage } from '../support/http.js';
import { startServer } from '../support/server.js';
import { ack, barrier, collect, inOrder, next, silent, withDeadline } from '../support/wait.js';

// The original service's real clients are socket.io-client 1.7/2.x (Engine.IO protocol 3) that send every
// payload as a JSON string. Every scenario runs over both ways such a client reaches the server.
const TRANSPORTS: readonly { label: string; options: LegacyOptions }[] = [
  { label: 'polling upgraded to websocket', options: {} },
  { label: 'websocket only', options: { transports: ['websocket'] } },
];

for (const { label, options } of TRANSPORTS) {
  describe(`legacy socket.io-client 2.x (${label})`, () => {
    it('connects with Engine.IO protocol 3 over the expected transport', async () => {
      const srv = await startServer();
      const legacy = await srv.connectLegacy('/layout', options);
      // The server-side Engine.IO connection, to check what the legacy client really speaks.
      const conn = srv.serverSocket('/layout', legacy.id).conn;
      expect(conn.protocol).to.equal(3);
      // Socket.IO keeps the 2.x id form `<nsp>#<engine id>` for protocol 3, and the client knows it.
      expect(legacy.id).to.match(/^\/layout#/);
      if (conn.transport.name !== 'websocket') {
        expect(options.transports).to.equal(undefined);
        await withDeadline(new Promise<void>((resolve) => conn.once('upgrade', () => resolve())), 'the upgrade to websocket');
      }
      expect(conn.transport.name).to.equal('websocket');
    });

    for (const ns of ['/layout', '/bus']) {
      describe(ns, () => {
        it('JOIN, CLIENTS and LEAVE sent as JSON strings are acked with the { ok } envelope', async () => {
          const srv = await startServer();
          const legacy = await srv.connectLegacy(ns, options);
          expect(await ack(legacy, 'JOIN', JSON.stringify({ room: 'r', name: 'L' }))).to.deep.equal({ ok: true });
          const event = next(legacy, 'CLIENTS');
          expect(await ack(legacy, 'CLIENTS', JSON.stringify({ room: 'r' }))).to.deep.equal({ ok: true, room: 'r', clients: ['L'] });
          expect(await event).to.deep.equal({ room: 'r', clients: ['L'] });
          expect(await ack(legacy, 'LEAVE', JSON.stringify({ room: 'r' }))).to.deep.equal({ ok: true });
          expect(await ack(legacy, 'CLIENTS', JSON.stringify({ room: 'r' }))).to.deep.equal({ ok: true, room: 'r', clients: [] });
        });

        it('exchanges EVENTs both ways with a v4 client in the same room', async () => {
          const srv = await startServer();
          const [legacy, modern] = await Promise.all([srv.connectLegacy(ns, options), srv.connect(ns)]);
          // Fire and forget, as the original clients do; the barrier orders it before what follows.
          legacy.emit('JOIN', JSON.stringify({ room: 'r', name: 'L' }));
          await barrier(legacy);
          await ack(modern, 'JOIN', { room: 'r', name: 'M' });

          const message = { cue: 'start', at: [1.5, null], nested: { ok: true } };
          const atModern = next(modern, 'EVENT');
          await silent(legacy, 'EVENT', async () =>
            expect(await ack(legacy, 'NOTIFY', JSON.stringify({ room: 'r', message }))).to.deep.equal({ ok: true }),
          );
          expect(await atModern).to.deep.equal({ sender: 'L', room: 'r', message });

          const withoutCallback = next(modern, 'EVENT');
          legacy.emit('NOTIFY', JSON.stringify({ room: 'r', message: 'no callback' }));
          expect(await withoutCallback).to.deep.equal({ sender: 'L', room: 'r', message: 'no callback' });

          // A message that is itself JSON text stays a string on the way to the legacy client.
          const atLegacy = next(legacy, 'EVENT');
          await silent(modern, 'EVENT', () => ack(modern, 'NOTIFY', { room: 'r', message: '{"still":"a string"}' }));
          expect(await atLegacy).to.deep.equal({ sender: 'M', room: 'r', message: '{"still":"a string"}' });
        });

        it('CLIENTS lists v4 and legacy members in join order, to the legacy requester alone', async () => {
          const srv = await startServer();
          const [modern, legacy] = await Promise.all([srv.connect(ns), srv.connectLegacy(ns, options)]);
          await ack(modern, 'JOIN', { room: 'r', name: 'M' });
          await ack(legacy, 'JOIN', JSON.stringify({ room: 'r', name: 'L' }));
          const event = next(legacy, 'CLIENTS');
          await silent(modern, 'CLIENTS', async () =>
            expect(await ack(legacy, 'CLIENTS', JSON.stringify({ room: 'r' }))).to.deep.equal({ ok: true, room: 'r', clients: ['M', 'L'] }),
          );
          expect(await event).to.deep.equal({ room: 'r', clients: ['M', 'L'] });

          // Without a callback, as the original clients ask: the CLIENTS event is the answer.
          const again = next(legacy, 'CLIENTS');
          legacy.emit('CLIENTS', JSON.stringify({ room: 'r' }));
          expect(await again).to.deep.equal({ room: 'r', clients: ['M', 'L'] });
        });

        it('a failed request is acked { ok: false, error } to a legacy callback', async () => {
          const srv = await startServer();
          const legacy = await srv.connectLegacy(ns, options);
          await silent(legacy, 'ERROR', async () =>
            expect(await ack(legacy, 'JOIN', JSON.stringify({ room: 'r' }))).to.deep.equal({
              ok: false,
              error: { code: 'BAD_REQUEST', message: 'name is required' },
            }),
          );
        });

        it('a bad JSON string without a callback gets one ERROR; the legacy client stays connected and usable', async () => {
          const srv = await startServer();
          const [legacy, modern] = await Promise.all([srv.connectLegacy(ns, options), srv.connect(ns)]);
          await ack(modern, 'JOIN', { room: 'r', name: 'M' });
          const errors = collect(legacy, 'ERROR');
          const error = next(legacy, 'ERROR');
          await silent(modern, 'ERROR', async () => {
            legacy.emit('NOTIFY', '{"room": "r", "message": ');
            expect(await error).to.deep.equal({ event: 'NOTIFY', code: 'BAD_REQUEST', message: 'payload is a string but not valid JSON' });
          });
          await barrier(legacy);
          expect(errors).to.have.length(1);
          expect(legacy.connected).to.equal(true);
          const event = next(modern, 'EVENT');
          expect(await ack(legacy, 'NOTIFY', JSON.stringify({ room: 'r', message: 'after' }))).to.deep.equal({ ok: true });
          expect(await event).to.deep.equal({ sender: 'unknown', room: 'r', message: 'after' });
        });

        if (ns === '/bus') {
          it('delivers an HTTP-published bus message to a legacy client', async () => {
            const srv = await startServer();
            const legacy = await srv.connectLegacy(ns, options);
            await ack(legacy, 'JOIN', JSON.stringify({ room: 'r', name: 'L' }));
            const event = next(legacy, 'EVENT');
            expect((await postBusMessage(srv, 'r', JSON.stringify({ scene: 2 }))).status).to.equal(200);
            expect(await event).to.deep.equal({ sender: 'POST', room: 'r', message: { scene: 2 } });
          });
        }
      });
    }

    describe('/lobby', () => {
      const joinForms: readonly { form: string; payload: string }[] = [
        { form: 'a bare lobby id', payload: 'l' },
        { form: 'a JSON string of the id', payload: JSON.stringify('l') },
        { form: 'a JSON string of { lobby }', payload: JSON.stringify({ lobby: 'l' }) },
      ];
      for (const { form, payload } of joinForms) {
        it(`JOIN with ${form}: JOINED to all including the newcomer, then PEERS to the newcomer`, async () => {
          const srv = await startServer();
          const modern = await srv.connect('/lobby');
          await ack(modern, 'JOIN', 'l');
          const legacy = await srv.connectLegacy('/lobby', options);
          const seen = inOrder(legacy, ['JOINED', 'PEERS']);
          const joinedAtModern = next(modern, 'JOINED');
          expect(await ack(legacy, 'JOIN', payload)).to.deep.equal({ ok: true, lobby: 'l', peers: [modern.id] });
          expect(seen).to.deep.equal([
            ['JOINED', legacy.id],
            ['PEERS', [modern.id]],
          ]);
          expect(await joinedAtModern).to.equal(legacy.id);
          await silent(modern, 'PEERS');
        });
      }

      it('joins the lobby given as query lobbyId when connecting', async () => {
        const srv = await startServer();
        const modern = await srv.connect('/lobby');
        await ack(modern, 'JOIN', 'l');
        const joinedAtModern = next(modern, 'JOINED');
        // JOINED and PEERS follow the connect at once, so the listeners must be there before it.
        let seen: [string, unknown][] = [];
        const legacy = await srv.connectLegacy(
          '/lobby',
          { ...options, query: { lobbyId: 'l' } },
          (fresh) => (seen = inOrder(fresh, ['JOINED', 'PEERS', 'ERROR'])),
        );
        await barrier(legacy);
        expect(seen).to.deep.equal([
          ['JOINED', legacy.id],
          ['PEERS', [modern.id]],
        ]);
        expect(await joinedAtModern).to.equal(legacy.id);
        expect(await ack(legacy, 'JOIN', 'other')).to.deep.equal({
          ok: false,
          error: { code: 'ALREADY_IN_LOBBY', message: 'already in lobby "l"; LEAVE it first' },
        });
      });

      it('BROADCAST: MESSAGE reaches every member, legacy and v4, the sender included', async () => {
        const srv = await startServer();
        const [legacy, modern] = await Promise.all([srv.connectLegacy('/lobby', options), srv.connect('/lobby')]);
        await ack(legacy, 'JOIN', 'l');
        await ack(modern, 'JOIN', 'l');

        const message = { chat: 'hello', n: [1, 2] };
        const [atLegacy, atModern] = [next(legacy, 'MESSAGE'), next(modern, 'MESSAGE')];
        expect(await ack(legacy, 'BROADCAST', JSON.stringify({ message }))).to.deep.equal({ ok: true });
        expect(await atLegacy).to.deep.equal({ from: legacy.id, message });
        expect(await atModern).to.deep.equal({ from: legacy.id, message });

        const [backAtLegacy, backAtModern] = [next(legacy, 'MESSAGE'), next(modern, 'MESSAGE')];
        expect(await ack(modern, 'BROADCAST', { message: 'reply' })).to.deep.equal({ ok: true });
        expect(await backAtLegacy).to.deep.equal({ from: modern.id, message: 'reply' });
        expect(await backAtModern).to.deep.equal({ from: modern.id, message: 'reply' });
      });

      it('RTCSIGNAL both ways, with from set by the server', async () => {
        const srv = await startServer();
        const [legacy, modern, other] = await Promise.all([
          srv.connectLegacy('/lobby', options),
          srv.connect('/lobby'),
          srv.connect('/lobby'),
        ]);
        for (const socket of [legacy, modern, other]) await ack(socket, 'JOIN', 'l');

        const offer = next(modern, 'RTCSIGNAL');
        await silent(other, 'RTCSIGNAL', async () => {
          const signal = JSON.stringify({ to: modern.id, type: 'offer', sdp: 'v=0', from: 'spoofed' });
          expect(await ack(legacy, 'RTCSIGNAL', signal)).to.deep.equal({ ok: true });
        });
        expect(await offer).to.deep.equal({ type: 'offer', sdp: 'v=0', to: modern.id, from: legacy.id });

        const answer = next(legacy, 'RTCSIGNAL');
        const candidate = { candidate: 'candidate:1 1 UDP 2122252543 192.0.2.1 54400 typ host', sdpMLineIndex: 0 };
        await silent(other, 'RTCSIGNAL', async () =>
          expect(await ack(modern, 'RTCSIGNAL', { to: legacy.id, candidate })).to.deep.equal({ ok: true }),
        );
        expect(await answer).to.deep.equal({ candidate, to: legacy.id, from: modern.id });
      });

      it('LEFT on a legacy LEAVE, on a v4 disconnect and on a legacy disconnect', async () => {
        const srv = await startServer();
        const [legacy, modern, watcher] = await Promise.all([
          srv.connectLegacy('/lobby', options),
          srv.connect('/lobby'),
          srv.connect('/lobby'),
        ]);
        for (const socket of [legacy, modern, watcher]) await ack(socket, 'JOIN', 'l');

        const leftOnLeave = next(modern, 'LEFT');
        expect(await ack(legacy, 'LEAVE', 'l')).to.deep.equal({ ok: true });
        expect(await leftOnLeave).to.equal(legacy.id);
        expect(await ack(legacy, 'LEAVE', 'l')).to.deep.equal({
          ok: false,
          error: { code: 'NOT_IN_LOBBY', message: 'not in lobby "l"' },
        });

        await ack(legacy, 'JOIN', JSON.stringify({ lobby: 'l' }));
        // Clients forget their id when they disconnect.
        const modernId = modern.id;
        const leftOnModernGone = next(legacy, 'LEFT');
        const modernGone = srv.serverDisconnect('/lobby', modernId);
        modern.disconnect();
        await modernGone;
        expect(await leftOnModernGone).to.equal(modernId);

        const legacyId = legacy.id;
        const leftOnLegacyGone = next(watcher, 'LEFT');
        const legacyGone = srv.serverDisconnect('/lobby', legacyId);
        legacy.close();
        await legacyGone;
        expect(await leftOnLegacyGone).to.equal(legacyId);
      });

      it('a bad JSON string without a callback gets one ERROR, and the legacy peer stays in its lobby', async () => {
        const srv = await startServer();
        const [legacy, modern] = await Promise.all([srv.connectLegacy('/lobby', options), srv.connect('/lobby')]);
        await ack(legacy, 'JOIN', 'l');
        await ack(modern, 'JOIN', 'l');
        const errors = collect(legacy, 'ERROR');
        const error = next(legacy, 'ERROR');
        await silent(modern, 'MESSAGE', async () => {
          legacy.emit('BROADCAST', '{message: unquoted}');
          expect(await error).to.deep.equal({ event: 'BROADCAST', code: 'BAD_REQUEST', message: 'payload is a string but not valid JSON' });
        });
        await barrier(legacy);
        expect(errors).to.have.length(1);
        const atModern = next(modern, 'MESSAGE');
        expect(await ack(legacy, 'BROADCAST', JSON.stringify({ message: 'after' }))).to.deep.equal({ ok: true });
        expect(await atModern).to.deep.equal({ from: legacy.id, message: 'after' });
      });
    });

    describe('/trigger', () => {
      it('JOIN room and BROADCAST_EVENTS (room, data) between legacy and v4, both ways, not to the sender', async () => {
        const srv = await startServer();
        const [legacy, modern] = await Promise.all([srv.connectLegacy('/trigger', options), srv.connect('/trigger')]);
        expect(await ack(legacy, 'JOIN', 'timeline')).to.deep.equal({ ok: true });
        expect(await ack(modern, 'JOIN', 'timeline')).to.deep.equal({ ok: true });

        // Timeline services send their data as JSON text; it is relayed untouched, still a string.
        const data = JSON.stringify([{ id: 'e1', t: 12.5 }]);
        const atModern = next(modern, 'EVENTS');
        await silent(legacy, 'EVENTS', async () =>
          expect(await ack(legacy, 'BROADCAST_EVENTS', 'timeline', data)).to.deep.equal({ ok: true }),
        );
        expect(await atModern).to.equal(data);

        const objectData = { events: [{ id: 'e2' }] };
        const atLegacy = next(legacy, 'EVENTS');
        await silent(modern, 'EVENTS', () => ack(modern, 'BROADCAST_EVENTS', 'timeline', objectData));
        expect(await atLegacy).to.deep.equal(objectData);
      });

      it('BROADCAST_UPDATES and BROADCAST_STATUS without callbacks reach the v4 member as UPDATES and STATUS', async () => {
        const srv = await startServer();
        const [legacy, modern] = await Promise.all([srv.connectLegacy('/trigger', options), srv.connect('/trigger')]);
        legacy.emit('JOIN', 'timeline');
        await ack(modern, 'JOIN', 'timeline');
        const seen = inOrder(modern, ['EVENTS', 'UPDATES', 'STATUS']);
        legacy.emit('BROADCAST_UPDATES', 'timeline', { u: 1 });
        legacy.emit('BROADCAST_STATUS', 'timeline', 'running');
        await barrier(legacy);
        await barrier(modern);
        expect(seen).to.deep.equal([
          ['UPDATES', { u: 1 }],
          ['STATUS', 'running'],
        ]);
      });

      it('LEAVE sent by a legacy client leaves the room', async () => {
        const srv = await startServer();
        const [legacy, modern] = await Promise.all([srv.connectLegacy('/trigger', options), srv.connect('/trigger')]);
        await ack(legacy, 'JOIN', 'timeline');
        expect(await ack(legacy, 'LEAVE', 'timeline')).to.deep.equal({ ok: true });
        await silent(legacy, 'EVENTS', () => ack(modern, 'BROADCAST_EVENTS', 'timeline', 'x'));
      });

      it('a failed JOIN is acked { ok: false, error } to a legacy callback, or sent as ERROR without one', async () => {
        const srv = await startServer();
        const legacy = await srv.connectLegacy('/trigger', options);
        expect(await ack(legacy, 'JOIN', JSON.stringify({ room: 5 }))).to.deep.equal({
          ok: false,
          error: { code: 'BAD_REQUEST', message: 'room must be string' },
        });
        const error = next(legacy, 'ERROR');
        legacy.emit('BROADCAST_EVENTS', 'timeline');
        expect(await error).to.deep.equal({ event: 'BROADCAST_EVENTS', code: 'BAD_REQUEST', message: 'data is required' });
        expect(await ack(legacy, 'JOIN', 'timeline')).to.deep.equal({ ok: true });
      });
    });
  });
}
