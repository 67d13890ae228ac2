import {
  lobbyRequestSchemas,
  type LobbyClientToServerEvents,
  type LobbyServerToClientEvents,
  type RtcSignalRequest,
} from '../../protocol/index.js';
import type { JoinStamps, RoomAnswer } from '../cluster/types.js';
import type { ServiceContext } from '../core/context.js';
import { RequestError } from '../core/errors.js';
import { andThen } from '../core/maybe.js';
import { requestListener, requireArgs, type RequestHandler } from '../core/reply.js';
import { assertBroadcastable, joinRoom, leaveRoom, roomKey } from '../core/rooms.js';
import { compileValidator, idOrObjectPayload, parseWirePayload } from '../core/validate.js';
import { DeferredDepartures, mayRecover, RECOVERY_GRACE_MS, SHUTTING_DOWN } from '../delivery/departures.js';
import { serveRequests, type ProtocolNamespace, type ProtocolSocket } from './serve.js';

/** Per-socket state on `/lobby`: the one lobby the socket is in, if any. */
export interface LobbySocketData extends JoinStamps {
  lobby?: string;
  /** When (wall-clock ms) the socket joined its lobby: a recovered peer announces itself to those who came later. */
  joinedAt?: number;
  /** When the socket's connection dropped, recorded before Socket.IO keeps its session for recovery. */
  droppedAt?: number;
  /** Its peers were told it LEFT at once (its node was shutting down): a recovery announces it to them all. */
  announcedLeft?: boolean;
}

/** The server's typed `/lobby` namespace. */
export type LobbyNamespace = ProtocolNamespace<LobbyClientToServerEvents, LobbyServerToClientEvents, LobbySocketData>;
type LobbySocket = ProtocolSocket<LobbyClientToServerEvents, LobbyServerToClientEvents, LobbySocketData>;

/**
 * Mounts the `/lobby` protocol (JOIN, LEAVE, BROADCAST, RTCSIGNAL → JOINED, PEERS, LEFT, MESSAGE,
 * RTCSIGNAL) on `nsp`. A socket is in at most one lobby; peers are socket ids.
 */
