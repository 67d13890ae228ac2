/**
 * The cost-curves scenario's two Markdown tables: fan-out by room size, memory by connection count, the
 * service and plain Socket.IO side by side with their ratio.
 */
import type { CurvePoint, CurvesResult, MemoryPoint } from './curves.js';

const KB = 1024;
const MB = 2 ** 20;

function num(value: number, digits: number): string {
  return Number.isFinite(value) ? value.toFixed(digits) : '—';
}

function ratio(a: number, b: number): string {
  return b !== 0 && Number.isFinite(a / b) ? `${(a / b).toFixed(2)}×` : '—';
}

function row(cells: readonly string[]): string {
  return `| ${cells.join(' | ')} |`;
}

function rule(columns: number): string {
  return `|---|${Array.from({ length: columns - 1 }, () => '---:').join('|')}|`;
}

/** `service`, `socketio` and `service ÷ socketio` cells of one figure. */
function sideBySide(service: number, socketio: number, digits: number): string[] {
  return [num(service, digits), num(socketio, digits), ratio(service, socketio)];
}

function fanoutTable(result: CurvesResult): string {
  const service = result.systems.service?.fanout ?? [];
  const socketio = result.systems.socketio?.fanout ?? [];
  const at = (points: readonly CurvePoint[], members: number): CurvePoint | undefined => points.find((p) => p.members === members);
  const pick = (p: CurvePoint | undefined, f: (p: CurvePoint) => number): number => (p ? f(p) : Number.NaN);
  const header = [
    'fan-out to one room of',
    'in flight',
    'service deliveries/s',
    'socketio deliveries/s',
    'ratio',
    'service CPU µs/delivery',
    'socketio CPU µs/delivery',
    'ratio',
    'service messages/s',
    'socketio messages/s',
    'server busy (service / socketio)',
    'server writes/delivery (service / socketio)',
    'lost',
  ];
  const lines = [row(header), rule(header.length)];
  for (const members of result.sizes.roomSizes) {
    const a = at(service, members);
    const b = at(socketio, members);
    lines.push(
      row([
        String(members),
        String(a?.window ?? b?.window ?? '—'),
        ...sideBySide(
          pick(a, (p) => p.perSecond),
          pick(b, (p) => p.perSecond),
          0,
        ),
        ...sideBySide(
          pick(a, (p) => p.cpuMicros),
          pick(b, (p) => p.cpuMicros),
          2,
        ),
        num(
          pick(a, (p) => p.publishedPerSecond),
          0,
        ),
        num(
          pick(b, (p) => p.publishedPerSecond),
          0,
        ),
        `${num(
          pick(a, (p) => p.serverBusy * 100),
          0,
        )} % / ${num(
          pick(b, (p) => p.serverBusy * 100),
          0,
        )} %`,
        `${num(
          pick(a, (p) => p.writesPerDelivery),
          2,
        )} / ${num(
          pick(b, (p) => p.writesPerDelivery),
          2,
        )}`,
        `${pick(a, (p) => p.lost)} / ${pick(b, (p) => p.lost)}`,
      ]),
    );
  }
  return lines.join('\n');
}

/** `(x(n) − x(from)) ÷ (n − from)` in KB. */
function slope(points: readonly MemoryPoint[], from: number, to: number, pick: (p: MemoryPoint) => number): number {
  const a = points.find((p) => p.connections === from);
  const b = points.find((p) => p.connections === to);
  return a && b && to > from ? (pick(b) - pick(a)) / (to - from) / KB : Number.NaN;
}

function memoryTable(result: CurvesResult): string {
  const service = result.systems.service?.memory ?? [];
  const socketio = result.systems.socketio?.memory ?? [];
  const header = [
    'idle JOINed connections (rooms of 10)',
    'service RSS KB/conn',
    'socketio RSS KB/conn',
    'ratio',
    'service heap KB/conn',
    'socketio heap KB/conn',
    'ratio',
  ];
  const empty = (points: readonly MemoryPoint[], pick: (p: MemoryPoint) => number): number => {
    const point = points.find((p) => p.connections === 0);
    return point ? pick(point) / MB : Number.NaN;
  };
  const rss = (p: MemoryPoint): number => p.rss;
  const heap = (p: MemoryPoint): number => p.heapUsed;
  const lines = [
    row(header),
    rule(header.length),
    row([
      '0: the empty server, MB (not per connection)',
      ...sideBySide(empty(service, rss), empty(socketio, rss), 1),
      ...sideBySide(empty(service, heap), empty(socketio, heap), 1),
    ]),
  ];
  const counts = result.sizes.connectionCounts;
  for (const n of counts) {
    lines.push(
      row([
        `${n}: (x(${n}) − x(0)) ÷ ${n}`,
        ...sideBySide(slope(service, 0, n, rss), slope(socketio, 0, n, rss), 2),
        ...sideBySide(slope(service, 0, n, heap), slope(socketio, 0, n, heap), 2),
      ]),
    );
  }
  counts.forEach((n, i) => {
    const previous = counts[i - 1];
    if (previous === undefined) return;
    lines.push(
      row([
        `step ${previous} → ${n}: (x(${n}) − x(${previous})) ÷ ${n - previous}`,
        ...sideBySide(slope(service, previous, n, rss), slope(socketio, previous, n, rss), 2),
        ...sideBySide(slope(service, previous, n, heap), slope(socketio, previous, n, heap), 2),
      ]),
    );
  });
  return lines.join('\n');
}

/** Both tables of the curves scenario, separated by a blank line. */
export function curvesTable(result: CurvesResult): string {
  return `${fanoutTable(result)}\n\n${memoryTable(result)}`;
}
