import type { ErrorCode } from '../../protocol/index.js';

/**
 * A failure that is the client's to know about: thrown by handlers and turned by the reply helper into
 * an ack `{ ok: false, error }` or an `ERROR` event. Anything else thrown becomes `INTERNAL`.
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
