/**
 * The reconnect storm's results as a Markdown table: one column per system (the median of its rounds), the
 * service's ratio to each other system, then the cluster form.
 */
import type { StormResult, StormRound } from './storm.js';

function num(value: number, digits = 0): string {
  return Number.isFinite(value) ? value.toFixed(digits) : '—';
}

function seconds(ms: number): string {
  return num(ms / 1000, 2);
}

function ratioCell(a: number, b: number): string {
  return b > 0 && Number.isFinite(a / b) ? `${(a / b).toFixed(2)}×` : '';
}

type Row = [label: string, cell: (r: StormRound) => string, value?: (r: StormRound) => number];

const ROWS: readonly Row[] = [
  ['clients on the killed process', (r) => `${num(r.killedClients)} of ${num(r.clients)}`],
  ['kill → port open again, s', (r) => seconds(r.portOpenMs), (r) => r.portOpenMs],
  ['kill → half of them back (JOIN acknowledged), s', (r) => seconds(r.halfBackMs), (r) => r.halfBackMs],
  ['**kill → everyone back, s** (target: ≤ 0.5× plain Socket.IO)', (r) => seconds(r.allBackMs), (r) => r.allBackMs],
  ['back by the deadline', (r) => `${num(r.back)} of ${num(r.clients)}`],
  ['connection attempts after the kill', (r) => num(r.attempts), (r) => r.attempts],
  [
    'failed: refused / reset / timed out / HTTP error / other',
    (r) =>
      `${num(r.failures.refused)} / ${num(r.failures.reset)} / ${num(r.failures.timeout)} / ${num(r.failures.rejected)} / ${num(r.failures.other)}`,
  ],
  ['one NOTIFY afterwards reached', (r) => `${num(r.broadcastReached)} of ${num(r.clients)}`],
  [
    'kernel, whole machine: listen overflows / listen drops / TCP retransmits',
    (r) => (r.tcp ? `${num(r.tcp.listenOverflows)} / ${num(r.tcp.listenDrops)} / ${num(r.tcp.retransSegs)}` : '—'),
  ],
];

/** The storm scenario's table. */
export function stormTable(result: StormResult): string {
  const { sizes, medians, cluster } = result;
  const names = Object.keys(medians);
  const others = names.includes('service') ? names.filter((name) => name !== 'service') : [];
  const columns = names.map((name) => medians[name] as StormRound);
  const service = medians.service;
  const p = sizes.policy;
  const head =
    `reconnect storm: ${sizes.clients} clients in one \`/layout\` room, \`kill -9\` and restart on the same port; ` +
    `first attempt within 0–${num(p.firstDelayMs / 1000, 1)} s, then ${num(p.reconnectionDelayMs / 1000, 2)} s doubling to ` +
    `${num(p.reconnectionDelayMaxMs / 1000, 1)} s ± ${num(p.randomizationFactor * 100)} %; median of ${sizes.rounds} alternating round(s)`;
  const header = [
    head,
    ...names,
    ...others.map((o) => `service ÷ ${o}`),
    ...(cluster ? ['2 service nodes + Redis, node 2 killed for good'] : []),
  ];
  const lines = [
    `| ${header.join(' | ')} |`,
    `|---|${header
      .slice(1)
      .map(() => '---:')
      .join('|')}|`,
  ];
  for (const [label, cell, value] of ROWS) {
    const ratios = others.map((o) => {
      const other = medians[o];
      return value && service && other ? ratioCell(value(service), value(other)) : '';
    });
    lines.push(`| ${[label, ...columns.map(cell), ...ratios, ...(cluster ? [cell(cluster)] : [])].join(' | ')} |`);
  }
  const perRound = names.map((name) =>
    result.rounds
      .filter((r) => r.system === name)
      .map((r) => seconds(r.allBackMs))
      .join(', '),
  );
  lines.push(
    `| everyone back, each round, s | ${[...perRound, ...others.map(() => ''), ...(cluster ? [seconds(cluster.allBackMs)] : [])].join(' | ')} |`,
  );
  return lines.join('\n');
}
