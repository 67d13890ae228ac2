import { withDeadline } from './wait.js';

/** What a test needs of an HTTP response: status, content type, and the body (parsed when JSON). */
export interface HttpResult {
  readonly status: number;
  readonly type: string;
  readonly headers: Headers;
  readonly body: unknown;
}

/** `fetch` with a deadline on the response and its body; a JSON body is parsed. */
export async function request(url: string, init: RequestInit = {}): Promise<HttpResult> {
  const what = `${init.method ?? 'GET'} ${url}`;
  const res = await withDeadline(fetch(url, init), what);
  const text = await withDeadline(res.text(), `the body of ${what}`);
  const type = res.headers.get('content-type') ?? '';
  return { status: res.status, type, headers: res.headers, body: type.startsWith('application/json') ? (JSON.parse(text) as unknown) : text };
}
