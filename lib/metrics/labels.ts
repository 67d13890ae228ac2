import { ForwardingEvents, NamespaceEvents, Namespaces, SiteEvents } from '../../protocol/index.js';
import type { AccessConfig } from '../config/access.js';

/** The label of everything outside the closed sets below: a namespace nobody configured, an event outside the protocol. */
export const OTHER = 'other';

/** One namespace label and the event names its protocol has each way (every other name is {@link OTHER}). */
export interface NamespaceLabel {
  readonly label: string;
  /** What clients send. */
  readonly events: readonly string[];
  /** What the service sends. */
  readonly sent: readonly string[];
}

/**
 * The closed set of namespace labels: the built-ins, one per site, one per forwarding entry. A prefix entry
 * is one label (`/do-*`) for all of its children, so that a client naming a new `/do-<x>` never adds a series.
 */
export class NamespaceLabels {
  readonly #exact = new Map<string, NamespaceLabel>();
  readonly #prefixes: { readonly prefix: string; readonly label: NamespaceLabel }[] = [];

  constructor(access: Pick<AccessConfig, 'sites' | 'forwarding'>) {
    for (const name of Object.values(Namespaces)) this.#exact.set(name, { label: name, ...protocolOf(NamespaceEvents[name]) });
    for (const site of access.sites) this.#exact.set(site.namespace, { label: site.namespace, ...protocolOf(SiteEvents) });
    for (const entry of access.forwarding ?? []) {
      if (entry.kind === 'namespace') {
        this.#exact.set(entry.namespace, { label: entry.namespace, ...protocolOf(ForwardingEvents) });
      } else {
        this.#prefixes.push({ prefix: `/${entry.prefix}`, label: { label: `/${entry.prefix}*`, ...protocolOf(ForwardingEvents) } });
      }
    }
  }

  /** Every label, for series that exist from the start (a gauge at 0 rather than absent). */
  all(): NamespaceLabel[] {
    return [...this.#exact.values(), ...this.#prefixes.map((entry) => entry.label)];
  }

  /** The label of the namespace named `name` (a child's is its prefix entry's); {@link OTHER} for any other. */
  of(name: string): NamespaceLabel {
    const exact = this.#exact.get(name);
    if (exact) return exact;
    for (const entry of this.#prefixes) if (name.startsWith(entry.prefix)) return entry.label;
    return { label: OTHER, events: [], sent: [] };
  }
}

/** A protocol's event names each way, as the label's closed sets. */
function protocolOf(events: {
  readonly clientToServer: readonly string[];
  readonly serverToClient: readonly string[];
}): Omit<NamespaceLabel, 'label'> {
  return { events: events.clientToServer, sent: events.serverToClient };
}
