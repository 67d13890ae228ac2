import { expect } from 'chai';
import type { Socket } from 'socket.io-client';
import { two } from '../support/arrays.js';
import { startNodes } from '../support/cluster.js';
import { postBusMessage } from '../support/http.js';
import { requireRedis, startRedis } from '../support/redis.js';
import { idOf, type TestServer } from '../support/server.js';
import { ack, barrier, next, received, silent } from '../support/wait.js';

async function twoNodes(): Promise<[TestServer, TestServer]> {
  return two(await startNodes(await startRedis(), 2));
}

describe('cluster mode (two nodes, one real redis-server)', function () {
  before(requireRedis);

  describe('/layout and /bus', () => {
    it('NOTIFY reaches the other members on both nodes, not the sender', async () => {
      const [A, B] = await twoNodes();
      const a1 = await A.connect('/layout');
      const a2 = await A.connect('/layout');
      const b1 = await B.connect('/layout');
      for (const [socket, name] of [
        [a1, 'a1'],
        [a2, 'a2'],
        [b1, 'b1'],
      ] as const) {
        expect(await ack(socket, 'JOIN', { room: 'r', name })).to.deep.equal({ ok: true });
      }
      const outsider = await B.connect('/layout');
      await ack(outsider, 'JOIN', { room: 'other', name: 'x' });

      const atA2 = next(a2, 'EVENT');
      const atB1 = next(b1, 'EVENT');
      expect(await ack(a1, 'NOTIFY', { room: 'r', message: { n: 1 } })).to.deep.equal({ ok: true });
      const event = { sender: 'a1', room: 'r', message: { n: 1 } };
      expect(await atA2).to.deep.equal(event);
      expect(await atB1).to.deep.equal(event);
      await silent(a1, 'EVENT');
      await silent(outsider, 'EVENT');

      // And the other way round.
      const atA1 = next(a1, 'EVENT');
      await ack(b1, 'NOTIFY', JSON.stringify({ room: 'r', message: 'back' }));
      expect(await atA1).to.deep.equal({ sender: 'b1', room: 'r', message: 'back' });
    });

    it('NOTIFYs sent back to back (one turn, one MULTI) reach the other node all and in order', async () => {
      const [A, B] = await twoNodes();
      const a1 = await A.connect('/layout');
      const b1 = await B.connect('/layout');
      for (const [socket, name] of [
        [a1, 'a1'],
        [b1, 'b1'],
      ] as const) {
        expect(await ack(socket, 'JOIN', { room: 'r', name })).to.deep.equal({ ok: true });
      }
      const count = 50;
      const arriving = received<{ message: number }>(b1, 'EVENT', count);
      const acks = Array.from({ length: count }, (_, n) => ack(a1, 'NOTIFY', { room: 'r', message: n }));
      expect(await Promise.all(acks)).to.deep.equal(Array.from({ length: count }, () => ({ ok: true })));
      expect((await arriving).map((event) => event.message)).to.deep.equal(Array.from({ length: count }, (_, n) => n));
    });

    it('CLIENTS lists the members of every node in join order, from either node; LEAVE and disconnect remove them', async () => {
      const [A, B] = await twoNodes();
      const sockets: Socket[] = [];
      for (const [node, name] of [
        [A, 'a1'],
        [B, 'b1'],
        [A, 'a2'],
        [B, 'b2'],
        [B, 'b3'],
      ] as const) {
        const socket = await node.connect('/layout');
        expect(await ack(socket, 'JOIN', { room: 'r', name })).to.deep.equal({ ok: true });
        sockets.push(socket);
      }
      const [a1, b1, , b2] = sockets;
      if (!a1 || !b1 || !b2) throw new Error('sockets missing');
      // A re-JOIN with another name renames but keeps the place.
      await ack(b1, 'JOIN', { room: 'r', name: 'b1*' });
      const expected = ['a1', 'b1*', 'a2', 'b2', 'b3'];
      expect(await ack(a1, 'CLIENTS', { room: 'r' })).to.deep.equal({ ok: true, room: 'r', clients: expected });
      const pushed = next(b2, 'CLIENTS');
      expect(await ack(b2, 'CLIENTS', { room: 'r' })).to.deep.equal({ ok: true, room: 'r', clients: expected });
      expect(await pushed).to.deep.equal({ room: 'r', clients: expected });

      await ack(b1, 'LEAVE', { room: 'r' });
      const gone = B.serverDisconnect('/layout', b2.id);
      b2.disconnect();
      await gone;
      expect(await ack(a1, 'CLIENTS', { room: 'r' })).to.deep.equal({ ok: true, room: 'r', clients: ['a1', 'a2', 'b3'] });
      // Joining again puts b1 at the end.
      await ack(b1, 'JOIN', { room: 'r', name: 'b1' });
      expect(await ack(a1, 'CLIENTS', { room: 'r' })).to.deep.equal({ ok: true, room: 'r', clients: ['a1', 'a2', 'b3', 'b1'] });
    });

    it('POST /bus-message on one node reaches /bus sockets on every node', async () => {
      const [A, B] = await twoNodes();
      const a = await A.connect('/bus');
      const b = await B.connect('/bus');
      await ack(a, 'JOIN', { room: 'm', name: 'a' });
      await ack(b, 'JOIN', { room: 'm', name: 'b' });
      for (const [node, body] of [
        [A, { from: 'A' }],
        [B, { from: 'B' }],
      ] as const) {
        const atA = next(a, 'EVENT');
        const atB = next(b, 'EVENT');
        expect((await postBusMessage(node, 'm', JSON.stringify(body))).status).to.equal(200);
        expect(await atA).to.deep.equal({ sender: 'POST', room: 'm', message: body });
        expect(await atB).to.deep.equal({ sender: 'POST', room: 'm', message: body });
      }
    });
  });

  describe('/lobby', () => {
    it('JOINED, PEERS, MESSAGE, LEFT and RTCSIGNAL work between nodes', async () => {
      const [A, B] = await twoNodes();
      const a = await A.connect('/lobby');
      const b = await B.connect('/lobby');
      expect(await ack(a, 'JOIN', 'L')).to.deep.equal({ ok: true, lobby: 'L', peers: [] });

      const joinedAtA = next(a, 'JOINED');
      const peersAtB = next(b, 'PEERS');
      expect(await ack(b, 'JOIN', { lobby: 'L' })).to.deep.equal({ ok: true, lobby: 'L', peers: [idOf(a)] });
      expect(await joinedAtA).to.equal(idOf(b));
      expect(await peersAtB).to.deep.equal([idOf(a)]);
      expect(await ack(b, 'JOIN', 'L')).to.deep.include({
        ok: false,
        error: { code: 'ALREADY_IN_LOBBY', message: 'already in lobby "L"; LEAVE it first' },
      });

      const messageAtA = next(a, 'MESSAGE');
      const messageAtB = next(b, 'MESSAGE');
      await ack(b, 'BROADCAST', { message: 'hi' });
      expect(await messageAtA).to.deep.equal({ from: idOf(b), message: 'hi' });
      expect(await messageAtB).to.deep.equal({ from: idOf(b), message: 'hi' });

      const signalAtB = next(b, 'RTCSIGNAL');
      expect(await ack(a, 'RTCSIGNAL', { to: idOf(b), from: 'forged', sdp: 'offer' })).to.deep.equal({ ok: true });
      expect(await signalAtB).to.deep.equal({ sdp: 'offer', to: idOf(b), from: idOf(a) });

      const leftAtA = next(a, 'LEFT');
      expect(await ack(b, 'LEAVE', 'L')).to.deep.equal({ ok: true });
      expect(await leftAtA).to.equal(idOf(b));

      // Back in, then gone: the disconnect is announced across nodes too.
      await ack(b, 'JOIN', 'L');
      const bId = idOf(b);
      const leftAgain = next(a, 'LEFT');
      const gone = B.serverDisconnect('/lobby', b.id);
      b.disconnect();
      await gone;
      expect(await leftAgain).to.equal(bId);
    });

    it('counts the members of every node against --max-lobby-members', async () => {
      const [A, B] = two(await startNodes(await startRedis(), 2, undefined, { maxLobbyMembers: 2 }));
      const a = await A.connect('/lobby');
      const b = await B.connect('/lobby');
      expect(await ack(a, 'JOIN', 'L')).to.deep.include({ ok: true });
      expect(await ack(b, 'JOIN', 'L')).to.deep.include({ ok: true });
      for (const node of [A, B]) {
        const late = await node.connect('/lobby');
        expect(await ack(late, 'JOIN', 'L')).to.deep.equal({
          ok: false,
          error: { code: 'LIMIT', message: 'lobby "L" is full: it holds at most 2 members' },
        });
        expect(await ack(late, 'JOIN', 'M')).to.deep.include({ ok: true, lobby: 'M' });
      }
    });

    it('refuses RTCSIGNAL to a peer on another node outside the sender’s lobby (UNKNOWN_PEER) and delivers nothing', async () => {
      const [A, B] = await twoNodes();
      const a = await A.connect('/lobby');
      const elsewhere = await B.connect('/lobby');
      const lobbyless = await B.connect('/lobby');
      await ack(a, 'JOIN', 'L');
      await ack(elsewhere, 'JOIN', 'M');
      for (const to of [idOf(elsewhere), idOf(lobbyless), 'room:M', 'room:L', 'nobody']) {
        expect(await ack(a, 'RTCSIGNAL', { to, sdp: 'x' })).to.deep.equal({
          ok: false,
          error: { code: 'UNKNOWN_PEER', message: `no peer ${JSON.stringify(to)} in lobby "L"` },
        });
      }
      await silent(elsewhere, 'RTCSIGNAL');
      await silent(lobbyless, 'RTCSIGNAL');
    });
  });

  describe('/trigger', () => {
    it('BROADCAST_EVENTS / _UPDATES / _STATUS reach the other members on every node', async () => {
      const [A, B] = await twoNodes();
      const a = await A.connect('/trigger');
      const b = await B.connect('/trigger');
      await ack(a, 'JOIN', 't');
      await ack(b, 'JOIN', 't');
      for (const [request, event] of [
        ['BROADCAST_EVENTS', 'EVENTS'],
        ['BROADCAST_UPDATES', 'UPDATES'],
        ['BROADCAST_STATUS', 'STATUS'],
      ] as const) {
        const atB = next(b, event);
        expect(await ack(a, request, 't', { at: 1 })).to.deep.equal({ ok: true });
        expect(await atB).to.deep.equal({ at: 1 });
      }
      await silent(a, 'EVENTS');
      await ack(b, 'LEAVE', 't');
      await silent(b, 'EVENTS', () => ack(a, 'BROADCAST_EVENTS', 't', 1));
    });
  });

  describe('GET /readyz', () => {
    it('answers 200 READY on a connected node', async () => {
      const [A] = await twoNodes();
      const response = await fetch(`${A.url}/readyz`);
      expect(response.status).to.equal(200);
      expect(await response.text()).to.equal('READY');
      await barrier(await A.connect('/layout'));
    });
  });
});
