/**
 * `npm run bench`: every scenario against this service and the baselines, in one run on this machine,
 * through the same load generator, then the flood scenario against the service. Prints a table, writes
 * bench/results.json and the results section of BENCHMARKS.md. `--quick` is a smoke test of the harness
 * (tiny sizes, short phases): its figures mean nothing. `--scenario` picks scenarios: `compare` (the
 * scenarios against the baselines), `flood`, `curves` (fan-out by room size and memory by connection
 * count, the service beside plain Socket.IO; five minutes and more, so only when asked for), `soak` (ten
 * minutes, so only when asked for; `--duration` shortens it), `chaos` (two nodes and Redis under cut connections and a `kill -9`, two runs of a minute and
 * more: only when asked for, and only where redis-server is installed), `storm` (the reconnect storm: 8,000
 * clients, a `kill -9` and a restart, the service against plain Socket.IO in three alternating rounds each,
 * then two nodes with one killed; about eight minutes on this machine, so only when asked for); a run of
 * anything but the default `compare,flood` prints its results without writing them.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError } from 'commander';
import { chaos, CHAOS_FULL, CHAOS_QUICK, type ChaosResult, type ChaosSizes } from './chaos.js';
import { chaosTable } from './chaos-table.js';
import { curves, CURVES_FULL, CURVES_QUICK, type CurvesResult, type CurveSizes } from './curves.js';
import { curvesTable } from './curves-table.js';
import { flood, FLOOD_FULL, FLOOD_QUICK, type FloodResult, type FloodSizes } from './flood.js';
import type { PhaseStats } from './room-traffic.js';
import { fanout, latency, lobbySignalling, manyRooms, type BenchSizes, type Latency, type Memory, type Throughput } from './scenarios.js';
import { soak, SOAK_FULL, SOAK_QUICK, type SoakResult, type SoakSizes } from './soak.js';
import { storm, STORM_FULL, STORM_QUICK, type StormResult, type StormSizes } from './storm.js';
import { stormTable } from './storm-table.js';
import { canPin, hasRedis, startCluster, startSystem, startWorkers, SYSTEMS, type RunningServer, type SystemSpec } from './systems.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

const FULL: BenchSizes = {
  fanoutReceivers: 1000,
  rooms: 1000,
  membersPerRoom: 10,
  lobbyPairs: 500,
  warmupMs: 1000,
  measureMs: 5000,
  latencyLoads: [0.25, 0.5, 0.75],
};

/** Tiny sizes for the harness smoke test (CI runs it inside `npm test`). */
export const QUICK: BenchSizes = {
  fanoutReceivers: 20,
  rooms: 10,
  membersPerRoom: 5,
  lobbyPairs: 10,
  warmupMs: 100,
  measureMs: 300,
  latencyLoads: [0.5],
};

/** The scenario groups `--scenario` selects from. */
export type Scenario = 'compare' | 'flood' | 'curves' | 'soak' | 'chaos' | 'storm';

/** What `npm run bench` runs without `--scenario`: everything but the soak, chaos, curves and storm (minutes each). */
export const DEFAULT_SCENARIOS: readonly Scenario[] = ['compare', 'flood'];

const SCENARIOS: readonly Scenario[] = ['compare', 'flood', 'curves', 'soak', 'chaos', 'storm'];

/** What to run besides the sizes of the comparison scenarios. */
export interface RunOptions {
  readonly scenarios?: readonly Scenario[];
  readonly flood?: FloodSizes;
  readonly curves?: CurveSizes;
  readonly soak?: SoakSizes;
  readonly chaos?: ChaosSizes;
  readonly storm?: StormSizes;
  /** The command line recorded in the report. */
  readonly command?: string;
}

/** Everything measured for one system. */
export interface SystemResult {
  fanout: Throughput;
  latency: Latency[];
  manyRooms: Throughput;
  memory: Memory;
  lobby: Throughput;
  /** Median over this system's starts in the run (one per scenario) of the ms from spawn to the open port. */
  startupMs: number;
}

