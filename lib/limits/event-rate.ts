import type { Server, Socket } from 'socket.io';
import type { ServiceOptions } from '../config/options.js';
import { RequestError } from '../core/errors.js';
import type { HookDispatcher } from '../core/hooks.js';
import { clientAddress, type TrustFunction } from './address.js';
import { TokenBucket } from './token-bucket.js';

/** The options {@link limitEventRate} reads. */
export type EventRateOptions = Pick<ServiceOptions, 'eventRate' | 'eventBurst'>;

/**
 * One Engine.IO connection's event budget: its token bucket, the events refused since the bucket was
 * last full, and its client address (read once at the handshake, for the hits it may report).
 */
class EventBudget extends TokenBucket {
  readonly address: string;
  /** Events refused since the bucket was last full. */
  refused = 0;
  /** Set once the connection was disconnected: an event already on its way is refused without a report. */
  cutOff = false;

  constructor(rate: number, burst: number, now: number, address: string) {
    super(rate, burst, now);
    this.address = address;
  }

  /** Takes a token for one event; a bucket that refilled to full forgives the refusals before it. */
  admit(now: number): boolean {
    if (this.refused !== 0 && this.isFull(now)) this.refused = 0;
    return this.take(now);
  }

  /** Starts from the standing of a cut-off connection of the same address: its tokens and its refusals. */
  inherit(cut: EventBudget, now: number): void {
    this.resumeFrom(cut, now);
    this.refused = cut.refused;
  }
}

/**
 * The budgets of connections cut off for flooding, by address, until their buckets are full again
 * (`eventBurst / eventRate` seconds): a new connection from that address starts from that standing, not
 * with a full burst, so that reconnecting buys no events. Without it a flooder cut off 50 times a second
 * (`--connect-rate`) got 50 fresh bursts a second, a hundred times the rate. Swept at most once a second,
 * when a connection comes: an entry lives a few seconds, one per address that flooded.
 */
class CutOffBudgets {
  readonly #byAddress = new Map<string, EventBudget>();
  #swept = 0;

  remember(budget: EventBudget): void {
    this.#byAddress.set(budget.address, budget);
  }

  /** The standing a new connection of `address` starts from, if one of its connections was cut off lately. */
  standingOf(address: string, now: number): EventBudget | undefined {
    if (this.#byAddress.size === 0) return undefined;
    if (now - this.#swept >= 1000) {
      this.#swept = now;
      for (const [cutAddress, budget] of this.#byAddress) if (budget.isFull(now)) this.#byAddress.delete(cutAddress);
    }
    return this.#byAddress.get(address);
  }
}

/** The Engine.IO connection of a namespace socket, the key of its budget. */
type Connection = Socket['conn'];

/**
 * Limits the events each connection may send: a token bucket of `eventBurst` events refilled at `eventRate`
 * per second, checked in the inbound chain (before validation, on every namespace the service serves, for
 * known and unknown events alike). `eventRate` 0 installs nothing.
 *
 * - An event with no token left is refused with `RATE_LIMITED`: in its ack, or as an `ERROR` event for a
 *   client that asked for none (legacy clients). Each refusal is reported as a `limited` hit `refused`.
 * - Sustained abuse: once `eventBurst` events have been refused since the bucket was last full, the next
 *   event it refuses disconnects the connection instead of being answered (the client sees Socket.IO's
 *   `io server disconnect`) and is reported as a hit `disconnected`. A client that answers
 *   `RATE_LIMITED` by pausing until its bucket refills (`eventBurst / eventRate` seconds, 2 s by default)
 *   starts afresh; one that keeps sending past the rate is cut off after `eventBurst` refusals, however
 *   slightly above the rate it is.
 *
 * - Reconnecting buys nothing: a connection from the address of one cut off lately starts with that
 *   one's tokens and refusals (see `CutOffBudgets`), so a flooder that reconnects at once is cut off at
 *   its first refused event, and gets no more than the rate through, however often it reconnects.
 *
 * The budget is per Engine.IO connection, not per namespace socket: a client multiplexing several
 * namespaces over one connection shares one bucket, so that opening more namespaces buys no more events.
 * It is local to the node by nature (a connection lives on one node). On the hot path it allocates
 * nothing: one `WeakMap` lookup and the bucket arithmetic per event, and the refusal is one shared error.
 */
export function limitEventRate(io: Server, hooks: HookDispatcher, options: EventRateOptions, trust: TrustFunction): void {
  const { eventRate: rate, eventBurst: burst } = options;
  if (rate <= 0) return;
  const budgets = new WeakMap<Connection, EventBudget>();
  // One instance for every refusal: a flood is answered without building an error (and its stack) per event.
  const refusal = new RequestError('RATE_LIMITED', `too many events: at most ${rate} per second, in bursts of up to ${burst}`);

  // Prepended: the handshake request must still be whole (lib/engine/ trims it in a later listener).
  const cutOff = new CutOffBudgets();
  io.engine.prependListener('connection', (conn: Connection) => {
    const now = performance.now();
    const budget = new EventBudget(rate, burst, now, clientAddress(conn.request, trust));
    const standing = cutOff.standingOf(budget.address, now);
    if (standing) budget.inherit(standing, now);
    budgets.set(conn, budget);
  });

  /** Charges one event to `socket`'s connection: false if it is refused (the hit is reported here). */
  function charge(socket: Socket): boolean {
    const budget = budgets.get(socket.conn);
    if (budget === undefined || budget.admit(performance.now())) return true;
    if (budget.cutOff) return false;
    budget.refused += 1;
    const action = budget.refused <= burst ? 'refused' : 'disconnected';
    hooks.limited({ limit: 'event-rate', action, address: budget.address, namespace: socket.nsp.name, socketId: socket.id });
    if (action === 'disconnected') {
      budget.cutOff = true;
      cutOff.remember(budget);
      // At once, the whole connection (every namespace on it): the events already read behind this one
      // then reach no socket and cost nothing more, and this one's answer is dropped with the connection.
      socket.disconnect(true);
    }
    return false;
  }

  hooks.use(function eventRate(socket: Socket): void {
    if (!charge(socket)) throw refusal;
  });

  // The main namespace serves nothing, but every legacy client is connected to it and any client may send
  // events there: they are charged too (and refused silently, as `/` answers nothing), or a flood would
  // go around the limit through `/`.
  function chargeMainNamespace(this: Socket): void {
    charge(this);
  }
  io.of('/').on('connection', (socket) => {
    socket.onAny(chargeMainNamespace);
  });
}
