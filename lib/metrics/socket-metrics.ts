import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Namespace, Socket } from 'socket.io';
import { ErrorCode } from '../../protocol/index.js';
import type { ServiceHooks } from '../core/types.js';
import { OTHER, type NamespaceLabel, type NamespaceLabels } from './labels.js';

/** A count the hot paths bump as a plain number; prom-client reads it at scrape time (its own `inc` hashes the labels each call). */
interface Tally {
  value: number;
}

/** One namespace label's counts, made once: an event costs a WeakMap and a Map lookup and an addition. */
interface NamespaceTallies {
  readonly label: string;
  connections: number;
  readonly eventsIn: ReadonlyMap<string, Tally>;
  readonly otherIn: Tally;
  readonly eventsOut: ReadonlyMap<string, Tally>;
  readonly otherOut: Tally;
  readonly broadcasts: Tally;
  /** The namespace's child of the publish-to-deliver histogram, made at its first delivery (its labels hashed once). */
  delivery?: { observe(seconds: number): void };
}

/**
 * Where the service's broadcasts are reported, once per broadcast with its local recipient count
 * (lib/engine/fast-broadcast.ts knows it without a step per recipient); absent, nothing is counted out.
 */
export type BroadcastSource = (listener: (nsp: Namespace, event: unknown, recipients: number, delayMs: number | undefined) => void) => void;

/**
 * The publish-to-deliver histogram's buckets, in seconds: from a local fan-out (well under a millisecond)
 * through a Redis hop (a few) to what an outage's hold or a backed-up stream reader adds (seconds).
 */