/** What `runBench` produces and results.json holds. */
export interface BenchReport {
  date: string;
  command: string;
  quick: boolean;
  machine: { cpus: number; model: string; memoryGiB: number; node: string; pinned: boolean };
  sizes: BenchSizes;
  referenceMessagesPerSecond: number;
  systems: Record<string, { label: string; result: SystemResult }>;
  /** Fan-out on two service nodes sharing one Redis, next to the single node of the same run. */
  multiNode?: { nodes: number; fanout: Throughput; singleNode: Throughput };
  /** Fan-out through `--workers`: one worker against two, behind the same primary. */
  workers?: { one: Throughput; two: Throughput };
  /** The flood scenario, against the service with its default limits. */
  flood?: FloodResult;
  /** The cost curves: fan-out by room size and memory by connection count, service beside plain Socket.IO. */
  curves?: CurvesResult;
  /** The soak scenario, against the service with its default limits. */
  soak?: SoakResult;
  /** The chaos scenario: two nodes and Redis, with and without connection-state recovery. */
  chaos?: ChaosResult;
  /** The reconnect storm: the service against plain Socket.IO, then two service nodes with one killed. */
  storm?: StormResult;
}

async function withServer<T>(
  spec: SystemSpec,
  run: (server: RunningServer) => Promise<T>,
  start: (spec: SystemSpec) => Promise<RunningServer> = startSystem,
): Promise<T> {
  const server = await start(spec);
  try {
    return await run(server);
  } finally {
    await server.stop();
  }
}

/** Runs every scenario for every system in `systems` and returns the report. */
export async function runBench(
  sizes: BenchSizes,
  systems: readonly SystemSpec[],
  quick: boolean,
  log: (line: string) => void,
  options: RunOptions = {},
): Promise<BenchReport> {
  const scenarios = options.scenarios ?? DEFAULT_SCENARIOS;
  const report: BenchReport = {
    date: new Date().toISOString(),
    command: options.command ?? (quick ? 'npm run bench -- --quick' : 'npm run bench'),
    quick,
    machine: {
      cpus: cpus().length,
      model: cpus()[0]?.model ?? 'unknown',
      memoryGiB: Math.round(totalmem() / 2 ** 30),
      node: process.version,
      pinned: canPin,
    },
    sizes,
    referenceMessagesPerSecond: 0,
    systems: {},
  };
  const service = systems.find((spec) => spec.name === 'service');
  if (scenarios.includes('compare')) await compare(report, sizes, systems, log);
  if (service && scenarios.includes('flood')) {
    log('service: flood');
    report.flood = await withServer(service, (server) => flood(server, options.flood ?? (quick ? FLOOD_QUICK : FLOOD_FULL), log));
  }
  if (scenarios.includes('curves')) {
    report.curves = await curves(systems.map(unthrottled), options.curves ?? (quick ? CURVES_QUICK : CURVES_FULL), log);
  }
  if (service && scenarios.includes('soak')) {
    log('service: soak');
    report.soak = await withServer(service, (server) => soak(server, options.soak ?? (quick ? SOAK_QUICK : SOAK_FULL), log));
  }
  if (scenarios.includes('chaos')) {
    if (!hasRedis) throw new Error('the chaos scenario needs redis-server on the PATH');
    log('service: chaos');
    report.chaos = await chaos(options.chaos ?? (quick ? CHAOS_QUICK : CHAOS_FULL), log);
  }
  if (scenarios.includes('storm')) {
    // The service first, then plain Socket.IO, in turns: the systems of the run that are either.
    const stormSystems = ['service', 'socketio'].flatMap((name) => systems.filter((spec) => spec.name === name));
    report.storm = await storm(stormSystems, options.storm ?? (quick ? STORM_QUICK : STORM_FULL), log);
  }
  return report;
}

/**
 * The service as the comparison scenarios run it: without the per-connection event rate. Their
 * publishers send far above one user's budget on purpose (they measure delivery, not abuse) and the
 * baselines have no such limit; the flood and soak scenarios run the service with every default.
 */
