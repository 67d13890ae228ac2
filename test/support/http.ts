import { expect } from 'chai';
import { get, type RequestOptions } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { withDeadline } from './wait.js';

/** What a test needs of an HTTP response: status, content type, and the body (parsed when JSON). */
export interface HttpResult {
  readonly status: number;
  readonly type: string;
  readonly headers: Headers;
  readonly body: unknown;
}

/** Anything serving HTTP at `url`: a test server, a CLI child, a backend. */
export interface HttpTarget {
  /** `http(s)://127.0.0.1:<port>` */
  readonly url: string;
}

/** `fetch` with a deadline on the response and its body; a JSON body is parsed. */
export async function request(url: string, init: RequestInit = {}): Promise<HttpResult> {
  const what = `${init.method ?? 'GET'} ${url}`;
  const res = await withDeadline(fetch(url, init), what);
  const text = await withDeadline(res.text(), `the body of ${what}`);
  const type = res.headers.get('content-type') ?? '';
  return {
    status: res.status,
    type,
    headers: res.headers,
    body: type.startsWith('application/json') ? (JSON.parse(text) as unknown) : text,
  };
}

/** POSTs `body` (raw text) to `/bus-message/<path>`, as application/json unless told otherwise (`null`: no content type). */
export function postBusMessage(
  target: HttpTarget,
  path: string,
  body: string,
  contentType: string | null = 'application/json',
): Promise<HttpResult> {
  return request(`${target.url}/bus-message/${path}`, {
    method: 'POST',
    // A Blob without a type makes fetch send no content-type header at all.
    body: contentType === null ? new Blob([body]) : body,
    headers: contentType === null ? {} : { 'content-type': contentType },
  });
}

/** POSTs `body` (JSON-encoded unless it is a string) to `/send?<query>`, the push API, as application/json with `headers`. */
export function postSend(target: HttpTarget, query: string, body: unknown, headers: Record<string, string>): Promise<HttpResult> {
  return request(`${target.url}/send?${query}`, {
    method: 'POST',
    body: typeof body === 'string' ? body : JSON.stringify(body),
    headers: { 'content-type': 'application/json', ...headers },
  });
}

/**
 * Asserts an HTTP error response in the service's JSON error format, `{ ok: false, error: { code, message } }`
 * and nothing else, with `status`, `code` and a non-empty message (matching `message`, when given).
 */
export function expectErrorBody(res: HttpResult, status: number, code: string, message?: RegExp): void {
  expect(res.status, JSON.stringify(res.body)).to.equal(status);
  expect(res.type).to.match(/^application\/json/);
  expect(res.body).to.have.all.keys('ok', 'error');
  expect(res.body).to.have.property('ok', false);
  expect(res.body).to.have.property('error').that.has.all.keys('code', 'message');
  expect(res.body).to.have.nested.property('error.code', code);
  expect(res.body).to.have.nested.property('error.message').that.is.a('string').and.not.equal('');
  if (message) expect(res.body).to.have.nested.property('error.message').that.matches(message);
}

/** What {@link httpsGet} saw: the status, the body, and the SHA-256 fingerprint of the server's certificate. */
export interface HttpsResult {
  readonly status: number | undefined;
  readonly body: string;
  readonly fingerprint: string;
}

/** GET over HTTPS accepting a self-signed certificate, with a deadline. */
export function httpsGet(url: string): Promise<HttpsResult> {
  const options: RequestOptions = { rejectUnauthorized: false };
  return withDeadline(
    new Promise<HttpsResult>((resolve, reject) => {
      get(url, options, (res) => {
        const fingerprint = (res.socket as TLSSocket).getPeerCertificate().fingerprint256;
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode, body, fingerprint }));
      }).on('error', reject);
    }),
    `GET ${url}`,
  );
}
