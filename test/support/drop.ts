/**
 * Cutting a socket.io-client v4 connection as a network does, and steering its reconnection: the bench's
 * chaos scenario and the tests share one implementation (bench/drop.ts).
 */
import type { Socket } from 'socket.io-client';
import { dropConnection } from '../../bench/drop.js';
import { idOf, type TestServer } from './server.js';
import { next } from './wait.js';

export { dropConnection, reconnectTo } from '../../bench/drop.js';

/**
 * Drops `socket`'s connection, waits until `server` has let go of it on namespace `ns`, runs `meanwhile`,
 * then reconnects it (as socket.io-client does by itself after its back-off) and resolves once it is
 * connected again.
 */
export async function dropAndReturn(
  server: TestServer,
  ns: string,
  socket: Socket,
  meanwhile: () => Promise<void> = async () => {},
): Promise<void> {
  const gone = server.serverDisconnect(ns, idOf(socket));
  dropConnection(socket);
  await gone;
  await meanwhile();
  const back = next(socket, 'connect');
  socket.connect();
  await back;
}
