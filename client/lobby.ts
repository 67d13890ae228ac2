import type { LobbyServerToClientEvents } from '../protocol/lobby.js';
import type { ConnectionEvents } from './connection.js';
import { ConnectedClient, type NamespaceClient } from './namespace-client.js';
import type { ClientOptions } from './options.js';

/** What a `/lobby` client listens to: `PEERS`, `JOINED`, `LEFT`, `MESSAGE`, `RTCSIGNAL`, `ERROR`, and the connection's own. */
export type LobbyClientEvents = LobbyServerToClientEvents & ConnectionEvents;

/**
 * A member of one `/lobby` lobby, for WebRTC signalling. It joins on connect, and again after a reconnect the
 * service did not recover (with a new `id`: its peers hear `LEFT` for the old one and `JOINED` for the new).
 */
export interface LobbyClient extends NamespaceClient<LobbyClientEvents> {
  /** Resolves once connected and in the lobby; rejects with a `ProtocolError` if the JOIN is refused. */
  readonly ready: Promise<void>;
  /** This peer's id (its socket id) while connected: what the others address `signal` to. */
  readonly id: string | undefined;
  /** The lobby this client is for. */
  readonly lobby: string;
  /** Sends `message` (any JSON value) to every member, this one included, as `MESSAGE { from, message }`. */
  broadcast(message: unknown): Promise<void>;
  /** Sends `payload` (an offer, an answer, an ICE candidate, …) to peer `peerId` alone, as `RTCSIGNAL { ...payload, to, from }`. */
  signal(peerId: string, payload: Readonly<Record<string, unknown>>): Promise<void>;
  /** Leaves the lobby (the others hear `LEFT`); it is not joined again. */
  leave(): Promise<void>;
  /** Disconnects for good (the others hear `LEFT` at once). */
  close(): void;
}

class LobbyMember extends ConnectedClient<LobbyClientEvents> implements LobbyClient {
  private member = true;

  constructor(
    url: string,
    readonly lobby: string,
    options: ClientOptions,
  ) {
    super(url, options);
  }

  // JOIN rather than the handshake's lobbyId: its ack is what `ready` waits for, and a refusal rejects it.
  protected override async onFirstConnect(): Promise<void> {
    await this.onReconnect();
  }

  protected async onReconnect(): Promise<void> {
    if (this.member) await this.connection.request('JOIN', { lobby: this.lobby });
  }

  async broadcast(message: unknown): Promise<void> {
    await this.connection.request('BROADCAST', { message });
  }

  async signal(peerId: string, payload: Readonly<Record<string, unknown>>): Promise<void> {
    await this.connection.request('RTCSIGNAL', { ...payload, to: peerId });
  }

  async leave(): Promise<void> {
    this.member = false;
    await this.connection.request('LEAVE', { lobby: this.lobby });
  }
}

/**
 * Connects to `/lobby` at `url` and joins lobby `lobbyId`. Add listeners before awaiting `ready`: `JOINED`
 * (its own id) and `PEERS` (the others) arrive before the JOIN's ack.
 *
 * @example
 * ```ts
 * const alice = connectLobby('http://localhost:3000', 'call-7');
 * alice.on('RTCSIGNAL', ({ from, sdp }) => answer(from, sdp));
 * alice.on('PEERS', (peers) => peers.forEach((peer) => alice.signal(peer, { sdp: offer })));
 * await alice.ready;
 * ```
 */
export function connectLobby(url: string, lobbyId: string, options: ClientOptions = {}): LobbyClient {
  return new LobbyMember(`${url}/lobby`, lobbyId, options);
}
