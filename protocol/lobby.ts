/**
 * `/lobby`: peer lobbies for WebRTC signalling. Peers are identified by their Socket.IO socket id and
 * a socket is in at most one lobby at a time.
 */
import Type, { type Static } from 'typebox';
import {
  DEFAULT_LIMITS,
  eventNames,
  Identifier,
  PeerId,
  type AckCallback,
  type ErrorEvent,
  type ProtocolLimits,
  type Wire,
} from './common.js';

/** Builds the client-to-server request schemas for the given limits. */
export function lobbyRequestSchemas(limits: ProtocolLimits = DEFAULT_LIMITS) {
  const lobby = Identifier(limits);
  return {
    /** JOIN and LEAVE take a bare lobby id or `{ lobby }`; both normalise to this object. */
    LOBBY: Type.Object({ lobby }),
    BROADCAST: Type.Object({ message: Type.Unknown() }),
    RTCSIGNAL: Type.Object({ to: PeerId }, { additionalProperties: true }),
  };
}

/** The request schemas with the default limits. */
export const LobbyRequestSchemas = lobbyRequestSchemas();

/** `{ lobby }`: the object form of JOIN and LEAVE (a bare lobby id string is accepted too). */
export type LobbyRef = Static<typeof LobbyRequestSchemas.LOBBY>;
/** `BROADCAST {message}`: `message` is any JSON value. */
export type LobbyBroadcast = Static<typeof LobbyRequestSchemas.BROADCAST>;
/** `RTCSIGNAL {to, ...rest}`: `rest` (SDP, ICE candidates, …) is relayed untouched. */
export type RtcSignalRequest = { to: string } & Record<string, unknown>;

/** Server-to-client event schemas. */
export const LobbyEventSchemas = {
  JOINED: Type.String(),
  LEFT: Type.String(),
  PEERS: Type.Array(Type.String()),
  MESSAGE: Type.Object({ from: Type.String(), message: Type.Unknown() }),
  RTCSIGNAL: Type.Object({ to: Type.String(), from: Type.String() }, { additionalProperties: true }),
  JOIN_RESULT: Type.Object({ lobby: Type.String(), peers: Type.Array(Type.String()), partial: Type.Optional(Type.Literal(true)) }),
};

/** `MESSAGE {from, message}`: a BROADCAST in the lobby, the sender's own included. */
export type LobbyMessage = Static<typeof LobbyEventSchemas.MESSAGE>;
/** `RTCSIGNAL {...rest, to, from}`: `from` is always set by the server. */
export type RtcSignal = { to: string; from: string } & Record<string, unknown>;
/**
 * The JOIN ack's result: the lobby joined and the ids of the other members (as in PEERS). `partial: true`
 * (absent otherwise) when some node of a cluster did not answer in time: `peers` (and PEERS) lack the
 * members on that node, who are still sent the newcomer's JOINED.
 */
export type LobbyJoinResult = Static<typeof LobbyEventSchemas.JOIN_RESULT>;

/** Events a `/lobby` client may emit. */
export interface LobbyClientToServerEvents {
  JOIN: (request: Wire<LobbyRef>, ack: AckCallback<LobbyJoinResult>) => void;
  LEAVE: (request: Wire<LobbyRef>, ack: AckCallback) => void;
  BROADCAST: (request: Wire<LobbyBroadcast>, ack: AckCallback) => void;
  RTCSIGNAL: (request: Wire<RtcSignalRequest>, ack: AckCallback) => void;
}

/** Events a `/lobby` client receives. */
export interface LobbyServerToClientEvents {
  /** A socket id that joined the lobby (the newcomer receives its own). */
  JOINED: (peerId: string) => void;
  /** To the newcomer alone, after JOINED: the ids of the other members (see {@link LobbyJoinResult} `partial`). */
  PEERS: (peerIds: string[]) => void;
  /** A socket id that left or disconnected. */
  LEFT: (peerId: string) => void;
  MESSAGE: (message: LobbyMessage) => void;
  RTCSIGNAL: (signal: RtcSignal) => void;
  ERROR: (event: ErrorEvent) => void;
}

/** The event names of `/lobby` in each direction, as values (the maps above are types only). */
export const LobbyEvents = {
  clientToServer: eventNames<LobbyClientToServerEvents>()(['JOIN', 'LEAVE', 'BROADCAST', 'RTCSIGNAL']),
  serverToClient: eventNames<LobbyServerToClientEvents>()(['JOINED', 'PEERS', 'LEFT', 'MESSAGE', 'RTCSIGNAL', 'ERROR']),
} as const;

/** Handshake fields a `/lobby` client may set (in `query` or `auth`) to join a lobby on connect. */
export interface LobbyHandshake {
  lobbyId?: string;
}
