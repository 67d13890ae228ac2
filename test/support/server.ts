import { io as ioV4, type ManagerOptions, type Socket, type SocketOptions } from 'socket.io-client';
import legacyIo, { type LegacyOptions, type LegacySocket } from 'socket.io-client-v2';
import { createApp, type App } from '../../lib/app.js';
import type { ServiceOptions } from '../../lib/config/options.js';
import { parseBoolean } from '../../lib/config/parse.js';
import { onTeardown } from './teardown.js';
import { withDeadline } from './wait.js';

/** A service started for one test, with clients that are closed when the test ends. */
export interface TestServer {
  readonly app: App;
  /** `http://127.0.0.1:<port>` (or https). */
  readonly url: string;
  /** Connects a socket.io-client v4 socket to namespace `ns` and waits for the connection. */
  connect(ns: string, options?: Partial<ManagerOptions & SocketOptions>): Promise<Socket>;
  /** Connects a legacy socket.io-client 2.x socket (Engine.IO 3) to `ns` and waits for the connection. */
  connectLegacy(ns: string, options?: LegacyOptions): Promise<LegacySocket>;
  /**
   * Resolves once the server has processed the disconnect of socket `id` on `ns` (a client's own
   * `disconnect` event fires before the server knows). Call it before disconnecting the client.
   */
  serverDisconnect(ns: string, id: string | undefined): Promise<void>;
}

/**
 * Whether this run's servers have the patches of lib/engine/ on: `FAST_PATH=off npx mocha …` runs every test
 * on the libraries' own path (parsed as the CLI parses it; unset means on). CLI children get it too.
 */
export const FAST_PATH: boolean = process.env.FAST_PATH === undefined || parseBoolean(process.env.FAST_PATH, 'FAST_PATH');

/**
 * Starts the service on 127.0.0.1, port 0, logging nothing, with the run's {@link FAST_PATH} unless `options`
 * says otherwise; it is closed after the current test.
 */
export async function startServer(options: Partial<ServiceOptions> = {}): Promise<TestServer> {
  const app = await createApp({ port: 0, host: '127.0.0.1', logLevel: 'silent', fastPath: FAST_PATH, ...options });
  onTeardown(() => app.close());
  const { port } = await app.listen();
  const url = `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  return {
    app,
    url,
    connect: (ns, clientOptions) => connectV4(url + ns, clientOptions),
    connectLegacy: (ns, clientOptions) => connectV2(url + ns, clientOptions),
    serverDisconnect(ns, id) {
      const socket = id === undefined ? undefined : app.io.of(ns).sockets.get(id);
      if (!socket) return Promise.reject(new Error(`no socket ${String(id)} on ${ns} at the server`));
      return withDeadline(new Promise<void>((resolve) => socket.once('disconnect', () => resolve())), `server-side disconnect of ${id}`);
    },
  };
}

/** Connects a v4 client to a full namespace URL; a fresh manager per socket so tests never share one. */
export function connectV4(url: string, options: Partial<ManagerOptions & SocketOptions> = {}): Promise<Socket> {
  const socket = ioV4(url, { forceNew: true, reconnection: false, ...options });
  onTeardown(() => socket.disconnect());
  return withDeadline(
    new Promise<Socket>((resolve, reject) => {
      socket.once('connect', () => resolve(socket));
      socket.once('connect_error', (err) => reject(new Error(`cannot connect to ${url}: ${err.message}`)));
    }),
    `connect to ${url}`,
  );
}

/** Connects a legacy v2 client to a full namespace URL. */
export function connectV2(url: string, options: LegacyOptions = {}): Promise<LegacySocket> {
  const socket = legacyIo(url, { forceNew: true, reconnection: false, ...options });
  onTeardown(() => socket.close());
  return withDeadline(
    new Promise<LegacySocket>((resolve, reject) => {
      socket.on('connect', () => resolve(socket));
      socket.on('connect_error', (err: Error) => reject(new Error(`legacy client cannot connect to ${url}: ${err.message}`)));
      socket.on('error', (err: unknown) => reject(new Error(`legacy client error on ${url}: ${String(err)}`)));
    }),
    `legacy connect to ${url}`,
  );
}
