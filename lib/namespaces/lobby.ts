import type { Logger } from 'pino';
import {
  lobbyRequestSchemas,
  type LobbyClientToServerEvents,
  type LobbyServerToClientEvents,
  type ProtocolLimits,
  type RtcSignalRequest,
} from '../../protocol/index.js';
import { RequestError } from '../errors.js';
import { requestListener, requireArgs, type RequestHandler } from '../reply.js';
import { roomKey } from '../rooms.js';
import { compileValidator, idOrObjectPayload, parseWirePayload } from '../validate.js';
import { serveRequests, type ProtocolNamespace, type ProtocolSocket } from './serve.js';

/** Per-socket state on `/lobby`: the one lobby the socket is in, if any. */
export interface LobbySocketData {
  lobby?: string;
}

/** The server's typed `/lobby` namespace. */
export type LobbyNamespace = ProtocolNamespace<LobbyClientToServerEvents, LobbyServerToClientEvents, LobbySocketData>;
type LobbySocket = ProtocolSocket<LobbyClientToServerEvents, LobbyServerToClientEvents, LobbySocketData>;

/**
 * Mounts the `/lobby` protocol (JOIN, LEAVE, BROADCAST, RTCSIGNAL → JOINED, PEERS, LEFT, MESSAGE,
 * RTCSIGNAL) on `nsp`. A socket is in at most one lobby; peers are socket ids.
 */
export function mountLobby(nsp: LobbyNamespace, limits: ProtocolLimits, log: Logger): void {
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
    const peers = [...(nsp.adapter.rooms.get(key) ?? [])];
    socket.data.lobby = lobby;
    void socket.join(key);
    nsp.to(key).emit('JOINED', socket.id);
    socket.emit('PEERS', peers);
    return { lobby, peers };
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
      const key = roomKey(lobby);
      void socket.leave(key);
      socket.data.lobby = undefined;
      nsp.to(key).emit('LEFT', socket.id);
    },
    BROADCAST(socket, args) {
      requireArgs(args, 1);
      const { message } = validate.BROADCAST(parseWirePayload(args[0]));
      nsp.to(roomKey(requireLobby(socket))).emit('MESSAGE', { from: socket.id, message });
    },
    RTCSIGNAL(socket, args) {
      requireArgs(args, 1);
      const signal: RtcSignalRequest = validate.RTCSIGNAL(parseWirePayload(args[0]));
      const lobby = requireLobby(socket);
      const { to, from: _untrusted, ...rest } = signal;
      if (!nsp.adapter.rooms.get(roomKey(lobby))?.has(to)) {
        throw new RequestError('UNKNOWN_PEER', `no peer ${JSON.stringify(to)} in lobby ${JSON.stringify(lobby)}`);
      }
      nsp.to(to).emit('RTCSIGNAL', { ...rest, to, from: socket.id });
    },
  };

  const joinFromHandshake = requestListener<LobbySocket>('JOIN', (socket, args) => join(socket, args[0]), log);
  // Shared by every socket (Socket.IO calls it with the socket as `this`): no closure per connection.
  function announceLeave(this: LobbySocket): void {
    if (this.data.lobby !== undefined) nsp.to(roomKey(this.data.lobby)).emit('LEFT', this.id);
  }

  serveRequests(nsp, handlers, log, (socket) => {
    socket.on('disconnect', announceLeave);
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
