import { hostname } from 'node:os';
import { expect } from 'chai';
import { Manager, type Socket } from 'socket.io-client';
import { hashSecret, resolveSecret } from '../../lib/config/secrets.js';
import type { ServiceOptions } from '../../lib/config/options.js';
import { request } from '../support/http.js';
import { scrape, type Sample } from '../support/metrics.js';
import { idOf, startServer, WITHOUT_RECOVERY, type TestServer } from '../support/server.js';
import { onTeardown } from '../support/teardown.js';
import { ack, next, withDeadline } from '../support/wait.js';

const PASSWORD = 'let-me-see';
const LOGIN = { username: 'admin', password: PASSWORD };

/** The `server_stats` admin-ui broadcasts every 2 s. */
interface ServerStats {
  readonly serverId: string;
  readonly namespaces: readonly { readonly name: string; readonly socketsCount: number }[];
}

/** A socket of admin-ui's `all_sockets` list. */
interface AdminSocket {
  readonly id: string;
  readonly nsp: string;
  readonly rooms: readonly string[];
}

function adminServer(options: Partial<ServiceOptions> = {}): Promise<TestServer> {
  return startServer({ ...WITHOUT_RECOVERY, adminPassword: resolveSecret(PASSWORD, {}), ...options });
}

/** An admin socket and a `/layout` socket on one connection: the server reads their packets in order. */
async function sharedConnection(server: TestServer): Promise<{ admin: Socket; layout: Socket }> {
  const manager = new Manager(server.url, { reconnection: false, transports: ['websocket'] });
  const admin = manager.socket('/admin', { auth: LOGIN });
  const layout = manager.socket('/layout');
  onTeardown(() => {
    admin.disconnect();
    layout.disconnect();
  });
  await Promise.all([next(admin, 'connect'), next(layout, 'connect')]);
  return { admin, layout };
}

describe('admin namespace', () => {
  it('does not exist without ADMIN_PASSWORD: the namespace is refused and GET /admin is a 404', async () => {
    const server = await startServer();
    const err = await server.refused('/admin', { auth: LOGIN });
    expect(err.message).to.equal('Invalid namespace');
    expect((await request(`${server.url}/admin`)).status).to.equal(404);
    expect((await request(`${server.url}/admin/`)).status).to.equal(404);
  });

  it('refuses a wrong password or user name with UNAUTHORIZED, and rate limits guessing', async () => {
    const server = await adminServer({ maxAuthFailures: 3 });
    for (const auth of [{ ...LOGIN, password: 'wrong' }, { ...LOGIN, username: 'root' }, {}]) {
      const err = await server.refused('/admin', { auth });
      expect(err.message).to.match(/wrong username or password|credentials are required/);
      expect(err.data?.code).to.equal('UNAUTHORIZED');
    }
    const limited = await server.refused('/admin', { auth: LOGIN });
    expect(limited.data?.code).to.equal('RATE_LIMITED');
  });

  it('takes a scrypt hash and another user name, and sends server_stats of its node without the socket list', async () => {
    const server = await adminServer({ adminPassword: resolveSecret(await hashSecret(PASSWORD), {}), adminUsername: 'ops' });
    await server.connect('/layout');
    const admin = await server.connect('/admin', { auth: { ...LOGIN, username: 'ops' } }, (socket) => {
      socket.on('all_sockets', () => expect.fail('production mode sends no socket list'));
    });
    const stats = await next<ServerStats>(admin, 'server_stats');
    expect(stats.serverId).to.equal(`${hostname()}#${process.pid}`);
    expect(stats.namespaces).to.deep.include({ name: '/layout', socketsCount: 1 });
  });

  it('lists every socket with its rooms in development mode', async () => {
    const server = await adminServer({ adminMode: 'development' });
    const layout = await server.connect('/layout');
    expect(await ack(layout, 'JOIN', { room: 'stage', name: 'tv' })).to.deep.equal({ ok: true });
    let listed: Promise<AdminSocket[]> | undefined;
    let config: Promise<{ supportedFeatures: string[] }> | undefined;
    // Before the connect: admin-ui sends both right behind the CONNECT packet.
    await server.connect('/admin', { auth: LOGIN }, (socket) => {
      listed = next<AdminSocket[]>(socket, 'all_sockets');
      config = next(socket, 'config');
    });
    expect((await config)?.supportedFeatures)
      .to.include('ALL_EVENTS')
      .and.not.include('DISCONNECT');
    const sockets = (await listed) ?? [];
    const entry = sockets.find((socket) => socket.id === idOf(layout));
    expect(entry?.nsp).to.equal('/layout');
    expect(entry?.rooms).to.include('room:stage');
  });

  it('counts admin sockets under namespace="other" in the metrics: the admin namespace adds no series', async () => {
    const server = await adminServer();
    const connections = async (): Promise<Sample[]> =>
      (await scrape(server)).filter((sample) => sample.name === 'realtime_rooms_connections');
    const before = await connections();
    const { admin } = await sharedConnection(server);
    expect(admin.connected).to.equal(true);
    const after = await connections();
    // `other` has its series from its first socket on; the configured namespaces keep theirs, and no /admin appears.
    const named = (samples: Sample[]): (string | undefined)[] =>
      samples.map((sample) => sample.labels.namespace).filter((namespace) => namespace !== 'other');
    expect(named(after)).to.deep.equal(named(before));
    const other = (samples: Sample[]): number => samples.find((sample) => sample.labels.namespace === 'other')?.value ?? 0;
    expect(other(after) - other(before)).to.equal(1);
  });

  it('is read-only by default: _disconnect and leave do nothing', async () => {
    const server = await adminServer();
    const { admin, layout } = await sharedConnection(server);
    expect(await ack(layout, 'JOIN', { room: 'stage', name: 'tv' })).to.deep.equal({ ok: true });
    admin.emit('leave', '/layout', 'room:stage');
    admin.emit('_disconnect', '/layout', false);
    // Read after the two events on the same connection: had they acted, the socket would be gone or out of the room.
    expect(await ack(layout, 'JOIN', { room: 'second', name: 'tv' })).to.deep.equal({ ok: true });
    expect(server.roomsOf('/layout', idOf(layout)).sort()).to.deep.equal(['room:second', 'room:stage']);
  });

  it('acts on sockets with --admin-writable', async () => {
    const server = await adminServer({ adminWritable: true });
    const { admin, layout } = await sharedConnection(server);
    expect(await ack(layout, 'JOIN', { room: 'stage', name: 'tv' })).to.deep.equal({ ok: true });
    const gone = withDeadline(new Promise<string>((resolve) => layout.once('disconnect', resolve)), 'disconnect of the layout socket');
    admin.emit('_disconnect', '/layout', false);
    expect(await gone).to.equal('io server disconnect');
  });
});
