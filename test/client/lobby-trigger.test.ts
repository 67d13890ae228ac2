import { expect } from 'chai';
import { connectLobby, connectTrigger, ProtocolError, type ClientOptions, type LobbyClient } from '../../client/index.js';
import type { LobbyMessage, RtcSignal } from '../../protocol/index.js';
import { closing, reconnected, rejection } from '../support/sdk.js';
import { startServer, type TestServer } from '../support/server.js';
import { next } from '../support/wait.js';

const OWN: ClientOptions = { forceNew: true, transports: ['websocket'] };

/** A lobby client whose first PEERS is caught: it arrives before the JOIN's ack. */
async function peer(srv: TestServer, lobby: string, options: ClientOptions = {}): Promise<{ client: LobbyClient; peers: string[] }> {
  const client = closing(connectLobby(srv.url, lobby, { ...OWN, ...options }));
  const peers = new Promise<string[]>((resolve) => client.on('PEERS', resolve));
  await client.ready;
  return { client, peers: await peers };
}

describe('client SDK: connectLobby', () => {
  it('signals between two SDK peers: PEERS, JOINED, RTCSIGNAL with from, MESSAGE, LEFT', async () => {
    const srv = await startServer();
    const { client: alice, peers: alonePeers } = await peer(srv, 'call-7');
    expect(alonePeers).to.deep.equal([]);
    const joined = next<string>(alice.socket, 'JOINED');
    const { client: bob, peers } = await peer(srv, 'call-7');
    expect(peers).to.deep.equal([alice.id]);
    expect(await joined).to.equal(bob.id);

    const offer = next<RtcSignal>(alice.socket, 'RTCSIGNAL');
    await bob.signal(alice.id ?? '', { sdp: 'offer' });
    expect(await offer).to.deep.equal({ sdp: 'offer', to: alice.id, from: bob.id });

    const heard = next<LobbyMessage>(bob.socket, 'MESSAGE');
    await alice.broadcast('hello');
    expect(await heard).to.deep.equal({ from: alice.id, message: 'hello' });

    const left = next<string>(alice.socket, 'LEFT');
    await bob.leave();
    expect(await left).to.equal(bob.id);
    expect(await rejection(bob.broadcast('anyone?'))).to.include({ code: 'NOT_IN_LOBBY', event: 'BROADCAST' });
    expect(await rejection(alice.signal(bob.id ?? '', { sdp: 'x' }))).to.include({ code: 'UNKNOWN_PEER', event: 'RTCSIGNAL' });
  });

  it('rejects ready with a ProtocolError when the JOIN is refused', async () => {
    const srv = await startServer();
    const client = closing(connectLobby(srv.url, '', OWN));
    const err = await rejection(client.ready);
    expect(err).to.be.instanceOf(ProtocolError);
    expect(err).to.include({ code: 'BAD_REQUEST', event: 'JOIN' });
  });

  it('joins its lobby again after the server restarted', async () => {
    const srv = await startServer();
    const port = Number(new URL(srv.url).port);
    const { client: alice } = await peer(srv, 'call-8', { reconnectionDelay: 10, reconnectionDelayMax: 50 });
    const back = reconnected(alice);
    await srv.app.close();
    const again = await startServer({ port });
    expect(await back).to.equal(false);
    const { peers } = await peer(again, 'call-8');
    expect(peers).to.deep.equal([alice.id]);
  });
});

describe('client SDK: connectTrigger', () => {
  it('relays broadcasts to the other members of a room, and rejoins after a restart', async () => {
    const srv = await startServer();
    const port = Number(new URL(srv.url).port);
    const player = closing(connectTrigger(srv.url, { ...OWN, reconnectionDelay: 10, reconnectionDelayMax: 50 }));
    const timeline = closing(connectTrigger(srv.url, OWN));
    await Promise.all([player.ready, timeline.ready]);
    await player.join('tl-1');
    const events = next(player.socket, 'EVENTS');
    await timeline.broadcast('EVENTS', 'tl-1', { at: 12.5 });
    expect(await events).to.deep.equal({ at: 12.5 });
    expect(await rejection(timeline.join(''))).to.include({ code: 'BAD_REQUEST', event: 'JOIN' });

    const back = reconnected(player);
    await srv.app.close();
    const again = await startServer({ port });
    expect(await back).to.equal(false);
    const status = closing(connectTrigger(again.url, OWN));
    await status.ready;
    const got = next(player.socket, 'STATUS');
    await status.broadcast('STATUS', 'tl-1', 'playing');
    expect(await got).to.equal('playing');
  });
});
