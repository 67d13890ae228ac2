import { ForwardingEvents, NamespaceEvents, Namespaces, SiteEvents } from '../../protocol/index.js';
import type { AccessConfig } from '../config/access.js';

/** The label of everything outside the closed sets below: a namespace nobody configured, an event outside the protocol. */
export const OTHER = 'other';

/** One namespace label and the client-to-server event names its protocol has (every other name is {@link OTHER}). */
export interface NamespaceLabel {
  readonly label: string;
  readonly events: readonly string[];
}

/**
 * The closed set of namespace labels: the built-ins, one per site, one per forwarding entry. A prefix entry
 * is one label (`/do-*`) for all of its children, so that a client naming a new `/do-<x>` never adds a series.
 */
export class NamespaceLabels {
  readonly #exact = new Map<string, NamespaceLabel>();
  readonly #prefixes: { readonly prefix: string; readonly label: NamespaceLabel }[] = [];

  constructor(access: Pick<AccessConfig, 'sites' | 'forwarding'>) {
    for (const name of Object.values(Namespaces)) this.#exact.set(name, { label: name, events: NamespaceEvents[name].clientToServer });
    for (const site of access.sites) this.#exact.set(site.namespace, { label: site.namespace, events: SiteEvents.clientToServer });
    for (const entry of access.forwarding ?? []) {
      if (entry.kind === 'namespace') {
        this.#exact.set(entry.namespace, { label: entry.namespace, events: ForwardingEvents.clientToServer });
      } else {
        this.#prefixes.push({ prefix: `/${entry.prefix}`, label: { label: `/${entry.prefix}*`, events: ForwardingEvents.clientToServer } });
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
    return { label: OTHER, events: [] };
  }
}
