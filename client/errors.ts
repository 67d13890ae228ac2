import type { ErrorCode } from '../protocol/errors.js';

/**
 * A request the service refused: the `{ code, message }` of its failed ack, or of a refused handshake's
 * `connect_error`. `code` is one of the protocol's {@link ErrorCode}s; `ErrorCatalog[code].retryable` (from
 * `realtime-rooms/protocol`) says whether the same request may succeed later.
 *
 * @example
 * ```ts
 * try {
 *   await layout.join('', 'tv');
 * } catch (err) {
 *   if (err instanceof ProtocolError && err.code === 'BAD_REQUEST') console.error(err.message);
 * }
 * ```
 */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
  /** The protocol's error code, e.g. `BAD_REQUEST`, `LIMIT`, `NOT_IN_LOBBY`, `UNAUTHORIZED`. */
  readonly code: ErrorCode;
  /** The request that failed (`JOIN`, `AUTH`, …), or `connect` for a refused handshake. */
  readonly event: string;

  constructor(event: string, code: ErrorCode, message: string) {
    super(message);
    this.code = code;
    this.event = event;
  }
}

/**
 * A request whose ack did not come within the client's `timeout`. Whether the service applied it is unknown
 * (the connection may have dropped after it was sent): every request of the protocol may be sent again.
 */
export class TimeoutError extends Error {
  override readonly name = 'TimeoutError';
  /** Not a protocol code: the service never sent one. */
  readonly code = 'TIMEOUT';
  /** The request that timed out. */
  readonly event: string;
  /** How long the client waited, in milliseconds. */
  readonly timeoutMs: number;

  constructor(event: string, timeoutMs: number) {
    super(`no answer to ${event} within ${timeoutMs} ms`);
    this.event = event;
    this.timeoutMs = timeoutMs;
  }
}
