import { io as ioV4, type ManagerOptions, type Socket, type SocketOptions } from 'socket.io-client';
import legacyIo, { type LegacyOptions, type LegacySocket } from 'socket.io-client-v2';
import type { Server, Socket as ServerSocket } from 'socket.io';
import { createApp, type App, type AppDependencies } from '../../lib/app.js';
import type { ServiceOptions } from '../../lib/config/options.js';
import { parseBoolean } from '../../lib/config/parse.js';
import { onTeardown } from './teardown.js';
import { next, withDeadline } from './wait.js';

/** Options of a socket.io-client v4 socket. */
export type ClientOptions = Partial<ManagerOptions & SocketOptions>;

/**
 * Called with a fresh client socket before it can connect: the place for listeners that must not miss
 * what the server sends right behind the CONNECT packet (a handshake `lobbyId` makes it send JOINED and
 * PEERS, or an ERROR, in the same tick as `connect`, before any listener added after the connect resolved).
 */
export type BeforeConnect<S> = (socket: S) => void;

/** The `connect_error` of a refused handshake: the middleware's message, and the service's `{ code }` as data. */
export interface ConnectError extends Error {
  readonly data?: { readonly code?: string; readonly message?: string };
}

/** A service started for one test, with clients that are closed when the test ends. */
export interface TestServer {
  readonly app: App;
  /** `http://127.0.0.1:<port>` (or https). */
  readonly url: string;
  /** Connects a socket.io-client v4 socket to namespace `ns` and waits for the connection. */
  connect(ns: string, options?: ClientOptions, before?: BeforeConnect<Socket>): Promise<Socket>;
  /** Connects a legacy socket.io-client 2.x socket (Engine.IO 3) to `ns` and waits for the connection. */
  connectLegacy(ns: string, options?: LegacyOptions, before?: BeforeConnect<LegacySocket>): Promise<LegacySocket>;
  /** Connects a v4 socket to `ns` expecting the handshake to be refused; resolves with the `connect_error`. */
  refused(ns: string, options?: ClientOptions): Promise<ConnectError>;
  /**
   * Resolves once the server has processed the disconnect of socket `id` on `ns` (a client's own
   * `disconnect` event fires before the server knows). Call it before disconnecting the client.
   */
  serverDisconnect(ns: string, id: string | undefined): Promise<void>;
  /** The server-side socket of client `id` on `ns`; throws if the server has none. */
  serverSocket(ns: string, id: string | undefined): ServerSocket;
  /** The rooms the server has socket `id` of `ns` in, its own id room left out. */
  roomsOf(ns: string, id: string | undefined): string[];
}

/**
 * Whether this run's servers have the patches of lib/engine/ on: `FAST_PATH=off npx mocha …` runs every test
 * on the libraries' own path (parsed as the CLI parses it; unset means on). CLI children get it too.
 */
export const FAST_PATH: boolean = process.env.FAST_PATH === undefined || parseBoolean(process.env.FAST_PATH, 'FAST_PATH');

/**
 * Options for tests that compare every argument a client receives, or the server's memory, and whose subject
 * is not recovery: with recovery on (the default) every event of a built-in namespace carries its recovery
 * offset as one more, last argument, new sessions get `_offset`, and the process keeps broadcasts for the
 * window (test/delivery/recovery.test.ts covers all of that, and its bound).
 */
export const WITHOUT_RECOVERY = { recoveryWindow: 0 } as const satisfies Partial<ServiceOptions>;

/**
 * Starts the service on 127.0.0.1, port 0, logging nothing, with the run's {@link FAST_PATH} unless `options`
 * says otherwise; it is closed after the current test.
 */
export async function startServer(options: Partial<ServiceOptions> = {}, deps: AppDependencies = {}): Promise<TestServer> {
  const app = await createApp({ port: 0, host: '127.0.0.1', logLevel: 'silent', fastPath: FAST_PATH, ...options }, deps);
  onTeardown(() => app.close());
  const { port } = await app.listen();
  const url = `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  const socketOf = (ns: string, id: string | undefined): ServerSocket => serverSocket(app.io, ns, id);
  return {
    app,
    url,
    connect: (ns, clientOptions, before) => connectV4(url + ns, clientOptions, before),
    connectLegacy: (ns, clientOptions, before) => connectV2(url + ns, clientOptions, before),
    refused: (ns, clientOptions) => refusedV4(url + ns, clientOptions),
    async serverDisconnect(ns, id) {
      const socket = socketOf(ns, id);
      await withDeadline(
        new Promise<void>((resolve) => socket.once('disconnect', () => resolve())),
        `server-side disconnect of ${String(id)}`,
      );
    },
    serverSocket: socketOf,
    roomsOf(ns, id) {
      const socket = socketOf(ns, id);
      return [...socket.rooms].filter((room) => room !== socket.id);
    },
  };
}

/** The server-side socket of client `id` on namespace `ns` of any Socket.IO server; throws if it has none. */
export function serverSocket(io: Server, ns: string, id: string | undefined): ServerSocket {
  const socket = id === undefined ? undefined : io.of(ns).sockets.get(id);
  if (!socket) throw new Error(`no socket ${String(id)} on ${ns} at the server`);
  return socket;
}

/** Connects a v4 client to a full namespace URL; a fresh manager per socket so tests never share one. */
export function connectV4(url: string, options: ClientOptions = {}, before?: BeforeConnect<Socket>): Promise<Socket> {
  const socket = ioV4(url, { forceNew: true, reconnection: false, ...options });
  onTeardown(() => socket.disconnect());
  before?.(socket);
  return withDeadline(
    new Promise<Socket>((resolve, reject) => {
      socket.once('connect', () => resolve(socket));
      socket.once('connect_error', (err) => reject(new Error(`cannot connect to ${url}: ${err.message}`)));
    }),
    `connect to ${url}`,
  );
}

/** Connects a legacy v2 client to a full namespace URL. */
export function connectV2(url: string, options: LegacyOptions = {}, before?: BeforeConnect<LegacySocket>): Promise<LegacySocket> {
  const socket = legacyIo(url, { forceNew: true, reconnection: false, ...options });
  onTeardown(() => socket.close());
  before?.(socket);
  return withDeadline(
    new Promise<LegacySocket>((resolve, reject) => {
      socket.on('connect', () => resolve(socket));
      socket.on('connect_error', (err: Error) => reject(new Error(`legacy client cannot connect to ${url}: ${err.message}`)));
      socket.on('error', (err: unknown) => reject(new Error(`legacy client error on ${url}: ${String(err)}`)));
    }),
    `legacy connect to ${url}`,
  );
}

/** Connects a v4 client to a full namespace URL expecting the handshake to be refused; resolves with the `connect_error`. */
export function refusedV4(url: string, options: ClientOptions = {}): Promise<ConnectError> {
  const socket = ioV4(url, { forceNew: true, reconnection: false, ...options });
  onTeardown(() => socket.disconnect());
  return next<ConnectError>(socket, 'connect_error');
}

/** The socket id of a connected v4 client (`socket.id` is undefined while it is not connected). */
export function idOf(socket: Socket): string {
  const { id } = socket;
  if (id === undefined) throw new Error('socket is not connected');
  return id;
}
