import type { Server } from 'node:http';
import type { Socket } from 'node:net';

/**
 * Makes the primary stop reading a connection before `@socket.io/sticky` hands it to a worker.
 *
 * Sticky reads the first chunk of each connection (to find the session id), then sends the socket to a
 * worker; Node keeps the primary's handle open, and reading, until the worker acknowledges it, and drops
 * what it reads meanwhile (nodejs/node#8353). A client that answers the worker quickly (a WebSocket client
 * sending its namespace CONNECT after Engine.IO's open packet) could lose that message to the primary and
 * wait forever: 1 connection in about 5,000 did, 200 at a time, under load. Sticky forwards the later chunks
 * of requests with a body itself (it keeps reading those), so only the others are stopped, exactly when
 * sticky decides to hand them over: on their first chunk, in a listener that runs before its own.
 */
export function stopReadingHandedOverSockets(server: Server): void {
  server.prependListener('connection', (socket: Socket) => {
    socket.prependOnceListener('data', (chunk: Buffer) => {
      const text = chunk.toString('latin1');
      const head = text.slice(0, text.indexOf('\r\n\r\n')).toLowerCase();
      // Sticky's own test for a request whose body it will forward chunk by chunk.
      if (head.includes('content-length:') || head.includes('transfer-encoding:')) return;
      (socket as unknown as { _handle?: { readStop?(): unknown } })._handle?.readStop?.();
    });
  });
}
