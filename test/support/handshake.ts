import { get, type IncomingHttpHeaders } from 'node:http';
import WebSocket from 'ws';
import { onTeardown } from './teardown.js';
import { withDeadline } from './wait.js';

/** The answer to a raw Engine.IO handshake. */
export interface HandshakeAnswer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  /** The body as text: the open packet (`0{"sid":…}`) when admitted, an error body otherwise. */
  readonly body: string;
}

/** Where a raw handshake comes from, and what it claims. */
export interface HandshakeOptions {
  /** The source address to connect from (any 127.x.y.z reaches a server bound to 127.0.0.1). */
  readonly localAddress?: string;
  readonly headers?: Readonly<Record<string, string>>;
}

const PATH = '/socket.io/?EIO=4&transport=';

/**
 * Starts an Engine.IO session over long-polling with one raw GET, as any HTTP client can: no Socket.IO
 * client, so that the source address and headers are exactly the test's. An admitted session is left to
 * the server, which closes it when the test's server closes.
 */
export function pollingHandshake(url: string, { localAddress, headers = {} }: HandshakeOptions = {}): Promise<HandshakeAnswer> {
  const answer = new Promise<HandshakeAnswer>((resolve, reject) => {
    const req = get(`${url}${PATH}polling`, { agent: false, headers, ...(localAddress ? { localAddress } : {}) }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    onTeardown(() => req.destroy());
  });
  return withDeadline(answer, `a polling handshake${localAddress ? ` from ${localAddress}` : ''}`);
}

/**
 * Starts an Engine.IO session with a raw WebSocket upgrade; resolves with the open socket (closed after the
 * test), or with the HTTP answer the server gave instead of upgrading.
 */
export function websocketHandshake(
  url: string,
  { localAddress, headers = {} }: HandshakeOptions = {},
): Promise<WebSocket | HandshakeAnswer> {
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}${PATH}websocket`, { headers, ...(localAddress ? { localAddress } : {}) });
  onTeardown(() => ws.terminate());
  const answer = new Promise<WebSocket | HandshakeAnswer>((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    ws.once('error', reject);
  });
  return withDeadline(answer, 'a WebSocket handshake');
}