function unthrottled(spec: SystemSpec): SystemSpec {
  return spec.name === 'service' ? { ...spec, args: [...spec.args, '--event-rate', '0'] } : spec;
}

/** The scenarios against every system, then the service's multi-node and `--workers` fan-out. */
async function compare(
  report: BenchReport,
  sizes: BenchSizes,
  measured: readonly SystemSpec[],
  log: (line: string) => void,
): Promise<void> {
  const systems = measured.map(unthrottled);
  for (const spec of systems) {
    // Every scenario starts the system afresh: each start is a sample of its start-up time.
    const starts: number[] = [];
    const timed = async (started: SystemSpec): Promise<RunningServer> => {
      const server = await startSystem(started);
      starts.push(server.startupMs);
      return server;
    };
    log(`${spec.name}: fan-out`);
    const fan = await withServer(spec, (server) => fanout(server, sizes), timed);
    // Latency is measured at the same absolute rates for every system: fractions of the first system's
    // (the plain Socket.IO baseline's) maximum message rate.
    if (report.referenceMessagesPerSecond === 0) report.referenceMessagesPerSecond = fan.perSecond / sizes.fanoutReceivers;
    log(`${spec.name}: latency`);
    const lat = await withServer(spec, (server) => latency(server, sizes, report.referenceMessagesPerSecond), timed);
    log(`${spec.name}: memory and many rooms`);
    const many = await withServer(spec, (server) => manyRooms(server, sizes), timed);
    log(`${spec.name}: lobby signalling`);
    const lobby = await withServer(spec, (server) => lobbySignalling(server, sizes), timed);
    report.systems[spec.name] = {
      label: spec.label,
      result: { fanout: fan, latency: lat, manyRooms: many.throughput, memory: many.memory, lobby, startupMs: median(starts) },
    };
  }
  const service = systems.find((spec) => spec.name === 'service');
  const single = report.systems.service?.result.fanout;
  if (service && single && hasRedis) {
    const nodes = 2;
    log(`service: fan-out on ${nodes} nodes + Redis`);
    const fan = await withServer(
      service,
      (server) => fanout(server, sizes),
      (spec) => startCluster(spec, nodes),
    );
    report.multiNode = { nodes, fanout: fan, singleNode: single };
  }
  if (service) {
    log('service: fan-out with --workers 1 and 2');
    const one = await withServer(
      service,
      (server) => fanout(server, sizes),
      (spec) => startWorkers(spec, 1),
    );
    const two = await withServer(
      service,
      (server) => fanout(server, sizes),
      (spec) => startWorkers(spec, 2),
    );
    report.workers = { one, two };
  }
}

/** The middle value of `values` (the mean of the two middle ones for an even count). */
function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] ?? Number.NaN) : ((sorted[mid - 1] ?? Number.NaN) + (sorted[mid] ?? Number.NaN)) / 2;
}

/** `a ÷ b` as a table cell. */
function ratio(a: number, b: number): string {
  return b > 0 && Number.isFinite(a / b) ? `${(a / b).toFixed(2)}×` : '—';
}

type Row = [label: string, pick: (r: SystemResult) => number, digits: number, better: 'higher' | 'lower'];

