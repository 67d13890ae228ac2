import { ServerResponse } from 'node:http';
import cors from 'cors';
import type { Server } from 'socket.io';

/**
 * CORS for Engine.IO's HTTP requests (long-polling and its preflights), and not for WebSocket upgrades.
 *
 * Socket.IO's own `cors` option runs the middleware on every request, upgrades included, whose CORS
 * headers no browser reads (a WebSocket has no CORS; the origin is checked, if at all, by `allowRequest`).
 * On the connect path that was an origin match and two header lines on every 101 for nothing. Engine.IO
 * hands its middlewares a `ServerResponse` for an HTTP request and a bare stand-in for an upgrade.
 *
 * `'*'` echoes any origin, as the original (Socket.IO 2) did; a list allows those origins only.
 */
export function engineCors(io: Server, origin: '*' | readonly string[]): void {
  const middleware = cors({ origin: origin === '*' ? true : [...origin], credentials: true });
  io.engine.use((req: Parameters<typeof middleware>[0], res: ServerResponse, next: (err?: unknown) => void) => {
    if (res instanceof ServerResponse) middleware(req, res, next);
    else next();
  });
}
