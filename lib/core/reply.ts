import type { Logger } from 'pino';
import type { ErrorBody, ErrorEvent } from '../../protocol/index.js';
import { RequestError } from './errors.js';

/** What a request handler returns on success: extra ack fields, or nothing for a bare `{ ok: true }`. */
export type HandlerResult = Record<string, unknown> | undefined | void;

/** The part of a Socket.IO socket the reply helper needs. */
export interface ReplyTarget {
  readonly id: string;
  emit(event: 'ERROR', body: ErrorEvent): boolean;
}

/**
 * Handles one request. `args` are the untrusted arguments the client sent, without the ack callback.
 * Throw a {@link RequestError} to fail with a code; anything else thrown becomes `INTERNAL`.
 */
export type RequestHandler<S extends ReplyTarget> = (
  socket: S,
  args: unknown[],
) => HandlerResult | Promise<HandlerResult>;

type AckFunction = (response: unknown) => void;

const OK = Object.freeze({ ok: true as const });

/**
 * Wraps a handler into a Socket.IO listener that answers exactly once: the ack with
 * `{ ok: true, ...result }` or `{ ok: false, error }`, or, with no ack, an `ERROR` event on failure.
 *
 * The listener is a plain `function` that reads the socket from `this` (Socket.IO calls listeners with
 * the socket as receiver), so one listener serves every socket and no closure is allocated per connection.
 */
export function requestListener<S extends ReplyTarget>(
  event: string,
  handler: RequestHandler<S>,
  log: Logger,
): (this: S, ...args: unknown[]) => void {
  return function listener(this: S, ...args: unknown[]): void {
    const ack = takeAck(args);
    let result: HandlerResult | Promise<HandlerResult>;
    try {
      result = handler(this, args);
    } catch (err) {
      replyFailure(this, event, ack, err, log);
      return;
    }
    if (result instanceof Promise) {
      result.then(
        (value) => replySuccess(ack, value),
        (err: unknown) => replyFailure(this, event, ack, err, log),
      );
    } else {
      replySuccess(ack, result);
    }
  };
}

/**
 * A catch-all listener (for `socket.onAny`) that answers requests for events the namespace does not
 * know. Without an ack the event is only logged at debug, as the protocol says unknown events are ignored;
 * with one, the ack gets a `BAD_REQUEST` so that the client is not left waiting.
 */
export function unknownEventListener<S extends ReplyTarget>(
  known: ReadonlySet<string>,
  log: Logger,
): (this: S, event: unknown, ...args: unknown[]) => void {
  return function listener(this: S, event: unknown, ...args: unknown[]): void {
    if (typeof event === 'string' && known.has(event)) return;
    log.debug({ socketId: this.id, event }, 'unknown event ignored');
    const ack = takeAck(args);
    if (ack) ack({ ok: false, error: { code: 'BAD_REQUEST', message: `unknown event ${JSON.stringify(event)}` } });
  };
}

function takeAck(args: unknown[]): AckFunction | undefined {
  const last = args[args.length - 1];
  if (typeof last !== 'function') return undefined;
  args.pop();
  return last as AckFunction;
}

function replySuccess(ack: AckFunction | undefined, result: HandlerResult): void {
  if (!ack) return;
  ack(result ? { ok: true, ...result } : OK);
}

function replyFailure(
  socket: ReplyTarget,
  event: string,
  ack: AckFunction | undefined,
  err: unknown,
  log: Logger,
): void {
  let error: ErrorBody;
  if (err instanceof RequestError) {
    error = { code: err.code, message: err.message };
    log.debug({ socketId: socket.id, event, code: err.code }, err.message);
  } else {
    error = { code: 'INTERNAL', message: 'internal error' };
    log.error({ socketId: socket.id, event, err }, 'request handler failed');
  }
  if (ack) ack({ ok: false, error });
  else socket.emit('ERROR', { event, ...error });
}

/** Throws a `BAD_REQUEST` unless the client sent at least `count` arguments. */
export function requireArgs(args: readonly unknown[], count: number, what = 'payload'): void {
  if (args.length < count) throw new RequestError('BAD_REQUEST', `${what} is required`);
}
