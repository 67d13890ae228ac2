import type { ErrorCode } from '../../protocol/index.js';

/**
 * A failure that is the client's to know about, wherever it happens: thrown by request handlers (the reply
 * helper turns it into an ack `{ ok: false, error }` or an `ERROR` event), by the auth modes (the handshake's
 * `connect_error`, see `authError`) and by the HTTP routes (an error body with the code's status from the
 * catalog). Anything else thrown becomes `INTERNAL`.
 */
export class RequestError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'RequestError';
  }
}
