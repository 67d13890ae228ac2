import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { onTeardown } from './teardown.js';
import { withDeadline } from './wait.js';

/** One request a {@link Backend} received, body read in full. */
export interface RecordedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

/** A site's backend for a test: a real HTTP server on 127.0.0.1, port 0, that records every request. */
export interface Backend {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly requests: readonly RecordedRequest[];
  /** TCP connections the service opened to this backend so far. */
  readonly connections: number;
  /** Resolves with the `n`th request (1-based) once it has arrived; rejects after a deadline (`ms`, DEADLINE_MS by default). */
  nth(n: number, ms?: number): Promise<RecordedRequest>;
}

/**
 * Starts a backend that answers with `handle` (which may leave a response open, to play a backend that
 * hangs). Closed after the current test, open connections included.
 */
export async function startBackend(handle: (request: RecordedRequest, res: ServerResponse) => void): Promise<Backend> {
  const requests: RecordedRequest[] = [];
  const waiters: (() => void)[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      const recorded = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body };
      requests.push(recorded);
      for (const wake of waiters.splice(0)) wake();
      handle(recorded, res);
    });
  });
  let connections = 0;
  server.on('connection', () => connections++);
  await withDeadline(new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve)), 'the backend to listen');
  onTeardown(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const nth = (n: number, ms?: number): Promise<RecordedRequest> => {
    const arrived = new Promise<RecordedRequest>((resolve) => {
      const check = (): void => {
        const found = requests[n - 1];
        if (found) resolve(found);
        else waiters.push(check);
      };
      check();
    });
    return withDeadline(arrived, `request #${n} to the backend`, ms);
  };
  return {
    url,
    requests,
    get connections() {
      return connections;
    },
    nth,
  };
}

/** Answers `status` with `body` as JSON (or as given when it is a string). */
export function reply(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(typeof body === 'string' ? body : JSON.stringify(body));
}

/**
 * A token-url auth backend: answers 200 with the rooms `grants` lists for the token of the request's
 * `Authorization: <scheme> <token>` header, and 401 to any other token.
 */
export function tokenBackend(grants: Readonly<Record<string, readonly string[]>>, scheme = 'Bearer'): Promise<Backend> {
  const header = new RegExp(`^${scheme} (.+)$`);
  return startBackend((request, res) => {
    const token = header.exec(request.headers.authorization ?? '')?.[1];
    const rooms = token === undefined ? undefined : grants[token];
    reply(res, rooms ? 200 : 401, rooms ?? { error: 'unknown token' });
  });
}
