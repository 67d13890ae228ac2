import { WebSocket, type RawData } from 'ws';
import { sidOf } from './engine-io.js';
import { onTeardown } from './teardown.js';
import { withDeadline } from './wait.js';

/**
 * A client that speaks Engine.IO 4 and Socket.IO 5 by hand over a raw `ws` WebSocket: it sends whatever
 * text or bytes a test gives it, well-formed or not, so that a test plays a hostile client rather than one
 * that the client library keeps in line.
 */
export interface RawClient {
  readonly ws: WebSocket;
  /** The Engine.IO session id (what a connection-level limit hit names as `socketId`). */
  readonly sid: string;
  /** Every text frame received so far, in order (binary frames as `<binary n bytes>`). */
  readonly received: readonly string[];
  /** Resolves with the first received frame (already received or still to come) matching `match`; rejects on close or after a deadline. */
  next(match: (frame: string) => boolean, what: string): Promise<string>;
  /** Resolves with the close code once the connection is closed (never rejects; no deadline). */
  readonly closed: Promise<number>;
  send(data: string | Buffer): void;
}

/** The Engine.IO 4 WebSocket URL of a service at `url` (`http://127.0.0.1:<port>`). */
export function engineUrl(url: string): string {
  return `${url.replace(/^http/, 'ws')}/socket.io/?EIO=4&transport=websocket`;
}

/**
 * Opens a raw Engine.IO connection (its open packet received) and, unless `ns` is undefined, connects the
 * Socket.IO namespace `ns` with a CONNECT packet and waits for the server's CONNECT. Closed after the test.
 */
export async function rawClient(url: string, ns: string | undefined = '/layout'): Promise<RawClient> {
  const ws = new WebSocket(engineUrl(url));
  onTeardown(terminateLater(ws));
  const received: string[] = [];
  const watchers = new Set<() => void>();
  let open = true;
  const closed = new Promise<number>((resolve) =>
    ws.once('close', (code) => {
      open = false;
      for (const watch of watchers) watch();
      resolve(code);
    }),
  );
  ws.on('error', () => undefined);
  ws.on('message', (data: RawData, isBinary: boolean) => {
    const bytes = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
    const frame = isBinary ? `<binary ${bytes.length} bytes>` : bytes.toString('utf8');
    // Answer the server's heartbeat, as any client does: a test that runs past a ping interval stays connected.
    if (frame === '2') ws.send('3');
    received.push(frame);
    for (const watch of watchers) watch();
  });
  const next = (match: (frame: string) => boolean, what: string): Promise<string> => {
    let watcher: (() => void) | undefined;
    const found = new Promise<string>((resolve, reject) => {
      const check = (): void => {
        const frame = received.find(match);
        if (frame !== undefined) resolve(frame);
        else if (!open) reject(new Error(`the connection closed before ${what}; received ${JSON.stringify(received).slice(0, 500)}`));
      };
      watcher = check;
      watchers.add(check);
      check();
    });
    return withDeadline(found, what).finally(() => {
      if (watcher) watchers.delete(watcher);
    });
  };
  const sid = sidOf(await next((frame) => frame.startsWith('0{'), 'the Engine.IO open packet'));
  const client: RawClient = { ws, sid, received, next, closed, send: (data) => ws.send(data) };
  if (ns !== undefined) {
    ws.send(`40${ns},`);
    await next((frame) => frame.startsWith(`40${ns},{`), `the CONNECT of ${ns}`);
  }
  return client;
}

/**
 * A disposer that holds `ws` weakly: a test that opens and closes thousands of connections must not keep
 * them all alive until it ends (an open one is kept alive by its socket anyway). Made here, not inline,
 * because a closure holds every variable its enclosing function shares with its other closures.
 */
function terminateLater(ws: WebSocket): () => void {
  const ref = new WeakRef(ws);
  return () => ref.deref()?.terminate();
}

/**
 * Sends `CLIENTS { room }` on `/layout` with ack id `id` and resolves with the ack's frame: proof that the
 * connection is open and served after whatever the test sent before. Rejects if it closes instead.
 */
export function rawRoundTrip(client: RawClient, id: number, room = 'probe'): Promise<string> {
  client.send(`42/layout,${id}["CLIENTS",${JSON.stringify({ room })}]`);
  return client.next((frame) => frame.startsWith(`43/layout,${id}[`), `the ack #${id} of a CLIENTS round trip`);
}
