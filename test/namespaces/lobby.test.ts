import { expect } from 'chai';
import type { Socket } from 'socket.io-client';
import { one, three, two } from '../support/arrays.js';
import type { LimitHit } from '../../lib/core/types.js';
import { failure } from '../support/reply.js';
import { idOf, startServer, type ClientOptions, type TestServer, WITHOUT_RECOVERY } from '../support/server.js';
import { ack, next, recordAll, settle, silent, type Heard } from '../support/wait.js';

const NS = '/lobby';

/** Records every event `socket` receives from now on, in arrival order (acks are not events). */
function record(socket: Socket): Heard[] {
  return recordAll(socket).heard;
}

/**
 * Connects a v4 client to `/lobby` with its recorder attached *before* connecting: a handshake
 * `lobbyId` makes the server send JOINED and PEERS right behind the CONNECT packet, so they can be
 * dispatched in the same tick as `connect`, before any listener added after `srv.connect()` resolved.
 */
async function connectRecorded(srv: TestServer, options: ClientOptions): Promise<{ socket: Socket; log: Heard[] }> {
  let log: Heard[] = [];
  const socket = await srv.connect(NS, options, (fresh) => (log = record(fresh)));
  return { socket, log };
}

/** `n` connected `/lobby` clients. */
function connectMany(srv: TestServer, n: number): Promise<Socket[]> {
  return Promise.all(Array.from({ length: n }, () => srv.connect(NS)));
}

/** Connects `n` clients and JOINs them one after the other into `lobby` (join order = array order). */
async function lobbyOf(srv: TestServer, lobby: string, n: number): Promise<Socket[]> {
  const sockets = await connectMany(srv, n);
  for (const socket of sockets) expect(await ack(socket, 'JOIN', lobby)).to.deep.include({ ok: true, lobby });
  return sockets;
}

const notInLobby = failure('NOT_IN_LOBBY', 'join a lobby first');
const alreadyIn = (lobby: string): unknown => failure('ALREADY_IN_LOBBY', `already in lobby ${JSON.stringify(lobby)}; LEAVE it first`);
const notInThatLobby = (lobby: string): unknown => failure('NOT_IN_LOBBY', `not in lobby ${JSON.stringify(lobby)}`);
const unknownPeer = (to: string, lobby: string): unknown =>
  failure('UNKNOWN_PEER', `no peer ${JSON.stringify(to)} in lobby ${JSON.stringify(lobby)}`);

