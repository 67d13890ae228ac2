import { Counter, Gauge, type Registry } from 'prom-client';
import type { Namespace, Socket } from 'socket.io';
import { ErrorCode } from '../../protocol/index.js';
import type { ServiceHooks } from '../core/types.js';
import { OTHER, type NamespaceLabels } from './labels.js';

/** The metrics' prefix (lib/metrics/registry.ts owns it; passed in so that this file does not import that one). */
type Prefix = string;

/** One namespace label's series, made once: an event costs a WeakMap and a Map lookup and an increment, no label hashing. */
interface NamespaceSeries {
  readonly connections: Gauge.Internal<'namespace'>;
  readonly events: ReadonlyMap<string, Counter.Internal>;
  readonly otherEvents: Counter.Internal;
}

/**
 * The metrics of the namespaces' sockets, fed by the hooks only: connections per namespace (a gauge),
 * events in per namespace and event name, failed requests per error code, and connection-state
 * recoveries. Every label is from a closed set ({@link NamespaceLabels}, the protocol's event names,
 * the error codes): never a room, a user, a socket id or a name a client made up.
 */
export function countSockets(hooks: ServiceHooks, labels: NamespaceLabels, registry: Registry, prefix: Prefix): void {
  const connections = new Gauge({
    name: `${prefix}connections`,
    help: 'Sockets connected now, by namespace (the children of a forwarding prefix under the prefix, /do-*).',
    labelNames: ['namespace'] as const,
    registers: [registry],
  });
  const eventsIn = new Counter({
    name: `${prefix}events_in_total`,
    help: 'Events clients sent that passed the event-rate limit, by namespace and event name (names outside the protocol: other).',
    labelNames: ['namespace', 'event'] as const,
    registers: [registry],
  });
  const errors = new Counter({
    name: `${prefix}errors_total`,
    help: 'Failed requests (an ack with ok: false, or an ERROR event), by error code.',
    labelNames: ['code'] as const,
    registers: [registry],
  });
  const recoveries = new Counter({
    name: `${prefix}recoveries_total`,
    help: 'Socket.IO v4 reconnects that asked for connection-state recovery: recovered, or given a new session.',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });

  const byLabel = new Map<string, NamespaceSeries>();
  const seriesOfLabel = (name: string): NamespaceSeries => {
    const { label, events } = labels.of(name);
    let series = byLabel.get(label);
    if (!series) {
      series = {
        connections: connections.labels({ namespace: label }),
        events: new Map(events.map((event) => [event, zero(eventsIn.labels({ namespace: label, event }))])),
        otherEvents: zero(eventsIn.labels({ namespace: label, event: OTHER })),
      };
      byLabel.set(label, series);
    }
    return series;
  };
  // Every configured namespace and code has its series from the start: a dashboard sees 0, not "no data".
  for (const { label } of labels.all()) seriesOfLabel(label).connections.set(0);
  const errorSeries = new Map(Object.values(ErrorCode).map((code) => [code, zero(errors.labels({ code }))]));
  const recovered = zero(recoveries.labels({ outcome: 'recovered' }));
  const newSession = zero(recoveries.labels({ outcome: 'new_session' }));

  // By namespace object: a child namespace (/do-a) is looked up by name once, not per event.
  const byNamespace = new WeakMap<Namespace, NamespaceSeries>();
  const seriesOf = (nsp: Namespace): NamespaceSeries => {
    let series = byNamespace.get(nsp);
    if (!series) {
      series = seriesOfLabel(nsp.name);
      byNamespace.set(nsp, series);
    }
    return series;
  };

  hooks.on('connection', (socket: Socket) => {
    seriesOf(socket.nsp).connections.inc();
    if (socket.recovered) recovered.inc();
    else if (askedForRecovery(socket)) newSession.inc();
  });
  hooks.on('disconnect', (socket: Socket) => seriesOf(socket.nsp).connections.dec());
  hooks.use((socket, event) => {
    const series = seriesOf(socket.nsp);
    (series.events.get(event) ?? series.otherEvents).inc();
  });
  hooks.on('failure', (_socket, code) => errorSeries.get(code)?.inc());
}

/** Makes `series` show (at 0) before its first count: prom-client prints a labelled series only once it has a value. */
function zero(series: Counter.Internal): Counter.Internal {
  series.inc(0);
  return series;
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
