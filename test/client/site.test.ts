import { expect } from 'chai';
import { SignJWT } from 'jose';
import { connectSite, ProtocolError, type SiteOptions } from '../../client/index.js';
import { parseSitesFile } from '../../lib/config/sites-file.js';
import { tokenBackend } from '../support/backend.js';
import { dropConnection } from '../support/drop.js';
import { postSend } from '../support/http.js';
import { closing, rejection } from '../support/sdk.js';
import { idOf, startServer, type TestServer } from '../support/server.js';
import { barrier, next, recordAll, withDeadline } from '../support/wait.js';

const KEY = 'shop-key';
const OWN: SiteOptions = { forceNew: true, transports: ['websocket'], reconnection: false };

/** update_store with whatever arrives, to see every argument a handler is given. */
interface AnyArgs {
  update_store: (...args: unknown[]) => void;
}

interface ShopEvents {
  update_store: (entityType: string, entity: { id: number }) => void;
}

async function shopServer(deviceQueue?: number, site: Record<string, unknown> = {}): Promise<TestServer> {
  const backend = await tokenBackend({ 'alice-token': ['user_alice', 'staff'] });
  const shop = { auth: { mode: 'token-url', url: `${backend.url}/rooms` }, apiKey: KEY, userRoomPrefix: 'user_', ...site };
  return startServer({ access: parseSitesFile({ sites: { shop } }, 'test', {}), ...(deviceQueue ? { deviceQueue } : {}) });
}

function push(srv: TestServer, id: number): Promise<unknown> {
  return pushArgs(srv, ['user_alice'], ['product', { id }]);
}

function pushArgs(srv: TestServer, rooms: string[], args: unknown[]): Promise<unknown> {
  return postSend(srv, 'site=shop', { rooms, event: 'update_store', args }, { authorization: `Bearer ${KEY}` });
}

/** Cuts the connection and waits until the server has let go of it. */
async function away(srv: TestServer, socket: ReturnType<typeof connectSite>['socket']): Promise<void> {
  const gone = srv.serverDisconnect('/shop', idOf(socket));
  dropConnection(socket);
  await gone;
}

describe('client SDK: connectSite', () => {
  it('acks once the handler finished, unpacks _batch in order under one ack, and drops repeats by id', async () => {
    const srv = await shopServer();
    const shop = closing(connectSite<ShopEvents>(srv.url, 'shop', { ...OWN, token: 'alice-token', deviceId: 'phone-1' }));
    const applied: number[] = [];
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    const first = new Promise<void>((resolve) => {
      shop.on('update_store', async (entityType, entity) => {
        expect(entityType).to.equal('product');
        applied.push(entity.id);
        resolve();
        if (entity.id === 1) await held; // the ack of 1 waits for this, and is lost with the connection
      });
    });
    await shop.ready;
    expect(shop.deviceTtl).to.equal(86400);
    await push(srv, 1);
    await first;
    await away(srv, shop.socket);
    release();
    await push(srv, 2);
    await push(srv, 3);
    const batch = next<[string, string, { id: number }][]>(shop.socket, '_batch');
    shop.socket.connect();
    expect((await batch).map(([, , entity]) => entity.id)).to.deep.equal([1, 2, 3]);
    await barrier(shop.socket);
    // 1 came again in the _batch (never acked), and was dropped as a repeat; 2 and 3 in push order.
    expect(applied).to.deep.equal([1, 2, 3]);
    // The batch was acked: the next connect has nothing pending.
    await away(srv, shop.socket);
    const heard = recordAll(shop.socket);
    const back = next(shop.socket, 'connect');
    shop.socket.connect();
    await back;
    await barrier(shop.socket);
    expect(heard.heard.map(([event]) => event)).to.deep.equal(['_settings']);
  });

  it('calls onResync listeners when the queue was cleared, and rejects ready on a refused handshake', async () => {
    const srv = await shopServer(2);
    const shop = closing(connectSite<ShopEvents>(srv.url, 'shop', { ...OWN, token: 'alice-token', deviceId: 'tab-1' }));
    await shop.ready;
    await away(srv, shop.socket);
    for (const id of [1, 2, 3]) await push(srv, id);
    const resynced = new Promise<void>((resolve) => shop.onResync(resolve));
    shop.socket.connect();
    await resynced;

    const refused = closing(connectSite(srv.url, 'shop', { ...OWN, token: 'nobody' }));
    const err = await rejection(refused.ready);
    expect(err).to.be.instanceOf(ProtocolError);
    expect(err).to.include({ code: 'UNAUTHORIZED', event: 'connect' });
  });

  it('refreshToken sends AUTH on a jwt site, resolves with expiresAt, rejects with UNAUTHORIZED, and reconnects with the new token', async () => {
    const secret = new TextEncoder().encode('a-hmac-secret-of-at-least-32-bytes!!');
    const sign = (claims: Record<string, unknown>): Promise<string> =>
      new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).sign(secret);
    const auth = { mode: 'jwt', algorithms: ['HS256'], secret: 'a-hmac-secret-of-at-least-32-bytes!!' };
    const srv = await startServer({ access: parseSitesFile({ sites: { app: { auth, apiKey: KEY } } }, 'test', {}) });
    const app = closing(connectSite(srv.url, 'app', { ...OWN, token: await sign({ sub: 'u1', rooms: ['a'] }) }));
    await app.ready;
    const fresh = await sign({ sub: 'u1', rooms: ['b'] });
    expect(await app.refreshToken(fresh)).to.deep.equal({ expiresAt: null });
    expect(srv.roomsOf('/app', app.id)).to.deep.equal(['room:b']);
    const err = await rejection(app.refreshToken(await sign({ sub: 'someone-else' })));
    expect(err).to.be.instanceOf(ProtocolError);
    expect(err).to.include({ code: 'UNAUTHORIZED', event: 'AUTH' });

    const gone = srv.serverDisconnect('/app', app.id);
    dropConnection(app.socket);
    await gone;
    const back = next(app.socket, 'connect');
    app.socket.connect();
    await back;
    expect(srv.serverSocket('/app', app.id).handshake.auth).to.include({ token: fresh });
  });

  it('hands handlers exactly the pushed arguments on a site with recovery: true, without the trailing offset', async () => {
    const srv = await shopServer(undefined, { recovery: true });
    // Without a deviceId a push is a plain broadcast, which carries the offset; with one, reliable, with an ack.
    const plain = closing(connectSite<AnyArgs>(srv.url, 'shop', { ...OWN, token: 'alice-token' }));
    const device = closing(connectSite<AnyArgs>(srv.url, 'shop', { ...OWN, token: 'alice-token', deviceId: 'phone-1' }));
    const received = (client: typeof plain): Promise<unknown[]> =>
      withDeadline(
        new Promise((resolve) => client.on('update_store', (...args: unknown[]) => resolve(args))),
        'update_store at the SDK handler',
      );
    const plainGot = received(plain);
    const deviceGot = received(device);
    await Promise.all([plain.ready, device.ready]);
    expect(plain.socket.recovered, 'recovery is on: the server sent a session id').to.equal(false);
    await pushArgs(srv, ['user_alice'], ['product', 'ends with a string']);
    expect(await plainGot).to.deep.equal(['product', 'ends with a string']);
    expect(await deviceGot).to.deep.equal(['product', 'ends with a string']);
  });
});
