import type { Socket as NetSocket } from 'node:net';
import type { Server } from 'socket.io';

/**
 * The worker side of `@socket.io/sticky` (its `setupWorker`, which it replaces), without making the primary
 * remember every WebSocket-only session.
 *
 * The primary (sticky's `setupMaster`) keeps a map from session id to worker, filled by a
 * `sticky:connection` message from the worker for each Engine.IO session and emptied by
 * `sticky:disconnection`; the same messages count each worker's sessions for its least-connection choice.
 * Only a session that sends more HTTP requests needs the map: long-polling, and its upgrade to WebSocket.
 * A session that opened on the WebSocket transport never sends another (a polling request naming it is
 * refused by Engine.IO on any worker), yet its entry, some 100 bytes, stayed in the primary while it lived:
 * 10 MB at 100,000 connections. Such a session is reported under one shared key that no request can match
 * (sticky looks up `sid=` followed by 20 characters), so it is counted but not remembered.
 *
 * The message types and their fields are sticky's own (see node_modules/@socket.io/sticky/index.js).
 */
const UNROUTED = 'websocket';

/** What the primary sends with a handed-over connection; `connectionId` names one whose body follows in chunks. */
interface StickyMessage {
  readonly type?: unknown;
  readonly data?: unknown;
  readonly connectionId?: unknown;
}

/** Serves the connections the primary hands over to this worker on `io`'s HTTP server (sticky's `setupWorker`). */
export function serveHandedOverConnections(io: Server): void {
  const httpServer = io.httpServer;
  // Connections whose request body the primary forwards chunk by chunk.
  const chunked = new Map<string, NetSocket>();
  process.on('message', (message: StickyMessage, socket?: NetSocket) => {
    if (message.type === 'sticky:connection') {
      // The client may have gone while the primary sent it.
      if (!socket || typeof message.data !== 'string') return;
      httpServer.emit('connection', socket);
      // The primary read the request's first chunk (to choose the worker): it is read here again.
      socket.emit('data', Buffer.from(message.data));
      socket.resume();
      const id = message.connectionId;
      if (typeof id === 'string') {
        chunked.set(id, socket);
        socket.on('close', () => chunked.delete(id));
      }
    } else if (message.type === 'sticky:http-chunk' && typeof message.connectionId === 'string' && typeof message.data === 'string') {
      chunked.get(message.connectionId)?.emit('data', Buffer.from(message.data));
    }
  });

  // The next request of a session that is not counted fails anyway: nothing to do with a send error.
  const ignore = (): void => {};
  io.engine.on('connection', (conn: { id: string; transport: { name: string }; once(event: 'close', listener: () => void): unknown }) => {
    const key = conn.transport.name === 'websocket' ? UNROUTED : conn.id;
    process.send?.({ type: 'sticky:connection', data: key }, ignore);
    conn.once('close', () => process.send?.({ type: 'sticky:disconnection', data: key }, ignore));
  });
}
