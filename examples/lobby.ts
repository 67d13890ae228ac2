import { io, type Socket } from 'socket.io-client';
import type { LobbyClientToServerEvents, LobbyServerToClientEvents } from 'realtime-rooms/protocol';

type LobbySocket = Socket<LobbyServerToClientEvents, LobbyClientToServerEvents>;
/** An offer or an answer: in a browser, what RTCPeerConnection's createOffer() and createAnswer() make. */
interface Description {
  type: 'offer' | 'answer';
  sdp: string;
}
/** Sends a description to one peer of the lobby (`to`: its socket id). */
type Send = (to: string, description: Description) => Promise<void>;

const url = process.env.REALTIME_URL ?? 'http://localhost:3000';

/** The newcomer offers a connection to each peer already in the lobby. */
async function callPeers(me: string, peers: string[], send: Send): Promise<void> {
  for (const peer of peers) await send(peer, { type: 'offer', sdp: `${me}'s offer` });
}

/** An offer is answered; an answer completes the connection. */
async function onDescription(me: string, from: string, description: Description, send: Send): Promise<void> {
  console.log(`${me} received ${description.type}: ${description.sdp}`);
  if (description.type === 'offer') await send(from, { type: 'answer', sdp: `${me}'s answer` });
}

/** One peer, as each browser runs it: joins lobby `lobbyId` and signals through it. */
function joinLobby(me: string, lobbyId: string): LobbySocket {
  const lobby: LobbySocket = io(`${url}/lobby`, { auth: { lobbyId } }); // joins on connect, and on every reconnect
  const send: Send = async (to, description) => {
    const sent = await lobby.emitWithAck('RTCSIGNAL', { to, ...description }); // to that peer alone
    if (!sent.ok) console.log(`${me} cannot signal ${to}: ${sent.error.code}`); // UNKNOWN_PEER: not in this lobby
  };
  lobby.on('JOINED', (peer) => {
    if (peer !== lobby.id) console.log(`${me}: a peer joined`); // everyone gets JOINED, the newcomer its own too
  });
  lobby.on('PEERS', (peers) => void callPeers(me, peers, send)); // to the newcomer: the others
  lobby.on('RTCSIGNAL', ({ from, type, sdp }) => {
    // `from` is set by the server; the rest is what the peer sent, to be checked
    if ((type === 'offer' || type === 'answer') && typeof sdp === 'string') void onDescription(me, from, { type, sdp }, send);
  });
  lobby.on('MESSAGE', ({ message }) => console.log(`${me} received MESSAGE:`, message));
  lobby.on('LEFT', () => console.log(`${me}: a peer left`));
  return lobby;
}

// Two peers of call-7, in one process here: in an application, each one is a browser.
const alice = joinLobby('alice', 'call-7');
await new Promise((resolve) => alice.once('PEERS', resolve)); // alice is in, alone
const bob = joinLobby('bob', 'call-7'); // bob offers to alice, alice answers
await new Promise((resolve) => bob.once('RTCSIGNAL', resolve)); // the answer
await bob.emitWithAck('BROADCAST', { message: 'hello everyone' }); // MESSAGE { from, message } to all, bob included
bob.close();
await new Promise((resolve) => alice.once('LEFT', resolve));
alice.close();