function rows(report: BenchReport): Row[] {
  const list: Row[] = [
    ['fan-out: deliveries/s', (r) => r.fanout.perSecond, 0, 'higher'],
    ['fan-out: server CPU µs/delivery', (r) => r.fanout.cpuMicros, 2, 'lower'],
  ];
  report.sizes.latencyLoads.forEach((load, i) => {
    const pct = `${Math.round(load * 100)}%`;
    list.push([`latency @${pct}: p50 ms`, (r) => r.latency[i]?.p50 ?? Number.NaN, 2, 'lower']);
    list.push([`latency @${pct}: p99 ms`, (r) => r.latency[i]?.p99 ?? Number.NaN, 2, 'lower']);
    list.push([`latency @${pct}: p99.9 ms`, (r) => r.latency[i]?.p999 ?? Number.NaN, 2, 'lower']);
    list.push([`latency @${pct}: max ms`, (r) => r.latency[i]?.max ?? Number.NaN, 2, 'lower']);
  });
  list.push(
    ['many rooms: deliveries/s', (r) => r.manyRooms.perSecond, 0, 'higher'],
    ['many rooms: server CPU µs/delivery', (r) => r.manyRooms.cpuMicros, 2, 'lower'],
    ['memory: RSS KB/connection', (r) => r.memory.rssPerConnection / 1024, 2, 'lower'],
    ['memory: heap KB/connection', (r) => r.memory.heapPerConnection / 1024, 2, 'lower'],
    ['connect+JOIN/s', (r) => r.memory.connectsPerSecond, 0, 'higher'],
    ['connect: server CPU µs/connect', (r) => r.memory.connectCpuMicros, 0, 'lower'],
    ['start-up to open port, ms', (r) => r.startupMs, 0, 'lower'],
    ['lobby: RTCSIGNAL msgs/s', (r) => r.lobby.perSecond, 0, 'higher'],
    ['lobby: server CPU µs/msg', (r) => r.lobby.cpuMicros, 2, 'lower'],
    [
      'lost messages (all scenarios)',
      (r) => r.fanout.lost + r.manyRooms.lost + r.lobby.lost + r.latency.reduce((sum, l) => sum + l.lost, 0),
      0,
      'lower',
    ],
  );
  return list;
}

/** The results as a Markdown table: one column per system, then the service's ratio to each baseline. */
export function markdownTable(report: BenchReport): string {
  const names = Object.keys(report.systems);
  const baselines = names.filter((name) => name !== 'service');
  const hasService = names.includes('service');
  const header = ['metric', ...names, ...(hasService ? baselines.map((b) => `service ÷ ${b}`) : [])];
  const lines = names.length ? [`| ${header.join(' | ')} |`, `|${header.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`] : [];
  for (const [label, pick, digits] of names.length ? rows(report) : []) {
    const values = names.map((name) => pick((report.systems[name] as { result: SystemResult }).result));
    const cells = values.map((v) => (Number.isFinite(v) ? v.toFixed(digits) : '—'));
    const service = hasService ? pick((report.systems.service as { result: SystemResult }).result) : Number.NaN;
    const ratios = hasService
      ? baselines.map((b) => {
          const base = pick((report.systems[b] as { result: SystemResult }).result);
          return Number.isFinite(service / base) && base !== 0 ? `${(service / base).toFixed(2)}×` : '—';
        })
      : [];
    lines.push(`| ${[label, ...cells, ...ratios].join(' | ')} |`);
  }
  const multi = report.multiNode;
  if (multi) {
    lines.push(
      '',
      `| service fan-out (receivers spread over the nodes) | 1 node | ${multi.nodes} nodes + Redis | ratio |`,
      '|---|---:|---:|---:|',
      `| deliveries/s | ${multi.singleNode.perSecond.toFixed(0)} | ${multi.fanout.perSecond.toFixed(0)} | ${ratio(multi.fanout.perSecond, multi.singleNode.perSecond)} |`,
      `| server CPU µs/delivery (all nodes) | ${multi.singleNode.cpuMicros.toFixed(2)} | ${multi.fanout.cpuMicros.toFixed(2)} | ${ratio(multi.fanout.cpuMicros, multi.singleNode.cpuMicros)} |`,
      `| redis-server CPU µs/delivery (not pinned, not in the row above) | — | ${num(multi.fanout.redisCpuMicros ?? Number.NaN)} | |`,
      `| nodes + redis-server CPU µs/delivery | ${multi.singleNode.cpuMicros.toFixed(2)} | ${num(multi.fanout.cpuMicros + (multi.fanout.redisCpuMicros ?? Number.NaN))} | ${ratio(multi.fanout.cpuMicros + (multi.fanout.redisCpuMicros ?? Number.NaN), multi.singleNode.cpuMicros)} |`,
      `| lost messages | ${multi.singleNode.lost} | ${multi.fanout.lost} | |`,
    );
  }
  const workers = report.workers;
  if (workers) {
    lines.push(
      '',
      '| service fan-out through `--workers` (all processes on CPU 0) | 1 worker | 2 workers | ratio |',
      '|---|---:|---:|---:|',
      `| deliveries/s | ${workers.one.perSecond.toFixed(0)} | ${workers.two.perSecond.toFixed(0)} | ${ratio(workers.two.perSecond, workers.one.perSecond)} |`,
      `| server CPU µs/delivery (primary and workers) | ${workers.one.cpuMicros.toFixed(2)} | ${workers.two.cpuMicros.toFixed(2)} | ${ratio(workers.two.cpuMicros, workers.one.cpuMicros)} |`,
      `| lost messages | ${workers.one.lost} | ${workers.two.lost} | |`,
    );
  }
  if (report.flood) lines.push(...(lines.length ? [''] : []), floodTable(report.flood));
  if (report.curves) lines.push(...(lines.length ? [''] : []), curvesTable(report.curves));
  if (report.soak) lines.push(...(lines.length ? [''] : []), soakTable(report.soak));
  if (report.chaos) lines.push(...(lines.length ? [''] : []), chaosTable(report.chaos));
  if (report.storm) lines.push(...(lines.length ? [''] : []), stormTable(report.storm));
  return lines.join('\n');
}