export function mountLobby(nsp: LobbyNamespace, context: ServiceContext): void {
  const { limits, hooks } = context;
  const { directory } = context.cluster;
  const schemas = lobbyRequestSchemas(limits);
  const validate = {
    LOBBY: compileValidator(schemas.LOBBY),
    BROADCAST: compileValidator(schemas.BROADCAST),
    RTCSIGNAL: compileValidator(schemas.RTCSIGNAL),
  };

  function requireLobby(socket: LobbySocket): string {
    const lobby = socket.data.lobby;
    if (lobby === undefined) throw new RequestError('NOT_IN_LOBBY', 'join a lobby first');
    return lobby;
  }

  function join(socket: LobbySocket, payload: unknown) {
    const { lobby } = validate.LOBBY(idOrObjectPayload(payload, 'lobby'));
    if (socket.data.lobby !== undefined) {
      throw new RequestError('ALREADY_IN_LOBBY', `already in lobby ${JSON.stringify(socket.data.lobby)}; LEAVE it first`);
    }
    const key = roomKey(lobby);
    // Taken before the lookup, so that a second JOIN while a cluster lookup is pending is ALREADY_IN_LOBBY;
    // given back if the JOIN fails before the socket is in the lobby, so that it is not stuck "in" it.
    socket.data.lobby = lobby;
    const release = (err: unknown): never => {
      if (socket.data.lobby === lobby && !socket.rooms.has(key)) socket.data.lobby = undefined;
      throw err;
    };
    try {
      const joined = andThen(directory.memberIds(nsp, key), (found) => admit(socket, lobby, key, found));
      return joined instanceof Promise ? joined.catch(release) : joined;
    } catch (err) {
      return release(err);
    }
  }

  /**
   * Puts `socket` into `lobby`, whose members (on every node that answered) are `found`, unless it is full.
   * While a node does not answer, its members are not counted against the limit: refusing on a guess would
   * lock newcomers out of a lobby for as long as one node is stuck.
   */
  function admit(socket: LobbySocket, lobby: string, key: string, found: RoomAnswer<string>) {
    // A cluster lookup resolves later: the socket may have gone (or LEAVEd) meanwhile.
    if (!socket.connected || socket.data.lobby !== lobby)
      throw new RequestError('NOT_IN_LOBBY', `left lobby ${JSON.stringify(lobby)} while joining`);
    const ids = found.members;
    const peers = ids.includes(socket.id) ? ids.filter((id) => id !== socket.id) : ids;
    if (peers.length >= limits.maxLobbyMembers) {
      hooks.limited({
        limit: 'lobby-members',
        action: 'refused',
        address: context.clientAddress(socket),
        namespace: nsp.name,
        socketId: socket.id,
      });
      throw new RequestError('LIMIT', `lobby ${JSON.stringify(lobby)} is full: it holds at most ${limits.maxLobbyMembers} members`);
    }
    // The newcomer's own JOINED goes straight to it, not through the room broadcast: a cluster adapter
    // delivers broadcasts (locally too) only once Redis has taken them, which would put JOINED behind
    // PEERS and the ack. The others get the broadcast; they are not ordered against the newcomer anyway.
    socket.to(key).emit('JOINED', socket.id);
    socket.data.joinedAt = Date.now();
    joinRoom(hooks, socket, lobby);
    directory.trackMember(nsp.name, socket.id, lobby);
    socket.emit('JOINED', socket.id);
    socket.emit('PEERS', peers);
    return found.complete ? { lobby, peers } : { lobby, peers, partial: true as const };
  }

  const handlers: Record<keyof LobbyClientToServerEvents, RequestHandler<LobbySocket>> = {
    JOIN(socket, args) {
      requireArgs(args, 1);
      return join(socket, args[0]);
    },
    LEAVE(socket, args) {
      requireArgs(args, 1);
      const { lobby } = validate.LOBBY(idOrObjectPayload(args[0], 'lobby'));
      if (socket.data.lobby !== lobby) throw new RequestError('NOT_IN_LOBBY', `not in lobby ${JSON.stringify(lobby)}`);
      leaveRoom(hooks, socket, lobby);
      socket.data.lobby = undefined;
      socket.data.joinedAt = undefined;
      directory.trackMember(nsp.name, socket.id, undefined);
      nsp.to(roomKey(lobby)).emit('LEFT', socket.id);
    },
    BROADCAST(socket, args) {
      requireArgs(args, 1);
      const { message } = validate.BROADCAST(parseWirePayload(args[0]));
      const lobby = requireLobby(socket);
      assertBroadcastable(context.cluster);
      nsp.to(roomKey(lobby)).emit('MESSAGE', { from: socket.id, message });
    },
    RTCSIGNAL(socket, args) {
      requireArgs(args, 1);
      const signal: RtcSignalRequest = validate.RTCSIGNAL(parseWirePayload(args[0]));
      const lobby = requireLobby(socket);
      const { to, from: _untrusted, ...rest } = signal;
      return andThen(directory.isMember(nsp, roomKey(lobby), to), (membership) => {
        if (membership === 'unknown') {
          throw new RequestError(
            'UNAVAILABLE',
            `peer ${JSON.stringify(to)} not found in lobby ${JSON.stringify(lobby)} on the nodes that answered: some node did not answer in time; retry`,
          );
        }
        if (membership === 'absent')
          throw new RequestError('UNKNOWN_PEER', `no peer ${JSON.stringify(to)} in lobby ${JSON.stringify(lobby)}`);
        assertBroadcastable(context.cluster);
        nsp.to(to).emit('RTCSIGNAL', { ...rest, to, from: socket.id });
      });
    },
  };

  const joinFromHandshake = requestListener<LobbySocket>('JOIN', (socket, args) => join(socket, args[0]), context);
  const { recoveryWindow } = context;
  const departures = new DeferredDepartures();
  context.onClose(() => Promise.resolve(departures.clear()));

  function announceLeft(id: string, lobby: string): void {
    nsp.to(roomKey(lobby)).emit('LEFT', id);
    directory.trackMember(nsp.name, id, undefined);
  }
  // Shared by every socket (Socket.IO calls them with the socket as `this`): no closure per connection.
  // Runs before Socket.IO keeps the session, so that what it records is in the session (also in Redis).
  function recordDrop(this: LobbySocket, reason: string): void {
    if (this.data.lobby === undefined) return;
    this.data.droppedAt = Date.now();
    // A node that shuts down cannot wait out the window: its peers hear LEFT now, and JOINED if it comes back.
    if (reason === SHUTTING_DOWN) this.data.announcedLeft = true;
  }
  function announceLeave(this: LobbySocket, reason: string): void {
    const { lobby } = this.data;
    if (lobby === undefined) return;
    if (recoveryWindow === 0 || !mayRecover(reason) || this.data.announcedLeft === true) return announceLeft(this.id, lobby);
    // It may come back recovered, to this node or another, within the window: LEFT only if it has not.
    // (Still tracked meanwhile, so that if this node dies a surviving one says LEFT for it.)
    const { id } = this;
    departures.schedule(id, recoveryWindow + RECOVERY_GRACE_MS, () => {
      Promise.resolve(directory.isMember(nsp, roomKey(lobby), id))
        .then((membership) => {
          const back = membership === 'member';
          context.log.debug(
            { socketId: id, lobby, back },
            back ? 'dropped peer came back: no LEFT' : 'dropped peer did not come back: LEFT',
          );
          if (!back) announceLeft(id, lobby);
        })
        .catch((err: unknown) => {
          // Without an answer, LEFT: a peer that is back can JOIN again; a ghost would stay for ever.
          context.log.warn({ err, socketId: id, lobby }, 'could not look up a dropped peer: LEFT');
          announceLeft(id, lobby);
        });
    });
  }
  /**
   * A socket that recovered its session is back in its lobby (Socket.IO restored its rooms and data) and got
   * the JOINED and LEFT it missed. The peers who joined while it was away got PEERS without it: they alone are
   * told it JOINED. Its peers from before never heard it left, and hear nothing.
   */
  async function welcomeBack(socket: LobbySocket, lobby: string): Promise<void> {
    departures.cancel(socket.id);
    directory.trackMember(nsp.name, socket.id, lobby);
    const droppedAt = socket.data.droppedAt ?? 0;
    const toldLeft = socket.data.announcedLeft === true;
    socket.data.droppedAt = undefined;
    socket.data.announcedLeft = undefined;
    if (toldLeft) {
      socket.to(roomKey(lobby)).emit('JOINED', socket.id);
      return;
    }
    const { members } = await directory.members(nsp, roomKey(lobby));
    const newcomers = members
      .filter((member) => member.id !== socket.id && (member.data.joinedAt ?? 0) >= droppedAt)
      .map((member) => member.id);
    if (newcomers.length > 0) nsp.to(newcomers).emit('JOINED', socket.id);
  }
  // A node that dies cannot say LEFT for its lobby sockets: one of the others does it for it (cluster mode),
  // unless the socket has meanwhile recovered its session on another node.
  hooks.on('lostMembers', (members) => {
    for (const member of members) {
      if (member.namespace !== nsp.name) continue;
      void Promise.resolve(directory.isMember(nsp, roomKey(member.room), member.socketId))
        .catch((err: unknown) => {
          context.log.warn({ err, socketId: member.socketId }, 'could not look up a lost peer: LEFT');
          return 'absent' as const;
        })
        .then((membership) => {
          if (membership !== 'member') nsp.to(roomKey(member.room)).emit('LEFT', member.socketId);
        });
    }
  });

  serveRequests(nsp, handlers, context, (socket) => {
    socket.on('disconnect', announceLeave);
    if (recoveryWindow > 0) socket.on('disconnecting', recordDrop);
    const { lobby } = socket.data;
    if (socket.recovered && lobby !== undefined) {
      welcomeBack(socket, lobby).catch((err: unknown) =>
        context.log.warn({ err, socketId: socket.id }, 'could not welcome back a recovered peer'),
      );
      return;
    }
    const lobbyId = handshakeLobbyId(socket);
    if (lobbyId !== undefined) joinFromHandshake.call(socket, lobbyId);
  });
}

/** The `lobbyId` a client put in its handshake `auth` (preferred) or query string, if any. */
function handshakeLobbyId(socket: LobbySocket): unknown {
  const auth: unknown = socket.handshake.auth;
  if (typeof auth === 'object' && auth !== null && 'lobbyId' in auth) return auth.lobbyId;
  return socket.handshake.query.lobbyId;
}
