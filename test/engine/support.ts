import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo, Socket as NetSocket } from 'node:net';
import type { Server, Socket } from 'socket.io';
import { DEFAULT_MAX_ID_LENGTH } from '../../protocol/index.js';
import type { LimitHit } from '../../lib/core/types.js';
import type { ConnectionBounds } from '../../lib/engine/index.js';
import { onTeardown } from '../support/teardown.js';
import { withDeadline } from '../support/wait.js';

/** What the tests of lib/engine/ share: servers outside createApp, and looks at a connection. */

/** A Socket.IO server built by `build` on a fresh HTTP server listening on 127.0.0.1, port 0; closed after the test. */
export async function listenWith(build: (httpServer: HttpServer) => Server): Promise<{ io: Server; url: string; httpServer: HttpServer }> {
  const httpServer = createServer();
  const io = build(httpServer);
  onTeardown(() => io.close());
  await withDeadline(new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve)), 'the HTTP server to listen');
  return { io, url: `http://127.0.0.1:${(httpServer.address() as AddressInfo).port}`, httpServer };
}

export { serverSocket } from '../support/server.js';

/** The TCP socket under a WebSocket connection (`ws` keeps it as `_socket`), to watch corking. */
export function tcpOf(socket: Socket): NetSocket {
  const tcp = (socket.conn.transport as unknown as { socket?: { _socket?: NetSocket } }).socket?._socket;
  if (!tcp) throw new Error(`socket ${socket.id} is not on a WebSocket (transport ${socket.conn.transport.name})`);
  return tcp;
}

/**
 * How many `message` packets Engine.IO's per-packet path created for each of `sockets`' connections while
 * `action` ran (it emits `packetCreate` for each; a direct write creates none). Listens only during `action`.
 */
export function packetsCreatedDuring(sockets: readonly Socket[], action: () => void): number[] {
  const counts = sockets.map(() => 0);
  const listeners = sockets.map((socket, i) => {
    const listener = (packet: { type: string }): void => {
      if (packet.type === 'message') counts[i] = (counts[i] ?? 0) + 1;
    };
    socket.conn.on('packetCreate', listener);
    return listener;
  });
  try {
    action();
  } finally {
    sockets.forEach((socket, i) => {
      const listener = listeners[i];
      if (listener) socket.conn.off('packetCreate', listener);
    });
  }
  return counts;
}

/** Resolves once the server side of `socket` is on WebSocket (at once if it is). */
export function serverUpgraded(socket: Socket): Promise<void> {
  if (socket.conn.transport.name === 'websocket') return Promise.resolve();
  return withDeadline(new Promise<void>((resolve) => socket.conn.once('upgrade', () => resolve())), `the upgrade of ${socket.id}`);
}

/** Bounds for a server built outside createApp, and the hits they report. */
export interface TestBounds {
  readonly bounds: ConnectionBounds;
  /** Every hit so far, in order. */
  readonly hits: LimitHit[];
  /** Resolves with the next hit; rejects after a deadline. */
  nextHit(): Promise<LimitHit>;
}

/** Bounds with `maxOutbound` (default 4 MB) and the peer's address, recording their hits. */
export function testBounds(maxOutbound = 4_000_000): TestBounds {
  const hits: LimitHit[] = [];
  const waiting: ((hit: LimitHit) => void)[] = [];
  const bounds: ConnectionBounds = {
    maxOutbound,
    limited: (hit) => {
      hits.push(hit);
      for (const resolve of waiting.splice(0)) resolve(hit);
    },
    addressOf: (req) => req.socket.remoteAddress ?? 'unknown',
    maxNamespaceLength: DEFAULT_MAX_ID_LENGTH,
  };
  return {
    bounds,
    hits,
    nextHit: () => withDeadline(new Promise<LimitHit>((resolve) => waiting.push(resolve)), 'a limit hit'),
  };
}