/** `value` with `digits` decimals, or a dash. */
function num(value: number, digits = 2): string {
  return Number.isFinite(value) ? value.toFixed(digits) : '—';
}

const FLOOD_LABELS: Record<string, string> = { notify: 'NOTIFY flood', clients: 'CLIENTS flood', 'join-leave': 'JOIN/LEAVE flood' };

/** The flood scenario: one column for the quiet phase, one per flood phase. */
export function floodTable(result: FloodResult): string {
  const { sizes, quiet, quietAfter, floods } = result;
  const head = `flood: ${sizes.clients} clients in rooms of ${sizes.roomSize}, ${sizes.notifiesPerSecond} NOTIFYs/s in all; one flooder`;
  const header = [head, 'quiet', ...floods.map((f) => FLOOD_LABELS[f.kind] ?? f.kind), 'quiet after'];
  const traffic = (label: string, pick: (p: PhaseStats) => string): string =>
    `| ${[label, pick(quiet), ...floods.map((f) => pick(f.traffic)), pick(quietAfter)].join(' | ')} |`;
  const flooder = (label: string, pick: (f: FloodResult['floods'][number]) => string): string =>
    `| ${[label, '—', ...floods.map(pick), '—'].join(' | ')} |`;
  return [
    `| ${header.join(' | ')} |`,
    `|---|${header
      .slice(1)
      .map(() => '---:')
      .join('|')}|`,
    traffic('NOTIFY→EVENT p50 ms', (p) => num(p.p50)),
    `| ${['p50 ÷ quiet p50', '1.00×', ...floods.map((f) => `${num(f.p50Ratio)}×`), `${num(quietAfter.p50 / quiet.p50)}×`].join(' | ')} |`,
    traffic('NOTIFY→EVENT p99 ms', (p) => num(p.p99)),
    `| ${['p99 ÷ quiet p99 (bar: ≤ 2×)', '1.00×', ...floods.map((f) => `${num(f.p99Ratio)}×`), `${num(quietAfter.p99 / quiet.p99)}×`].join(' | ')} |`,
    traffic('worst client p99 ms', (p) => num(p.worstClientP99)),
    traffic('max ms', (p) => num(p.max)),
    traffic('deliveries measured', (p) => String(p.deliveries)),
    traffic('lost EVENTs / failed acks / disconnects', (p) => `${p.lost} / ${p.failedAcks} / ${p.disconnects}`),
    traffic('load generator event-loop lag p99 ms', (p) => num(p.generatorLagP99)),
    flooder('flooder: events sent/s', (f) => num((f.flooder.sent * 1000) / f.flooder.durationMs, 0)),
    flooder(
      'flooder: answered `RATE_LIMITED` (of events sent)',
      (f) => `${f.flooder.rateLimited} (${num((100 * f.flooder.rateLimited) / Math.max(1, f.flooder.sent), 1)} %)`,
    ),
    flooder('flooder: other answers, ok / errors', (f) => `${f.flooder.ok} / ${f.flooder.otherErrors}`),
    flooder(
      'flooder: connections / cut off / refused reconnects',
      (f) => `${f.flooder.connects} / ${f.flooder.disconnects} / ${f.flooder.refusedConnects}`,
    ),
    flooder(
      'server behind after the flood stopped, ms',
      (f) => `${num(f.flooder.backlogMs, 0)}${f.flooder.drained ? '' : ' (not drained)'}`,
    ),
  ].join('\n');
}

