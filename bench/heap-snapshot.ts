/**
 * Reads a V8 heap snapshot (`.heapsnapshot`, as `v8.writeHeapSnapshot` writes it) into per-kind totals, so
 * that two snapshots can be compared: what each connection costs, and who holds it.
 */
import { readFileSync } from 'node:fs';

interface SnapshotFile {
  snapshot: { meta: { node_fields: string[]; node_types: [string[]]; edge_fields: string[]; edge_types: [string[]] } };
  nodes: number[];
  edges: number[];
  strings: string[];
}

/** Count and self size of the objects of one kind. */
export interface KindTotal {
  count: number;
  bytes: number;
}

/**
 * Totals by kind: `<type> <name>  <-  <holder type> <holder name>.<edge>`, where the holder is the object
 * that references it (preferring a named property), e.g. `object IncomingMessage  <-  object Socket.request`.
 */
export function readHeapSnapshot(path: string): Map<string, KindTotal> {
  const file = JSON.parse(readFileSync(path, 'utf8')) as SnapshotFile;
  const { meta } = file.snapshot;
  const { nodes, edges, strings } = file;
  const nodeFields = meta.node_fields.length;
  const edgeFields = meta.edge_fields.length;
  const nodeTypes = meta.node_types[0];
  const edgeTypes = meta.edge_types[0];
  const sizeField = meta.node_fields.indexOf('self_size');
  const edgeCountField = meta.node_fields.indexOf('edge_count');
  const count = nodes.length / nodeFields;

  const holder = new Int32Array(count).fill(-1);
  const holderEdge: string[] = new Array<string>(count);
  for (let node = 0, edge = 0; node < count; node++) {
    const end = edge + (nodes[node * nodeFields + edgeCountField] ?? 0) * edgeFields;
    for (; edge < end; edge += edgeFields) {
      const type = edgeTypes[edges[edge] ?? 0] ?? '';
      if (type === 'weak') continue;
      const target = (edges[edge + 2] ?? 0) / nodeFields;
      const nameOrIndex = edges[edge + 1] ?? 0;
      const name = type === 'element' || type === 'hidden' ? `[${nameOrIndex}]` : (strings[nameOrIndex] ?? '');
      if ((holder[target] ?? -1) === -1 || type === 'property') {
        holder[target] = node;
        holderEdge[target] = name;
      }
    }
  }

  const label = (node: number): string => {
    const type = nodeTypes[nodes[node * nodeFields] ?? 0] ?? '?';
    const name =
      type === 'string' || type === 'concatenated string' || type === 'sliced string'
        ? ''
        : (strings[nodes[node * nodeFields + 1] ?? 0] ?? '');
    return `${type} ${name.slice(0, 40)}`.trim();
  };
  const totals = new Map<string, KindTotal>();
  for (let node = 0; node < count; node++) {
    const by = holder[node] ?? -1;
    const key = by < 0 ? label(node) : `${label(node)}  <-  ${label(by)}.${holderEdge[node] ?? ''}`;
    const total = totals.get(key) ?? { count: 0, bytes: 0 };
    total.count++;
    total.bytes += nodes[node * nodeFields + sizeField] ?? 0;
    totals.set(key, total);
  }
  return totals;
}

/** `after - before` per kind, divided by `per` (e.g. the number of connections), largest first. */
export function perUnit(
  before: Map<string, KindTotal>,
  after: Map<string, KindTotal>,
  per: number,
): { kind: string; count: number; bytes: number }[] {
  const rows = [...after].map(([kind, total]) => {
    const base = before.get(kind) ?? { count: 0, bytes: 0 };
    return { kind, count: (total.count - base.count) / per, bytes: (total.bytes - base.bytes) / per };
  });
  return rows.sort((a, b) => b.bytes - a.bytes);
}
