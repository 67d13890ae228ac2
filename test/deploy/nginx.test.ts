import { expect } from 'chai';
import { startCli } from '../support/cli.js';
import { requireNginx, startNginx } from '../support/nginx.js';
import { connectV2, connectV4 } from '../support/server.js';
import { ack, next, type EventSocket } from '../support/wait.js';

describe('behind nginx (docs/nginx.conf; real nodes)', function () {
  before(requireNginx);

  it('ip_hash keeps long-polling sessions on one node without cookies: v4 polling and upgrading, v2 polling and upgrading, and WebSocket clients share one room', async () => {
    // Two nodes in memory mode: CLIENTS lists only its own node's members, so a full list proves one node.
    const args = [...'-p 0 -H 127.0.0.1 --trust-proxy 127.0.0.1'.split(' ')];
    const nodes = await Promise.all([startCli(args), startCli(args)]);
    const nginx = await startNginx(nodes.map((node) => node.port));
    const layout = `${nginx.url}/layout`;

    // No withCredentials, and the v2 client has no cookie jar: source hashing needs none.
    const polling = await connectV4(layout, { transports: ['polling'] });
    const upgrading = await connectV4(layout);
    const engine = upgrading.io.engine;
    if (engine.transport.name !== 'websocket') await next(engine as unknown as EventSocket, 'upgrade');
    const websocket = await connectV4(layout, { transports: ['websocket'] });
    const legacy = await connectV2(layout);
    const members: [string, EventSocket][] = [
      ['polling', polling],
      ['upgrading', upgrading],
      ['websocket', websocket],
      ['legacy', legacy],
    ];
    for (const [name, socket] of members) expect(await ack(socket, 'JOIN', { room: 'r', name })).to.include({ ok: true });
    expect((await ack<{ clients: string[] }>(polling, 'CLIENTS', { room: 'r' })).clients).to.deep.equal(members.map(([name]) => name));
    expect(polling.io.engine.transport.name).to.equal('polling');
    expect(engine.transport.name).to.equal('websocket');

    const event = next(legacy, 'EVENT');
    await ack(polling, 'NOTIFY', { room: 'r', message: 'through nginx' });
    expect(await event).to.deep.equal({ sender: 'polling', room: 'r', message: 'through nginx' });
  });
});