const MB = 2 ** 20;

/** The soak scenario: its figures and its verdict. */
export function soakTable(result: SoakResult): string {
  const { sizes } = result;
  const minutes = num(sizes.durationMs / 60_000, 1);
  const errors = Object.entries(result.failures)
    .map(([code, count]) => `${code} × ${count}`)
    .join(', ');
  return [
    `| soak: ${sizes.clients} connections in rooms of ${sizes.roomSize}, ${minutes} min | |`,
    '|---|---:|',
    `| deliveries/s soaked at | ${num(result.targetPerSecond, 0)}${Number.isFinite(result.capacityPerSecond) ? ` (${num(sizes.load * 100, 0)} % of the many-rooms maximum just measured, ${num(result.capacityPerSecond, 0)})` : ' (fixed)'} |`,
    `| RSS median, first → last third after ${num(sizes.warmupFraction * 100, 0)} % warm-up | ${num(result.rssFirstThird / MB, 1)} → ${num(result.rssLastThird / MB, 1)} MB (${num(result.rssGrowth * 100, 1)} %, margin ${num(sizes.rssMargin * 100, 0)} %) |`,
    `| heap median, first → last third | ${num(result.heapFirstThird / MB, 1)} → ${num(result.heapLastThird / MB, 1)} MB (${num(result.heapGrowth * 100, 1)} %) |`,
    `| deliveries/s achieved | ${num(result.deliveriesPerSecond, 0)} |`,
    `| NOTIFY→EVENT p50 / p99 / max ms | ${num(result.p50)} / ${num(result.p99)} / ${num(result.max)} |`,
    `| server CPU µs/delivery | ${num(result.cpuMicros)} |`,
    `| failed acks / disconnects / lost EVENTs | ${result.failedAcks}${errors ? ` (${errors})` : ''} / ${result.disconnects} / ${result.lost} |`,
    `| first interval with an error ended at | ${Number.isFinite(result.firstErrorAtMs) ? `${num(result.firstErrorAtMs / 1000, 0)} s` : '—'} |`,
    `| load generator event-loop lag, worst interval p99 ms | ${num(result.worstGeneratorLagP99)} |`,
    `| memory samples | ${result.samples.length}, every ${num(sizes.sampleMs / 1000, 0)} s |`,
    `| result | ${result.passed ? 'pass' : 'FAIL'} |`,
  ].join('\n');
}

function describeRun(report: BenchReport): string {
  const m = report.machine;
  const machine =
    `Run ${report.date} with \`${report.command}\` on ${m.cpus} × ${m.model}, ${m.memoryGiB} GiB, Node ${m.node}; ` +
    (m.pinned ? 'servers pinned to CPU 0, load generator to CPU 1.' : 'not pinned (no taskset).');
  if (Object.keys(report.systems).length === 0) return machine;
  return [
    machine,
    `Sizes: fan-out ${report.sizes.fanoutReceivers} receivers; many rooms ${report.sizes.rooms} × ${report.sizes.membersPerRoom}; ` +
      `lobby ${report.sizes.lobbyPairs} pairs; ${report.sizes.measureMs} ms measured after ${report.sizes.warmupMs} ms warm-up. ` +
      `Latency rates are fractions of the plain Socket.IO baseline's maximum, ${report.referenceMessagesPerSecond.toFixed(0)} messages/s.`,
  ].join('\n');
}

const START = '<!-- results:start -->';
const END = '<!-- results:end -->';

