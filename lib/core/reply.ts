import type { Logger } from 'pino';
import type { Socket } from 'socket.io';
import type { ErrorBody, ErrorEvent } from '../../protocol/index.js';
import { RequestError } from './errors.js';
import { eventNameProblem, shownName } from './event-name.js';
import type { HookDispatcher } from './hooks.js';
import type { ServiceLimits } from './types.js';

/**
 * What the reply path needs of the service: where it logs, the inbound chain it runs first, and the
 * event-name bound with the address its hits are reported under.
 */
export interface ReplyContext {
  readonly log: Logger;
  readonly hooks: HookDispatcher;
  readonly limits: Pick<ServiceLimits, 'maxEventNameLength'>;
  readonly clientAddress: (socket: Socket) => string;
}

/** What a request handler returns on success: extra ack fields, or nothing for a bare `{ ok: true }`. */
export type HandlerResult = Record<string, unknown> | undefined | void;

/** The part of a Socket.IO socket the reply helper needs: a namespace socket, typed or not. */
export type ReplyTarget = Socket & {
  emit(event: 'ERROR', body: ErrorEvent): boolean;
};

/**
 * Handles one request. `args` are the untrusted arguments the client sent, without the ack callback.
 * Throw a {@link RequestError} to fail with a code; anything else thrown becomes `INTERNAL`.
 */
export type RequestHandler<S extends ReplyTarget> = (
  socket: S,
  args: unknown[],
  /** The event's name as the client sent it (for handlers of every event, such as forwarding's). */
  event: unknown,
) => HandlerResult | Promise<HandlerResult>;

type AckFunction = (response: unknown) => void;

const OK = Object.freeze({ ok: true as const });

/**
 * Wraps a handler into a Socket.IO listener that answers exactly once: the ack with
 * `{ ok: true, ...result }` or `{ ok: false, error }`, or, with no ack, an `ERROR` event on failure. The
 * inbound-event chain runs first, before the payload is validated; a step that refuses the event fails it
 * the same way.
 *
 * The listener is a plain `function` that reads the socket from `this` (Socket.IO calls listeners with
 * the socket as receiver), so one listener serves every socket and no closure is allocated per connection.
 */
export function requestListener<S extends ReplyTarget>(
  event: string,
  handler: RequestHandler<S>,
  context: ReplyContext,
): (this: S, ...args: unknown[]) => void {
  return function listener(this: S, ...args: unknown[]): void {
    answer(this, event, args, handler, context);
  };
}

/**
 * Like {@link requestListener}, for `socket.onAny`: one handler for every event name (forwarding
 * namespaces), which it receives as its third argument.
 */
export function anyRequestListener<S extends ReplyTarget>(
  handler: RequestHandler<S>,
  context: ReplyContext,
): (this: S, event: unknown, ...args: unknown[]) => void {
  return function listener(this: S, event: unknown, ...args: unknown[]): void {
    answer(this, event, args, handler, context);
  };
}

/** Runs the inbound chain and the handler for one request, and answers it exactly once. */
function answer<S extends ReplyTarget>(
  socket: S,
  event: unknown,
  args: unknown[],
  handler: RequestHandler<S>,
  context: ReplyContext,
): void {
  const ack = takeAck(args);
  const { maxEventNameLength } = context.limits;
  let result: HandlerResult | Promise<HandlerResult>;
  try {
    if (context.hooks.hasInbound) context.hooks.inbound(socket, String(event), args);
    const problem = eventNameProblem(event, maxEventNameLength);
    if (problem !== undefined) refuseEventName(socket, problem, context);
    result = handler(socket, args, event);
  } catch (err) {
    replyFailure(socket, shownName(event, maxEventNameLength), ack, err, context);
    return;
  }
  if (result instanceof Promise) {
    result.then(
      (value) => replySuccess(ack, value),
      (err: unknown) => replyFailure(socket, shownName(event, maxEventNameLength), ack, err, context),
    );
  } else {
    replySuccess(ack, result);
  }
}

/**
 * A catch-all listener (for `socket.onAny`) that answers requests for events the namespace does not
 * know. Without an ack the event is only logged at debug, as the protocol says unknown events are ignored;
 * with one, the ack gets a `BAD_REQUEST` so that the client is not left waiting. Unknown events pass the
 * inbound chain too: a flood of them counts like any other.
 */
export function unknownEventListener<S extends ReplyTarget>(
  known: ReadonlySet<string>,
  context: ReplyContext,
): (this: S, event: unknown, ...args: unknown[]) => void {
  const { log, hooks } = context;
  const { maxEventNameLength } = context.limits;
  return function listener(this: S, event: unknown, ...args: unknown[]): void {
    if (typeof event === 'string' && known.has(event)) return;
    const ack = takeAck(args);
    const name = shownName(event, maxEventNameLength);
    try {
      if (hooks.hasInbound) hooks.inbound(this, String(event), args);
    } catch (err) {
      replyFailure(this, name, ack, err, context);
      return;
    }
    const problem = eventNameProblem(event, maxEventNameLength);
    if (problem !== undefined) {
      // A refusal of a name the client sent as a request: answered, counted, never an ERROR (unknown events are ignored).
      if (ack) replyFailure(this, name, ack, new RequestError('BAD_REQUEST', problem), context);
      reportEventName(this, context);
      return;
    }
    log.debug({ socketId: this.id, event: name }, 'unknown event ignored');
    if (!ack) return;
    hooks.failed(this, 'BAD_REQUEST');
    ack({ ok: false, error: { code: 'BAD_REQUEST', message: `unknown event ${JSON.stringify(name)}` } });
  };
}

/** Reports an over-long event name as a `limited` hit (log line, metric). */
function reportEventName(socket: Socket, context: ReplyContext): void {
  context.hooks.limited({
    limit: 'event-name',
    action: 'refused',
    address: context.clientAddress(socket),
    namespace: socket.nsp.name,
    socketId: socket.id,
  });
}

/** Reports an over-long event name and fails the request with `BAD_REQUEST`. */
function refuseEventName(socket: Socket, problem: string, context: ReplyContext): never {
  reportEventName(socket, context);
  throw new RequestError('BAD_REQUEST', problem);
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

/** Answers a failed request, and reports its code through the `failure` hook (the errors metric). */
function replyFailure(socket: ReplyTarget, event: string, ack: AckFunction | undefined, err: unknown, context: ReplyContext): void {
  const { log } = context;
  let error: ErrorBody;
  if (err instanceof RequestError) {
    error = { code: err.code, message: err.message };
    log.debug({ socketId: socket.id, event, code: err.code }, err.message);
  } else {
    error = { code: 'INTERNAL', message: 'internal error' };
    log.error({ socketId: socket.id, event, err }, 'request handler failed');
  }
  context.hooks.failed(socket, error.code);
  if (ack) ack({ ok: false, error });
  else socket.emit('ERROR', { event, ...error });
}

/** Throws a `BAD_REQUEST` unless the client sent at least `count` arguments. */
export function requireArgs(args: readonly unknown[], count: number, what = 'payload'): void {
  if (args.length < count) throw new RequestError('BAD_REQUEST', `${what} is required`);
}
