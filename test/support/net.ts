import { createServer, type AddressInfo } from 'node:net';
import { withDeadline } from './wait.js';

/**
 * A TCP port of 127.0.0.1 on which nothing listens: one that was just bound, then released (for a server
 * without port 0, such as redis-server, or for a URL that refuses connections).
 */
export async function freePort(): Promise<number> {
  const server = createServer();
  await withDeadline(
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', resolve);
    }),
    'a port to bind',
  );
  const { port } = server.address() as AddressInfo;
  await withDeadline(new Promise<void>((resolve) => server.close(() => resolve())), 'the port to be released');
  return port;
}
