import { connectLobby, type LobbyClient } from 'realtime-rooms/client';

const url = process.env.REALTIME_URL ?? 'http://localhost:3000';
const signals: Promise<void>[] = []; // each resolves on its ack, rejects with a ProtocolError (UNKNOWN_PEER, …)

/** One peer, as each browser runs it: a member offers to each newcomer (JOINED), the newcomer answers. */
function joinLobby(me: string, lobbyId: string): LobbyClient {
  const lobby = connectLobby(url, lobbyId); // joined on connect, and again after a reconnect that was not recovered
  lobby.on('JOINED', (peer) => {
    if (peer !== lobby.id) signals.push(lobby.signal(peer, { type: 'offer', sdp: `${me}'s offer` })); // to that peer alone
  });
  lobby.on('RTCSIGNAL', ({ from, type, sdp }) => {
    // `from` is set by the server; the rest is what the peer sent, to be checked
    if (typeof sdp === 'string') console.log(`${me} received ${String(type)}: ${sdp}`);
    if (type === 'offer') signals.push(lobby.signal(from, { type: 'answer', sdp: `${me}'s answer` }));
  });
  return lobby;
}

// Two peers of call-7, in one process here: in an application, each one is a browser.
const alice = joinLobby('alice', 'call-7');
await alice.ready; // in the lobby, alone
const answered = new Promise<void>((resolve) => alice.on('RTCSIGNAL', ({ type }) => type === 'answer' && resolve()));
const bob = joinLobby('bob', 'call-7'); // alice hears JOINED and offers; bob answers
await bob.ready;
await answered;
await Promise.all(signals);
bob.close();
alice.close();
