/**
 * `npx tsx bench/scale-out.ts [--rounds 3] [--only redis|workers]`: the fan-out scenario (1,000 receivers)
 * on one node against two nodes sharing one Redis, and `--workers 1` against `--workers 2`, alternating
 * within each round so that the machine's drift hits both sides of a ratio alike. Prints one row per round
 * and the median ratios; writes nothing. `BENCH_CPU_PROF=<dir>` profiles every server process
 * (bench/systems.ts). The full run (`npm run bench`) measures the same pairs once, in its own tables.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError } from 'commander';
import { fanout, type BenchSizes, type Throughput } from './scenarios.js';
import { processCpuNs, startCluster, startSystem, startWorkers, SYSTEMS, type RunningServer, type SystemSpec } from './systems.js';

const SIZES: BenchSizes = {
  fanoutReceivers: 1000,
  rooms: 0,
  membersPerRoom: 0,
  lobbyPairs: 0,
  warmupMs: 1000,
  measureMs: 5000,
  latencyLoads: [],
};

const program = new Command()
  .option('--rounds <n>', 'alternating rounds', (v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('a positive integer');
    return n;
  })
  .option('--only <pair>', 'redis (one node against two) or workers (--workers 1 against 2)')
  .option('--base <entry>', 'also two nodes of another build (e.g. dist-base/server.js), for an A/B in the same rounds')
  .parse();
const opts = program.opts<{ rounds?: number; only?: string; base?: string }>();
const rounds = opts.rounds ?? 3;

const service = SYSTEMS.find((spec) => spec.name === 'service');
if (!service) throw new Error('no service system');
const spec: SystemSpec = { ...service, args: [...service.args, '--event-rate', '0'] };

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Write syscalls so far of every server process started from this checkout (from /proc/<pid>/io). */
function writeSyscalls(): number {
  let total = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (!readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes('server.js') || readlinkSync(`/proc/${entry}/cwd`) !== root) continue;
      const match = /syscw: (\d+)/.exec(readFileSync(`/proc/${entry}/io`, 'utf8'));
      total += Number(match?.[1] ?? 0);
    } catch {
      // Gone meanwhile.
    }
  }
  return total;
}

async function run(
  start: (spec: SystemSpec) => Promise<RunningServer>,
  entry?: string,
): Promise<Throughput & { writes: number; firstCpuMicros: number }> {
  const server = await start(entry ? { ...spec, args: spec.args.map((arg) => (arg === 'dist/server.js' ? entry : arg)) } : spec);
  // The scenario reads the CPU at the start and the end of its measurement: the write syscalls with it.
  const marks: number[] = [];
  const first: number[] = [];
  const measured: RunningServer = {
    ...server,
    cpuNs: () => {
      marks.push(writeSyscalls());
      first.push(processCpuNs(server.pid));
      return server.cpuNs();
    },
  };
  try {
    const result = await fanout(measured, SIZES);
    const deliveries = result.perSecond * (SIZES.measureMs / 1000);
    return {
      ...result,
      writes: ((marks[1] ?? 0) - (marks[0] ?? 0)) / deliveries,
      firstCpuMicros: ((first[1] ?? 0) - (first[0] ?? 0)) / 1000 / deliveries,
    };
  } finally {
    await server.stop();
  }
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
};
const f = (n: number | undefined, digits = 2): string => (n === undefined || !Number.isFinite(n) ? '—' : n.toFixed(digits));

const redisRatios: number[] = [];
const baseRatios: number[] = [];
const workerRatios: number[] = [];
const baseWorkerRatios: number[] = [];
for (let round = 1; round <= rounds; round++) {
  if (opts.only !== 'workers') {
    const one = await run(startSystem);
    const two = await run((s) => startCluster(s, 2));
    const r = two.perSecond / one.perSecond;
    redisRatios.push(r);
    if (opts.base) {
      const base = await run((s) => startCluster(s, 2), opts.base);
      baseRatios.push(base.perSecond / one.perSecond);
      console.log(
        `round ${round} base: 2 nodes ${f(base.perSecond, 0)}/s ${f(base.cpuMicros)} µs + redis ${f(base.redisCpuMicros)} µs | writes/delivery ${f(base.writes)} | rate ${f(base.perSecond / one.perSecond)}× cpu ${f(base.cpuMicros / one.cpuMicros)}× lost ${base.lost}`,
      );
    }
    console.log(
      `round ${round} redis: 1 node ${f(one.perSecond, 0)}/s ${f(one.cpuMicros)} µs | 2 nodes ${f(two.perSecond, 0)}/s ${f(two.cpuMicros)} µs + redis ${f(two.redisCpuMicros)} µs | writes/delivery ${f(one.writes)} ${f(two.writes)} | rate ${f(r)}× cpu ${f(two.cpuMicros / one.cpuMicros)}× lost ${one.lost + two.lost}`,
    );
  }
  if (opts.only !== 'redis') {
    const one = await run((s) => startWorkers(s, 1));
    const two = await run((s) => startWorkers(s, 2));
    const r = two.perSecond / one.perSecond;
    workerRatios.push(r);
    if (opts.base) {
      const base = await run((s) => startWorkers(s, 2), opts.base);
      baseWorkerRatios.push(base.perSecond / one.perSecond);
      console.log(
        `round ${round} base workers: 2 ${f(base.perSecond, 0)}/s ${f(base.cpuMicros)} µs (primary ${f(base.firstCpuMicros)} µs) | writes/delivery ${f(base.writes)} | rate ${f(base.perSecond / one.perSecond)}× cpu ${f(base.cpuMicros / one.cpuMicros)}× lost ${base.lost}`,
      );
    }
    console.log(
      `round ${round} workers: 1 ${f(one.perSecond, 0)}/s ${f(one.cpuMicros)} µs | 2 ${f(two.perSecond, 0)}/s ${f(two.cpuMicros)} µs (primary ${f(one.firstCpuMicros)} ${f(two.firstCpuMicros)} µs) | writes/delivery ${f(one.writes)} ${f(two.writes)} | rate ${f(r)}× cpu ${f(two.cpuMicros / one.cpuMicros)}× lost ${one.lost + two.lost}`,
    );
  }
}
if (redisRatios.length) console.log(`median 2 nodes ÷ 1 node deliveries/s: ${f(median(redisRatios))}×`);
if (baseRatios.length) console.log(`median 2 nodes (base) ÷ 1 node deliveries/s: ${f(median(baseRatios))}×`);
if (workerRatios.length) console.log(`median --workers 2 ÷ 1 deliveries/s: ${f(median(workerRatios))}×`);
if (baseWorkerRatios.length) console.log(`median --workers 2 (base) ÷ 1 deliveries/s: ${f(median(baseWorkerRatios))}×`);