describe('/lobby namespace', () => {
  describe('connect with lobbyId', () => {
    for (const where of ['auth', 'query'] as const) {
      it(`joins the lobby named in the handshake ${where}: JOINED to every member, then PEERS to the newcomer`, async () => {
        const srv = await startServer(WITHOUT_RECOVERY);
        const [a, outsider] = two(await connectMany(srv, 2));
        await ack(a, 'JOIN', 'L');
        await ack(outsider, 'JOIN', 'other');
        const aLog = record(a);
        const outsiderLog = record(outsider);

        const { socket: c, log } = await connectRecorded(srv, where === 'auth' ? { auth: { lobbyId: 'L' } } : { query: { lobbyId: 'L' } });
        await settle(a, c, outsider);
        expect(log).to.deep.equal([
          ['JOINED', idOf(c)],
          ['PEERS', [idOf(a)]],
        ]);
        expect(aLog).to.deep.equal([['JOINED', idOf(c)]]);
        expect(outsiderLog).to.deep.equal([]);

        // It is really in L: its broadcast reaches a, and a second JOIN is refused.
        const atA = next(a, 'MESSAGE');
        expect(await ack(c, 'BROADCAST', { message: 'hi' })).to.deep.equal({ ok: true });
        expect(await atA).to.deep.equal({ from: idOf(c), message: 'hi' });
        expect(await ack(c, 'JOIN', 'L')).to.deep.equal(alreadyIn('L'));
      });
    }

    it('without lobbyId joins nothing and waits for JOIN', async () => {
      const srv = await startServer(WITHOUT_RECOVERY);
      const { socket: a, log } = await connectRecorded(srv, {});
      await settle(a);
      expect(log).to.deep.equal([]);
      expect(await ack(a, 'BROADCAST', { message: 1 })).to.deep.equal(notInLobby);
      expect(await ack(a, 'JOIN', 'L')).to.deep.equal({ ok: true, lobby: 'L', peers: [] });
    });

    it('answers an invalid handshake lobbyId with ERROR {event: JOIN} and keeps the socket connected and usable', async () => {
      const srv = await startServer({ ...WITHOUT_RECOVERY, maxIdLength: 8 });
      const member = one(await lobbyOf(srv, 'xxxxxxxx', 1));
      const memberLog = record(member);

      const { socket: a, log } = await connectRecorded(srv, { auth: { lobbyId: 'x'.repeat(9) } });
      await settle(a, member);
      expect(log).to.deep.equal([['ERROR', { event: 'JOIN', code: 'BAD_REQUEST', message: 'lobby must not have more than 8 characters' }]]);
      expect(a.connected).to.equal(true);
      expect(memberLog).to.deep.equal([]);
      expect(await ack(a, 'BROADCAST', { message: 1 })).to.deep.equal(notInLobby);
      expect(await ack(a, 'JOIN', 'xxxxxxxx')).to.deep.equal({ ok: true, lobby: 'xxxxxxxx', peers: [idOf(member)] });
    });

    it('does not coerce a non-string handshake lobbyId', async () => {
      const srv = await startServer(WITHOUT_RECOVERY);
      const { socket: a, log } = await connectRecorded(srv, { auth: { lobbyId: 42 } });
      await settle(a);
      expect(log).to.deep.equal([['ERROR', { event: 'JOIN', code: 'BAD_REQUEST', message: 'lobby must be string' }]]);
      expect(await ack(a, 'JOIN', '42')).to.deep.equal({ ok: true, lobby: '42', peers: [] });
    });
  });

  describe('JOIN', () => {
    it('sends JOINED to every member including the newcomer, then PEERS to the newcomer alone, and acks {ok, lobby, peers}', async () => {
      const srv = await startServer(WITHOUT_RECOVERY);
      const [a, b, c, outsider, elsewhere] = [...three(await connectMany(srv, 3)), ...two(await connectMany(srv, 2))];
      await ack(elsewhere, 'JOIN', 'M');
      const logs = [a, b, c, outsider, elsewhere].map(record);
      const [aId, bId, cId] = [idOf(a), idOf(b), idOf(c)];

      expect(await ack(a, 'JOIN', 'L')).to.deep.equal({ ok: true, lobby: 'L', peers: [] });
      expect(await ack(b, 'JOIN', 'L')).to.deep.equal({ ok: true, lobby: 'L', peers: [aId] });
      expect(await ack(c, 'JOIN', 'L')).to.deep.equal({ ok: true, lobby: 'L', peers: [aId, bId] });
      await settle(a, b, c, outsider, elsewhere);

      expect(logs).to.deep.equal([
        [
          ['JOINED', aId],
          ['PEERS', []],
          ['JOINED', bId],
          ['JOINED', cId],
        ],
        [
          ['JOINED', bId],
          ['PEERS', [aId]],
          ['JOINED', cId],
        ],
        [
          ['JOINED', cId],
          ['PEERS', [aId, bId]],
        ],
        [],
        [],
      ]);
    });

    const forms: [string, (lobby: string) => unknown][] = [
      ['a lobby id string', (lobby) => lobby],
      ['an object {lobby}', (lobby) => ({ lobby })],
      ['a JSON string of {lobby}', (lobby) => JSON.stringify({ lobby })],
    ];
    for (const [form, payload] of forms) {
      it(`accepts ${form}`, async () => {
        const srv = await startServer(WITHOUT_RECOVERY);
        const [a, b] = two(await connectMany(srv, 2));
        await ack(a, 'JOIN', 'L');
        const aLog = record(a);
        const bLog = record(b);
        expect(await ack(b, 'JOIN', payload('L'))).to.deep.equal({ ok: true, lobby: 'L', peers: [idOf(a)] });
        await settle(a, b);
        expect(aLog).to.deep.equal([['JOINED', idOf(b)]]);
        expect(bLog).to.deep.equal([
          ['JOINED', idOf(b)],
          ['PEERS', [idOf(a)]],
        ]);
      });
    }

    it('refuses a second JOIN with ALREADY_IN_LOBBY, for the same or another lobby, and changes nothing', async () => {
      const srv = await startServer(WITHOUT_RECOVERY);
      const [a, b] = two(await lobbyOf(srv, 'L1', 2));
      const c = one(await lobbyOf(srv, 'L2', 1));
      const logs = [a, b, c].map(record);

      expect(await ack(a, 'JOIN', 'L1')).to.deep.equal(alreadyIn('L1'));
      expect(await ack(a, 'JOIN', { lobby: 'L2' })).to.deep.equal(alreadyIn('L1'));
      await settle(a, b, c);
      expect(logs).to.deep.equal([[], [], []]);

      // Still in L1 only.
      const atB = next(b, 'MESSAGE');
      await silent(c, 'MESSAGE', () => ack(a, 'BROADCAST', { message: 'still here' }));
      expect(await atB).to.deep.equal({ from: idOf(a), message: 'still here' });
      expect(await ack(a, 'LEAVE', 'L2')).to.deep.equal(notInThatLobby('L2'));
    });

    it('refuses a JOIN into a full lobby (--max-lobby-members) with LIMIT; the refused socket is in no lobby and can JOIN another', async () => {
      const srv = await startServer({ ...WITHOUT_RECOVERY, maxLobbyMembers: 3 });
      const hits: LimitHit[] = [];
      srv.app.hooks.on('limited', (hit) => hits.push(hit));
      const members = await lobbyOf(srv, 'L', 3);
      const late = await srv.connect(NS);
      const full = failure('LIMIT', 'lobby "L" is full: it holds at most 3 members');
      await silent(one(members), 'JOINED', async () => {
        expect(await ack(late, 'JOIN', 'L')).to.deep.equal(full);
        expect(await ack(late, 'JOIN', { lobby: 'L' })).to.deep.equal(full);
      });
      const hit = { limit: 'lobby-members', action: 'refused', address: '127.0.0.1', namespace: NS, socketId: late.id };
      expect(hits).to.deep.equal([hit, hit]);
      expect(await ack(late, 'BROADCAST', { message: 'x' })).to.deep.equal(notInLobby);
      expect(await ack(late, 'JOIN', 'M')).to.deep.equal({ ok: true, lobby: 'M', peers: [] });
      expect(await ack(late, 'LEAVE', 'M')).to.deep.equal({ ok: true });

      // A seat freed by LEAVE (or a disconnect) is taken again.
      const [first, second, third] = three(members);
      expect(await ack(first, 'LEAVE', 'L')).to.deep.equal({ ok: true });
      expect(await ack(late, 'JOIN', 'L')).to.deep.include({ ok: true, lobby: 'L' });
      const secondId = idOf(second);
      const gone = srv.serverDisconnect(NS, secondId);
      second.disconnect();
      await gone;
      const again = await srv.connect(NS);
      expect(await ack(again, 'JOIN', 'L')).to.deep.equal({ ok: true, lobby: 'L', peers: [idOf(third), idOf(late)] });
    });

    it('answers a handshake lobbyId into a full lobby with an ERROR (LIMIT), and the socket stays connected', async () => {
      const srv = await startServer({ ...WITHOUT_RECOVERY, maxLobbyMembers: 1 });
      await lobbyOf(srv, 'L', 1);
      const { socket, log } = await connectRecorded(srv, { auth: { lobbyId: 'L' } });
      await settle(socket);
      expect(log).to.deep.equal([['ERROR', { event: 'JOIN', code: 'LIMIT', message: 'lobby "L" is full: it holds at most 1 members' }]]);
      expect(socket.connected).to.equal(true);
      expect(await ack(socket, 'JOIN', 'M')).to.deep.equal({ ok: true, lobby: 'M', peers: [] });
    });

    it('answers a malformed lobby with BAD_REQUEST and joins nothing', async () => {
      const srv = await startServer({ ...WITHOUT_RECOVERY, maxIdLength: 8 });
      const a = await srv.connect(NS);
      const log = record(a);
      const cases: [unknown, string][] = [
        [42, 'lobby must be string'],
        [{ lobby: 42 }, 'lobby must be string'],
        [{}, 'lobby is required'],
        ['', 'lobby must not have fewer than 1 characters'],
        ['123456789', 'lobby must not have more than 8 characters'],
      ];
      for (const [payload, message] of cases) {
        expect(await ack(a, 'JOIN', payload)).to.deep.equal(failure('BAD_REQUEST', message));
      }
      expect(await ack(a, 'JOIN')).to.deep.equal(failure('BAD_REQUEST', 'payload is required'));
      await settle(a);
      expect(log).to.deep.equal([]);
      expect(await ack(a, 'BROADCAST', { message: 1 })).to.deep.equal(notInLobby);
    });
  });

  describe('LEAVE', () => {
    const forms: [string, (lobby: string) => unknown][] = [
      ['a lobby id string', (lobby) => lobby],
      ['an object {lobby}', (lobby) => ({ lobby })],
      ['a JSON string of {lobby}', (lobby) => JSON.stringify({ lobby })],
    ];
    for (const [form, payload] of forms) {
      it(`given ${form}, leaves and the remaining members receive LEFT <id>`, async () => {
        const srv = await startServer(WITHOUT_RECOVERY);
        const [a, b, c] = three(await lobbyOf(srv, 'L', 3));
        const elsewhere = one(await lobbyOf(srv, 'M', 1));
        const logs = [a, b, c, elsewhere].map(record);

        expect(await ack(b, 'LEAVE', payload('L'))).to.deep.equal({ ok: true });
        await settle(a, b, c, elsewhere);
        expect(logs).to.deep.equal([[['LEFT', idOf(b)]], [], [['LEFT', idOf(b)]], []]);

        // b is out: it cannot broadcast, and broadcasts in L no longer reach it.
        expect(await ack(b, 'BROADCAST', { message: 1 })).to.deep.equal(notInLobby);
        await silent(b, 'MESSAGE', () => ack(a, 'BROADCAST', { message: 2 }));
      });
    }

    it('answers NOT_IN_LOBBY when not in any lobby or in another one, and changes nothing', async () => {
      const srv = await startServer(WITHOUT_RECOVERY);
      const [a, b] = two(await lobbyOf(srv, 'L1', 2));
      const c = one(await lobbyOf(srv, 'L2', 1));
      const outsider = await srv.connect(NS);
      const logs = [a, b, c].map(record);

      expect(await ack(outsider, 'LEAVE', 'L1')).to.deep.equal(notInThatLobby('L1'));
      expect(await ack(a, 'LEAVE', 'L2')).to.deep.equal(notInThatLobby('L2'));
      expect(await ack(a, 'LEAVE', { lobby: 'nowhere' })).to.deep.equal(notInThatLobby('nowhere'));
      await settle(a, b, c);
      expect(logs).to.deep.equal([[], [], []]);

      const atB = next(b, 'MESSAGE');
      expect(await ack(a, 'BROADCAST', { message: 'still in L1' })).to.deep.equal({ ok: true });
      expect(await atB).to.deep.equal({ from: idOf(a), message: 'still in L1' });
    });

    it('lets the socket JOIN another lobby afterwards', async () => {
      const srv = await startServer(WITHOUT_RECOVERY);
      const [a, b] = two(await lobbyOf(srv, 'L1', 2));
      const c = one(await lobbyOf(srv, 'L2', 1));
      expect(await ack(a, 'LEAVE', 'L1')).to.deep.equal({ ok: true });
      const logs = [a, b, c].map(record);

      expect(await ack(a, 'JOIN', 'L2')).to.deep.equal({ ok: true, lobby: 'L2', peers: [idOf(c)] });
      await settle(a, b, c);
      expect(logs).to.deep.equal([
        [
          ['JOINED', idOf(a)],
          ['PEERS', [idOf(c)]],
        ],
        [],
        [['JOINED', idOf(a)]],
      ]);

      const atC = next(c, 'MESSAGE');
      await silent(b, 'MESSAGE', () => ack(a, 'BROADCAST', { message: 'moved' }));
      expect(await atC).to.deep.equal({ from: idOf(a), message: 'moved' });
    });
  });

  describe('BROADCAST', () => {
    it('sends MESSAGE {from, message} to every member of the lobby, the sender included, and to no one else', async () => {
      const srv = await startServer(WITHOUT_RECOVERY);
      const [a, b, c] = three(await lobbyOf(srv, 'L', 3));
      const elsewhere = one(await lobbyOf(srv, 'M', 1));
      const outsider = await srv.connect(NS);
      const logs = [a, b, c, elsewhere, outsider].map(record);

      const message = { nested: [1, 'two', null, { three: true }] };
      expect(await ack(b, 'BROADCAST', { message })).to.deep.equal({ ok: true });
      await settle(a, b, c, elsewhere, outsider);
      const expected = [['MESSAGE', { from: idOf(b), message }]];
      expect(logs).to.deep.equal([expected, expected, expected, [], []]);
    });

    it('accepts the payload as a JSON string and passes any JSON message through unchanged', async () => {
      const srv = await startServer(WITHOUT_RECOVERY);
      const [a, b] = two(await lobbyOf(srv, 'L', 2));
      const log = record(b);
      const messages = ['a string', '{"looks":"like json"}', 42, 0, false, null, [], {}, { deep: { a: [1] } }];
      for (const message of messages) expect(await ack(a, 'BROADCAST', JSON.stringify({ message }))).to.deep.equal({ ok: true });
      await settle(b);
      expect(log).to.deep.equal(messages.map((message) => ['MESSAGE', { from: idOf(a), message }]));
    });

    it('answers NOT_IN_LOBBY when the sender is not in a lobby, and delivers nothing', async () => {
      const srv = await startServer(WITHOUT_RECOVERY);
      const member = one(await lobbyOf(srv, 'L', 1));
      const outsider = await srv.connect(NS);
      const logs = [member, outsider].map(record);
      expect(await ack(outsider, 'BROADCAST', { message: 1 })).to.deep.equal(notInLobby);
      await settle(member, outsider);
      expect(logs).to.deep.equal([[], []]);
    });

    it('requires a message field', async () => {
      const srv = await startServer(WITHOUT_RECOVERY);
      const a = one(await lobbyOf(srv, 'L', 1));
      const log = record(a);
      expect(await ack(a, 'BROADCAST', {})).to.deep.equal(failure('BAD_REQUEST', 'message is required'));
      await settle(a);
      expect(log).to.deep.equal([]);
    });
  });

  describe('RTCSIGNAL', () => {
    it('delivers {...rest, to, from} to the peer `to` alone, with `from` set by the server', async () => {
      const srv = await startServer(WITHOUT_RECOVERY);
      const [a, b, c] = three(await lobbyOf(srv, 'L', 3));
      const logs = [a, b, c].map(record);
      const rest = { type: 'offer', sdp: 'v=0\r\n', candidate: { sdpMid: '0', sdpMLineIndex: 0 } };

      expect(await ack(a, 'RTCSIGNAL', { ...rest, to: idOf(b), from: 'spoofed' })).to.deep.equal({ ok: true });
      expect(await ack(a, 'RTCSIGNAL', JSON.stringify({ ...rest, to: idOf(c) }))).to.deep.equal({ ok: true });
      await settle(a, b, c);
      expect(logs).to.deep.equal([
        [],
        [['RTCSIGNAL', { ...rest, to: idOf(b), from: idOf(a) }]],
        [['RTCSIGNAL', { ...rest, to: idOf(c), from: idOf(a) }]],
      ]);
    });

    it('answers UNKNOWN_PEER for a `to` in another lobby or unknown, and delivers nothing', async () => {
      const srv = await startServer(WITHOUT_RECOVERY);
      const [a, b] = two(await lobbyOf(srv, 'L', 2));
      const elsewhere = one(await lobbyOf(srv, 'M', 1));
      const outsider = await srv.connect(NS);
      const logs = [a, b, elsewhere, outsider].map(record);

      for (const to of [idOf(elsewhere), idOf(outsider), 'no-such-socket']) {
        expect(await ack(a, 'RTCSIGNAL', { to, type: 'offer' })).to.deep.equal(unknownPeer(to, 'L'));
      }
      // A lobby room's internal name is not a peer either.
      expect(await ack(a, 'RTCSIGNAL', { to: 'room:M', type: 'offer' })).to.deep.equal(unknownPeer('room:M', 'L'));
      await settle(a, b, elsewhere, outsider);
      expect(logs).to.deep.equal([[], [], [], []]);
    });

    it('answers NOT_IN_LOBBY when the sender is not in a lobby, and delivers nothing', async () => {
      const srv = await startServer(WITHOUT_RECOVERY);
      const member = one(await lobbyOf(srv, 'L', 1));
      const outsider = await srv.connect(NS);
      const logs = [member, outsider].map(record);
      expect(await ack(outsider, 'RTCSIGNAL', { to: idOf(member), type: 'offer' })).to.deep.equal(notInLobby);
      await settle(member, outsider);
      expect(logs).to.deep.equal([[], []]);
    });

    // Peer ids are Socket.IO socket ids (20 characters), not client-chosen lobby ids: the configurable
    // maxIdLength ("longest room id, lobby id or display name") must not make every peer unreachable.
    it('does not apply maxIdLength to `to` (a socket id, not a lobby id)', async () => {
      const srv = await startServer({ ...WITHOUT_RECOVERY, maxIdLength: 8 });
      const [a, b] = two(await lobbyOf(srv, 'L', 2));
      const atB = next(b, 'RTCSIGNAL');
      expect(await ack(a, 'RTCSIGNAL', { to: idOf(b), type: 'offer' })).to.deep.equal({ ok: true });
      expect(await atB).to.deep.equal({ type: 'offer', to: idOf(b), from: idOf(a) });
    });

    it('requires a string `to`', async () => {
      const srv = await startServer(WITHOUT_RECOVERY);
      const [a, b] = two(await lobbyOf(srv, 'L', 2));
      const log = record(b);
      expect(await ack(a, 'RTCSIGNAL', { type: 'offer' })).to.deep.equal(failure('BAD_REQUEST', 'to is required'));
      expect(await ack(a, 'RTCSIGNAL', { to: 5 })).to.deep.equal(failure('BAD_REQUEST', 'to must be string'));
      await settle(b);
      expect(log).to.deep.equal([]);
    });
  });

  describe('disconnect', () => {
    it('sends LEFT <id> to the remaining members of its lobby, and the lobby forgets it', async () => {
      const srv = await startServer(WITHOUT_RECOVERY);
      const [a, b, c] = three(await lobbyOf(srv, 'L', 3));
      const elsewhere = one(await lobbyOf(srv, 'M', 1));
      const logs = [a, c, elsewhere].map(record);
      const bId = idOf(b);

      const gone = srv.serverDisconnect(NS, bId);
      b.disconnect();
      await gone;
      await settle(a, c, elsewhere);
      expect(logs).to.deep.equal([[['LEFT', bId]], [['LEFT', bId]], []]);

      const newcomer = await srv.connect(NS);
      expect(await ack(newcomer, 'JOIN', 'L')).to.deep.equal({ ok: true, lobby: 'L', peers: [idOf(a), idOf(c)] });
      expect(await ack(a, 'RTCSIGNAL', { to: bId })).to.deep.equal(unknownPeer(bId, 'L'));
    });

    it('sends nothing when the socket was in no lobby (any more)', async () => {
      const srv = await startServer(WITHOUT_RECOVERY);
      const [a, b] = two(await lobbyOf(srv, 'L', 2));
      await ack(b, 'LEAVE', 'L');
      const log = record(a);
      const gone = srv.serverDisconnect(NS, idOf(b));
      b.disconnect();
      await gone;
      await settle(a);
      expect(log).to.deep.equal([]);
    });
  });

  describe('errors without an ack', () => {
    interface ErrorCase {
      event: string;
      /** The request's arguments; `other` is a socket in another lobby. */
      args: (other: Socket) => unknown[];
      error: (other: Socket) => { code: string; message: string };
    }
    const cases: ErrorCase[] = [
      { event: 'JOIN', args: () => ['L2'], error: () => ({ code: 'ALREADY_IN_LOBBY', message: 'already in lobby "L"; LEAVE it first' }) },
      { event: 'LEAVE', args: () => [{ lobby: 'L2' }], error: () => ({ code: 'NOT_IN_LOBBY', message: 'not in lobby "L2"' }) },
      {
        event: 'BROADCAST',
        args: () => ['not json'],
        error: () => ({ code: 'BAD_REQUEST', message: 'payload is a string but not valid JSON' }),
      },
      {
        event: 'RTCSIGNAL',
        args: (other) => [{ to: idOf(other) }],
        error: (other) => ({ code: 'UNKNOWN_PEER', message: `no peer ${JSON.stringify(idOf(other))} in lobby "L"` }),
      },
    ];
    for (const { event, args, error } of cases) {
      it(`a failed ${event} emits ERROR {event, code, message} to that socket alone and keeps it usable`, async () => {
        const srv = await startServer(WITHOUT_RECOVERY);
        const [lobbied, peer] = two(await lobbyOf(srv, 'L', 2));
        const other = one(await lobbyOf(srv, 'L2', 1));
        const logs = [lobbied, peer, other].map(record);

        lobbied.emit(event, ...args(other));
        await settle(lobbied, peer, other);
        expect(logs).to.deep.equal([[['ERROR', { event, ...error(other) }]], [], []]);
        expect(lobbied.connected).to.equal(true);
        const atPeer = next(peer, 'MESSAGE');
        expect(await ack(lobbied, 'BROADCAST', { message: 'still usable' })).to.deep.equal({ ok: true });
        expect(await atPeer).to.deep.equal({ from: idOf(lobbied), message: 'still usable' });
      });
    }

    it('a request that fails because the sender is in no lobby emits ERROR NOT_IN_LOBBY', async () => {
      const srv = await startServer(WITHOUT_RECOVERY);
      const outsider = await srv.connect(NS);
      const error = next(outsider, 'ERROR');
      outsider.emit('BROADCAST', { message: 1 });
      expect(await error).to.deep.equal({ event: 'BROADCAST', code: 'NOT_IN_LOBBY', message: 'join a lobby first' });
    });

    it('a successful request without an ack emits nothing but its effects', async () => {
      const srv = await startServer(WITHOUT_RECOVERY);
      const [a, b] = two(await connectMany(srv, 2));
      await ack(b, 'JOIN', 'L');
      const logs = [a, b].map(record);
      a.emit('JOIN', 'L');
      a.emit('BROADCAST', { message: 'x' });
      a.emit('LEAVE', 'L');
      await settle(a, b);
      const [aId, bId] = [idOf(a), idOf(b)];
      expect(logs).to.deep.equal([
        [
          ['JOINED', aId],
          ['PEERS', [bId]],
          ['MESSAGE', { from: aId, message: 'x' }],
        ],
        [
          ['JOINED', aId],
          ['MESSAGE', { from: aId, message: 'x' }],
          ['LEFT', aId],
        ],
      ]);
    });
  });
});
