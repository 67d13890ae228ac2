/**
 * `npm run bench`: every scenario against this service and the baselines, in one run on this machine,
 * through the same load generator. Prints a table, writes bench/results.json and the results section of
 * BENCHMARKS.md. `--quick` is a smoke test of the harness (tiny sizes, short phases): its figures mean nothing.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { fanout, latency, lobbySignalling, manyRooms, type BenchSizes, type Latency, type Memory, type Throughput } from './scenarios.js';
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

/** Everything measured for one system. */
export interface SystemResult {
  fanout: Throughput;
  latency: Latency[];
  manyRooms: Throughput;
  memory: Memory;
  lobby: Throughput;
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
): Promise<BenchReport> {
  const report: BenchReport = {
    date: new Date().toISOString(),
    command: quick ? 'npm run bench -- --quick' : 'npm run bench',
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
  for (const spec of systems) {
    log(`${spec.name}: fan-out`);
    const fan = await withServer(spec, (server) => fanout(server, sizes));
    // Latency is measured at the same absolute rates for every system: fractions of the first system's
    // (the plain Socket.IO baseline's) maximum message rate.
    if (report.referenceMessagesPerSecond === 0) report.referenceMessagesPerSecond = fan.perSecond / sizes.fanoutReceivers;
    log(`${spec.name}: latency`);
    const lat = await withServer(spec, (server) => latency(server, sizes, report.referenceMessagesPerSecond));
    log(`${spec.name}: memory and many rooms`);
    const many = await withServer(spec, (server) => manyRooms(server, sizes));
    log(`${spec.name}: lobby signalling`);
    const lobby = await withServer(spec, (server) => lobbySignalling(server, sizes));
    report.systems[spec.name] = {
      label: spec.label,
      result: { fanout: fan, latency: lat, manyRooms: many.throughput, memory: many.memory, lobby },
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
  return report;
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
  const lines = [`| ${header.join(' | ')} |`, `|${header.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`];
  for (const [label, pick, digits] of rows(report)) {
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
  return lines.join('\n');
}

function describeRun(report: BenchReport): string {
  const m = report.machine;
  return [
    `Run ${report.date} with \`${report.command}\` on ${m.cpus} × ${m.model}, ${m.memoryGiB} GiB, Node ${m.node}; ` +
      (m.pinned ? 'servers pinned to CPU 0, load generator to CPU 1.' : 'not pinned (no taskset).'),
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
    .parse();
  const opts = program.opts<{ quick?: boolean; systems?: string; receivers?: number; write: boolean }>();
  const quick = opts.quick === true;
  const sizes: BenchSizes = { ...(quick ? QUICK : FULL), ...(opts.receivers ? { fanoutReceivers: opts.receivers } : {}) };
  const wanted = opts.systems?.split(',');
  const systems = wanted ? SYSTEMS.filter((s) => wanted.includes(s.name)) : SYSTEMS;
  const report = await runBench(sizes, systems, quick, (line) => process.stderr.write(`… ${line}\n`));
  process.stdout.write(`\n${describeRun(report)}\n\n${markdownTable(report)}\n`);
  if (opts.write && !quick) {
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