const DELIVERY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * The metrics of the namespaces' sockets, fed by the hooks (and the broadcasts, when `broadcasts` is given):
 * connections per namespace (a gauge), events in and out per namespace and event name, broadcasts, failed
 * requests per error code, and connection-state recoveries. Every label is from a closed set
 * ({@link NamespaceLabels}, the protocol's event names, the error codes): never a room, a user, a socket id
 * or a name a client made up. The hot paths only add to plain numbers; the series are filled in at scrape time.
 */
export function countSockets(
  hooks: ServiceHooks,
  labels: NamespaceLabels,
  registry: Registry,
  prefix: string,
  broadcasts?: BroadcastSource,
): void {
  const byLabel = new Map<string, NamespaceTallies>();
  const talliesOfLabel = (namespace: NamespaceLabel): NamespaceTallies => {
    let tallies = byLabel.get(namespace.label);
    if (!tallies) {
      tallies = {
        label: namespace.label,
        connections: 0,
        eventsIn: new Map(namespace.events.map((event) => [event, { value: 0 }])),
        otherIn: { value: 0 },
        eventsOut: new Map(namespace.sent.map((event) => [event, { value: 0 }])),
        otherOut: { value: 0 },
        broadcasts: { value: 0 },
      };
      byLabel.set(namespace.label, tallies);
    }
    return tallies;
  };
  // Every configured namespace has its series from the start: a dashboard sees 0, not "no data".
  for (const namespace of labels.all()) talliesOfLabel(namespace);
  const errors = new Map(Object.values(ErrorCode).map((code) => [code, { value: 0 }]));
  const recovered: Tally = { value: 0 };
  const newSession: Tally = { value: 0 };

  new Gauge({
    name: `${prefix}connections`,
    help: 'Sockets connected now, by namespace (the children of a forwarding prefix under the prefix, /do-*).',
    labelNames: ['namespace'] as const,
    registers: [registry],
    collect() {
      for (const tallies of byLabel.values()) this.set({ namespace: tallies.label }, tallies.connections);
    },
  });
  new Counter({
    name: `${prefix}events_in_total`,
    help: 'Events clients sent that passed the event-rate limit, by namespace and event name (names outside the protocol: other).',
    labelNames: ['namespace', 'event'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const tallies of byLabel.values()) {
        for (const [event, tally] of tallies.eventsIn) this.inc({ namespace: tallies.label, event }, tally.value);
        this.inc({ namespace: tallies.label, event: OTHER }, tallies.otherIn.value);
      }
    },
  });
  new Counter({
    name: `${prefix}errors_total`,
    help: 'Failed requests (an ack with ok: false, or an ERROR event), by error code.',
    labelNames: ['code'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const [code, tally] of errors) this.inc({ code }, tally.value);
    },
  });
  new Counter({
    name: `${prefix}recoveries_total`,
    help: 'Socket.IO v4 reconnects that asked for connection-state recovery: recovered, or given a new session.',
    labelNames: ['outcome'] as const,
    registers: [registry],
    collect() {
      this.reset();
      this.inc({ outcome: 'recovered' }, recovered.value);
      this.inc({ outcome: 'new_session' }, newSession.value);
    },
  });

  // By namespace object: a child namespace (/do-a) is looked up by name once, not per event.
  const byNamespace = new WeakMap<Namespace, NamespaceTallies>();
  const talliesOf = (nsp: Namespace): NamespaceTallies => {
    let tallies = byNamespace.get(nsp);
    if (!tallies) {
      tallies = talliesOfLabel(labels.of(nsp.name));
      byNamespace.set(nsp, tallies);
    }
    return tallies;
  };

  hooks.on('connection', (socket: Socket) => {
    talliesOf(socket.nsp).connections++;
    if (socket.recovered) recovered.value++;
    else if (askedForRecovery(socket)) newSession.value++;
  });
  hooks.on('disconnect', (socket: Socket) => {
    talliesOf(socket.nsp).connections--;
  });
  hooks.use((socket, event) => {
    const tallies = talliesOf(socket.nsp);
    (tallies.eventsIn.get(event) ?? tallies.otherIn).value++;
  });
  hooks.on('failure', (_socket, code) => {
    const tally = errors.get(code);
    if (tally) tally.value++;
  });

  if (!broadcasts) return;
  new Counter({
    name: `${prefix}events_out_total`,
    help: "Copies of broadcast events written to this node's clients, by namespace and event name (names outside the protocol: other).",
    labelNames: ['namespace', 'event'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const tallies of byLabel.values()) {
        for (const [event, tally] of tallies.eventsOut) this.inc({ namespace: tallies.label, event }, tally.value);
        this.inc({ namespace: tallies.label, event: OTHER }, tallies.otherOut.value);
      }
    },
  });
  new Counter({
    name: `${prefix}broadcasts_total`,
    help: "Broadcasts delivered to this node's clients, by namespace (events_out_total over this is the mean fan-out).",
    labelNames: ['namespace'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const tallies of byLabel.values()) this.inc({ namespace: tallies.label }, tallies.broadcasts.value);
    },
  });
  const delivery = new Histogram({
    name: `${prefix}delivery_seconds`,
    help:
      "Seconds from a broadcast's making, on whichever node made it, to its copies written to this node's clients, by namespace " +
      '(through Redis or the workers relay; across machines, their clock difference is in it).',
    labelNames: ['namespace'] as const,
    buckets: DELIVERY_BUCKETS,
    registers: [registry],
  });
  broadcasts((nsp, event, recipients, delayMs) => {
    const tallies = talliesOf(nsp);
    tallies.broadcasts.value++;
    ((typeof event === 'string' ? tallies.eventsOut.get(event) : undefined) ?? tallies.otherOut).value += recipients;
    // A broadcast that reached nobody here was not delivered here: only the others' times are in the histogram.
    if (delayMs !== undefined && recipients > 0)
      (tallies.delivery ??= delivery.labels({ namespace: tallies.label })).observe(delayMs / 1000);
  });
}

/**
 * Whether a socket that was not recovered asked to be: a socket.io-client v4 sends the `pid` and `offset`
 * of its last session in the CONNECT packet's data, which Socket.IO keeps as the handshake's `auth`.
 */
function askedForRecovery(socket: Socket): boolean {
  const auth: unknown = socket.handshake.auth;
  if (typeof auth !== 'object' || auth === null) return false;
  return typeof (auth as { pid?: unknown }).pid === 'string' && typeof (auth as { offset?: unknown }).offset === 'string';
}
