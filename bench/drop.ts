import type { Socket as NetSocket } from 'node:net';
import type { Socket } from 'socket.io-client';

/** The parts of socket.io-client's manager the drop reaches: its Engine.IO socket's WebSocket and the URL it reconnects to. */
interface ManagerInternals {
  engine?: { transport?: { name?: string; ws?: { _socket?: NetSocket } } };
  uri: string;
}

/**
 * Cuts a v4 client's connection the way a network does: its TCP connection is destroyed under the WebSocket,
 * with no close frame, so that both ends see `transport close`. The client must use the WebSocket transport
 * only (`transports: ['websocket']`). With `reconnection` on, the client then reconnects by itself.
 */
export function dropConnection(socket: Socket): void {
  const transport = (socket.io as unknown as ManagerInternals).engine?.transport;
  const tcp = transport?.ws?._socket;
  if (transport?.name !== 'websocket' || !tcp) throw new Error('dropConnection needs a client connected over WebSocket');
  tcp.destroy();
}

/** Makes a client's next reconnection go to `url` (its namespace URL on another node), as a load balancer may. */
export function reconnectTo(socket: Socket, url: string): void {
  (socket.io as unknown as ManagerInternals).uri = url;
}