function updateBenchmarksMd(report: BenchReport): void {
  const file = join(root, 'BENCHMARKS.md');
  const text = readFileSync(file, 'utf8');
  const start = text.indexOf(START);
  const end = text.indexOf(END);
  if (start < 0 || end < start) throw new Error(`BENCHMARKS.md lacks the ${START} … ${END} markers`);
  writeFileSync(file, `${text.slice(0, start + START.length)}\n${describeRun(report)}\n\n${markdownTable(report)}\n${text.slice(end)}`);
}

function parseScenarios(value: string): Scenario[] {
  const names = value.split(',');
  const known = (name: string): name is Scenario => (SCENARIOS as readonly string[]).includes(name);
  const unknown = names.filter((name) => !known(name));
  if (unknown.length) throw new InvalidArgumentError(`unknown scenario ${unknown.join(', ')}: choose from ${SCENARIOS.join(', ')}`);
  return names.filter(known);
}

function parsePositive(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('must be a positive number');
  return n;
}

/**
 * Re-runs this process under `taskset -c 1` so that the load generator keeps off the servers' CPU 0.
 * Returns true when the caller should stop (the pinned child did the work).
 */
function pinSelf(): boolean {
  if (!canPin || process.env.BENCH_PINNED === '1') return false;
  const result = spawnSync('taskset', ['-c', '1', process.execPath, ...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, BENCH_PINNED: '1' },
  });
  process.exitCode = result.status ?? 1;
  return true;
}

async function main(): Promise<void> {
  if (pinSelf()) return;
  const program = new Command('bench')
    .option('--quick', 'tiny sizes and short phases: a smoke test of the harness, not a measurement')
    .option('--systems <names>', `comma-separated subset of ${SYSTEMS.map((s) => s.name).join(', ')}`)
    .option('--receivers <n>', 'fan-out receivers', (v) => Number(v))
    .option('--no-write', 'do not write bench/results.json and BENCHMARKS.md')
    .option(
      '--scenario <names>',
      `comma-separated subset of ${SCENARIOS.join(', ')} (default ${DEFAULT_SCENARIOS.join(',')})`,
      parseScenarios,
    )
    .option('--duration <seconds>', 'how long the soak runs (default 600)', parsePositive)
    .option('--rate <deliveries>', 'soak at this many deliveries/s instead of half the many-rooms maximum', parsePositive)
    .parse();
  const opts = program.opts<{
    quick?: boolean;
    systems?: string;
    receivers?: number;
    write: boolean;
    scenario?: Scenario[];
    duration?: number;
    rate?: number;
  }>();
  const quick = opts.quick === true;
  const sizes: BenchSizes = { ...(quick ? QUICK : FULL), ...(opts.receivers ? { fanoutReceivers: opts.receivers } : {}) };
  const wanted = opts.systems?.split(',');
  const systems = wanted ? SYSTEMS.filter((s) => wanted.includes(s.name)) : SYSTEMS;
  const scenarios = opts.scenario ?? DEFAULT_SCENARIOS;
  const soakBase = quick ? SOAK_QUICK : SOAK_FULL;
  const args = process.argv.slice(2);
  const report = await runBench(sizes, systems, quick, (line) => process.stderr.write(`… ${line}\n`), {
    scenarios,
    soak: {
      ...soakBase,
      ...(opts.duration ? { durationMs: opts.duration * 1000 } : {}),
      ...(opts.rate ? { deliveriesPerSecond: opts.rate } : {}),
    },
    command: args.length ? `npm run bench -- ${args.join(' ')}` : 'npm run bench',
  });
  process.stdout.write(`\n${describeRun(report)}\n\n${markdownTable(report)}\n`);
  const partial = scenarios.join(',') !== DEFAULT_SCENARIOS.join(',');
  if (partial && opts.write && !quick) process.stderr.write('… not written: a run of chosen scenarios only prints its results\n');
  if (opts.write && !quick && !partial) {
    writeFileSync(join(root, 'bench/results.json'), `${JSON.stringify(report, null, 2)}\n`);
    updateBenchmarksMd(report);
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((err: unknown) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
}
