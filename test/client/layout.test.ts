import { expect } from 'chai';
import { connectBus, connectLayout, ProtocolError, TimeoutError, type ClientOptions, type LayoutClient } from '../../client/index.js';
import type { LayoutEvent } from '../../protocol/index.js';
import { dropAndReturn } from '../support/drop.js';
import { postBusMessage } from '../support/http.js';
import { closing, reconnected, rejection } from '../support/sdk.js';
import { startServer, type TestServer } from '../support/server.js';
import { next } from '../support/wait.js';

/** Each client its own manager, so that dropping one connection drops no other client's. */
const OWN: ClientOptions = { forceNew: true, transports: ['websocket'] };

async function layout(srv: TestServer, options: ClientOptions = {}): Promise<LayoutClient> {
  const client = closing(connectLayout(srv.url, { ...OWN, ...options }));
  await client.ready;
  return client;
}

describe('client SDK: connectLayout, connectBus', () => {
  it('joins, notifies the other members, and lists the room', async () => {
    const srv = await startServer();
    const tv = await layout(srv);
    const phone = await layout(srv);
    await tv.join('living-room', 'tv');
    await phone.join('living-room', 'phone');
    const got = next<LayoutEvent>(tv.socket, 'EVENT');
    let heard: unknown[] = [];
    tv.on('EVENT', (...args: unknown[]) => (heard = args));
    await phone.notify('living-room', { layout: 'split' });
    expect(await got).to.deep.equal({ sender: 'phone', room: 'living-room', message: { layout: 'split' } });
    // /layout recovers sessions: the SDK's listener gets the event without the trailing offset.
    expect(heard).to.deep.equal([{ sender: 'phone', room: 'living-room', message: { layout: 'split' } }]);
    expect(await tv.clients('living-room')).to.deep.equal(['tv', 'phone']);
    await phone.leave('living-room');
    expect(await tv.clients('living-room')).to.deep.equal(['tv']);
    expect(tv.id).to.equal(srv.serverSocket('/layout', tv.id).id);
  });

  it('rejects a refused request with a ProtocolError carrying the code and message', async () => {
    const srv = await startServer();
    const tv = await layout(srv);
    const err = await rejection(tv.join('', 'tv'));
    expect(err).to.be.instanceOf(ProtocolError);
    expect(err).to.include({ code: 'BAD_REQUEST', event: 'JOIN' });
    expect((err as ProtocolError).message).to.match(/room/);
    expect(await rejection(tv.notify('x'.repeat(257), 1))).to.include({ code: 'BAD_REQUEST', event: 'NOTIFY' });
  });

  it('rejects with a TimeoutError naming the request when no ack comes in time', async () => {
    const srv = await startServer();
    const tv = await layout(srv, { timeout: 100, reconnection: false });
    await srv.app.close();
    const err = await rejection(tv.join('living-room', 'tv'));
    expect(err).to.be.instanceOf(TimeoutError);
    expect(err).to.include({ code: 'TIMEOUT', event: 'JOIN', timeoutMs: 100 });
  });

  it('joins its rooms again, under its name, after the server restarted on the same port; listeners stay', async () => {
    const srv = await startServer();
    const port = Number(new URL(srv.url).port);
    const tv = await layout(srv, { reconnectionDelay: 10, reconnectionDelayMax: 50 });
    await tv.join('kitchen', 'tv');
    await tv.join('living-room', 'tv');
    const events: LayoutEvent[] = [];
    tv.on('EVENT', (event) => events.push(event));
    const back = reconnected(tv);
    await srv.app.close();
    const again = await startServer({ port });
    expect(await back).to.equal(false);
    const phone = await layout(again);
    expect(await phone.clients('living-room')).to.deep.equal(['tv']);
    expect(await phone.clients('kitchen')).to.deep.equal(['tv']);
    const got = next(tv.socket, 'EVENT');
    await phone.notify('kitchen', 'hi');
    await got;
    expect(events).to.deep.equal([{ sender: 'unknown', room: 'kitchen', message: 'hi' }]);
  });

  it('sends nothing again after a recovered reconnect: the server sees one JOIN', async () => {
    const srv = await startServer();
    let joins = 0;
    srv.app.hooks.on('join', () => (joins += 1), { namespace: '/layout' });
    const tv = await layout(srv, { reconnection: false });
    await tv.join('living-room', 'tv');
    const back = reconnected(tv);
    await dropAndReturn(srv, '/layout', tv.socket);
    expect(await back).to.equal(true);
    expect(await tv.clients('living-room')).to.deep.equal(['tv']);
    expect(joins).to.equal(1);
  });

  it('does not rejoin a room it left', async () => {
    const srv = await startServer({ recoveryWindow: 0 });
    const tv = await layout(srv, { reconnection: false });
    await tv.join('a', 'tv');
    await tv.join('b', 'tv');
    await tv.leave('a');
    const back = reconnected(tv);
    await dropAndReturn(srv, '/layout', tv.socket);
    expect(await back).to.equal(false);
    expect(srv.roomsOf('/layout', tv.id)).to.deep.equal(['room:b']);
  });

  it('connectBus receives what a backend POSTs to a room', async () => {
    const srv = await startServer();
    const board = closing(connectBus(srv.url, OWN));
    await board.ready;
    await board.join('match-42', 'board');
    const got = next<LayoutEvent>(board.socket, 'EVENT');
    await postBusMessage(srv, 'match-42', '{"score":[2,1]}');
    expect(await got).to.deep.equal({ sender: 'POST', room: 'match-42', message: { score: [2, 1] } });
  });
});
