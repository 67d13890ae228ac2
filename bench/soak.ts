/**
 * The soak scenario: the many-rooms shape (rooms of ten) at half the service's many-rooms capacity,
 * measured first on the same server in the same run (a shared machine's capacity moves with the load of
 * others, as the latency scenario's rates are fractions of a maximum of the same run), for a long time, sampling the server's memory at a fixed interval and counting every error
 * a client would see. It passes when RSS is flat after the warm-up and nothing failed. Not part of the
 * default run (it takes ten minutes): `npm run bench -- --scenario soak [--duration <s>]`.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { RoomTraffic } from './room-traffic.js';
import { manyRooms, type BenchSizes } from './scenarios.js';
import type { RunningServer } from './systems.js';

/** Sizes and durations of a soak run. */
export interface SoakSizes {
  readonly clients: number;
  readonly roomSize: number;
  /**
   * The fraction of the many-rooms scenario's maximum deliveries/s (measured just before, on the same
   * server, with the same connections and rooms) to soak at.
   */
  readonly load: number;
  /** A fixed rate of deliveries per second instead of {@link load}'s (`--rate`). */
  readonly deliveriesPerSecond?: number;
  readonly durationMs: number;
  /** How often the server's memory is sampled (each sample forces two GCs in the server, as the memory scenario does). */
  readonly sampleMs: number;
  /** The fraction of the run at its start that is warm-up, left out of the flatness check. */
  readonly warmupFraction: number;
  /** How much the last third's median RSS may exceed the first third's (after the warm-up), as a fraction. */
  readonly rssMargin: number;
}

/**
 * 10,000 connections in 1,000 rooms of ten (the memory and many-rooms scenarios' connections) at half the
 * many-rooms maximum: on a quiet machine (40,959 deliveries/s in BENCHMARKS.md) about 20,000 deliveries/s,
 * 2,222 NOTIFYs/s, each client one NOTIFY every 4.5 s. Ten minutes, a sample every 10 s.
 */
export const SOAK_FULL: SoakSizes = {
  clients: 10_000,
  roomSize: 10,
  load: 0.5,
  durationMs: 600_000,
  sampleMs: 10_000,
  warmupFraction: 0.1,
  rssMargin: 0.1,
};

/** Tiny sizes for the harness smoke test. */
export const SOAK_QUICK: SoakSizes = {
  clients: 20,
  roomSize: 5,
  load: 0.5,
  // A fixed small rate: the maximum of five rooms means nothing.
  deliveriesPerSecond: 80,
  durationMs: 3000,
  sampleMs: 500,
  warmupFraction: 0.1,
  rssMargin: 0.1,
};

/** One memory sample and the traffic of the interval it closes. */
export interface SoakSample {
  /** Since the traffic started, ms. */
  atMs: number;
  rss: number;
  heapUsed: number;
  deliveries: number;
  p99: number;
  /** Errors of the interval's NOTIFYs: failed or missing acks, EVENTs that never came, clients cut off. */
  errors: number;
  /** The load generator's event-loop delay p99 in the interval, ms: high means the generator, not the server, fell behind. */
  generatorLagP99: number;
}

/** What the soak measured and whether it passed. */
export interface SoakResult {
  sizes: SoakSizes;
  /** The many-rooms maximum measured before the soak (NaN with a fixed rate). */
  capacityPerSecond: number;
  /** The rate soaked at: `load × capacityPerSecond`, or the fixed rate. */
  targetPerSecond: number;
  samples: SoakSample[];
  /** Median RSS of the first and the last third of the samples after the warm-up, bytes. */
  rssFirstThird: number;
  rssLastThird: number;
  /** `rssLastThird / rssFirstThird - 1`. */
  rssGrowth: number;
  heapFirstThird: number;
  heapLastThird: number;
  heapGrowth: number;
  deliveries: number;
  deliveriesPerSecond: number;
  p50: number;
  p99: number;
  max: number;
  /** Server CPU per delivery over the whole run, µs. */
  cpuMicros: number;
  failedAcks: number;
  /** The failed acks by error code. */
  failures: Record<string, number>;
  disconnects: number;
  lost: number;
  /** When the first interval with an error closed, ms since the start; NaN when there was none. */
  firstErrorAtMs: number;
  /** The highest per-interval p99 of the load generator's event-loop delay, ms. */
  worstGeneratorLagP99: number;
  passed: boolean;
}

/** The many-rooms phase that measures the capacity: the full run's warm-up and measuring time. */
const PROBE: BenchSizes = {
  fanoutReceivers: 0,
  rooms: 0,
  membersPerRoom: 0,
  lobbyPairs: 0,
  warmupMs: 1000,
  measureMs: 5000,
  latencyLoads: [],
};

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? Number.NaN) : ((sorted[mid - 1] ?? Number.NaN) + (sorted[mid] ?? Number.NaN)) / 2;
}

/** Thirds of the samples after the warm-up: the medians of the first and the last third of `pick`. */
function thirds(samples: readonly SoakSample[], pick: (s: SoakSample) => number): { first: number; last: number } {
  const third = Math.max(1, Math.floor(samples.length / 3));
  return { first: median(samples.slice(0, third).map(pick)), last: median(samples.slice(-third).map(pick)) };
}

/** Runs the soak against `server`. */
export async function soak(server: RunningServer, sizes: SoakSizes, log: (line: string) => void = () => undefined): Promise<SoakResult> {
  let capacityPerSecond = Number.NaN;
  if (sizes.deliveriesPerSecond === undefined) {
    log('soak: measuring the many-rooms maximum first');
    const probe = await manyRooms(server, { ...PROBE, rooms: Math.ceil(sizes.clients / sizes.roomSize), membersPerRoom: sizes.roomSize });
    capacityPerSecond = probe.throughput.perSecond;
  }
  const targetPerSecond = sizes.deliveriesPerSecond ?? sizes.load * capacityPerSecond;
  log(`soak: ${targetPerSecond.toFixed(0)} deliveries/s`);
  const notifiesPerSecond = targetPerSecond / (sizes.roomSize - 1);
  const traffic = await RoomTraffic.start(
    server,
    { clients: sizes.clients, roomSize: sizes.roomSize, notifiesPerSecond, perClient: false },
    'soak',
  );
  const start = performance.now();
  const cpu0 = server.cpuNs();
  const memory: Array<{ atMs: number; rss: number; heapUsed: number }> = [];
  let window = 0;
  traffic.begin(`w${window}`);
  // Samples are due at multiples of sampleMs from the start, so a slow GC does not shift the later ones.
  for (let due = sizes.sampleMs; due <= sizes.durationMs; due += sizes.sampleMs) {
    await delay(Math.max(0, due - (performance.now() - start)));
    traffic.begin(`w${++window}`);
    const sample = await server.memory();
    memory.push({ atMs: performance.now() - start, rss: sample.rss, heapUsed: sample.heapUsed });
    const last = memory[memory.length - 1];
    if (last)
      log(
        `soak: ${(last.atMs / 1000).toFixed(0)} s, RSS ${(last.rss / 2 ** 20).toFixed(1)} MB, heap ${(last.heapUsed / 2 ** 20).toFixed(1)} MB, ${traffic.errors()} failed acks and disconnects so far`,
      );
  }
  traffic.end();
  const elapsed = performance.now() - start;
  const cpu1 = server.cpuNs();
  const phases = await traffic.stop();
  const windows = [...phases.values()];
  const samples: SoakSample[] = memory.map((m, i) => {
    const w = windows[i];
    return {
      ...m,
      deliveries: w?.deliveries ?? 0,
      p99: w?.p99 ?? Number.NaN,
      errors: w ? w.failedAcks + w.lost + w.disconnects : 0,
      generatorLagP99: w?.generatorLagP99 ?? Number.NaN,
    };
  });
  const afterWarmup = samples.filter((s) => s.atMs >= sizes.warmupFraction * sizes.durationMs);
  const rss = thirds(afterWarmup, (s) => s.rss);
  const heap = thirds(afterWarmup, (s) => s.heapUsed);
  const deliveries = windows.reduce((sum, w) => sum + w.deliveries, 0);
  const failedAcks = windows.reduce((sum, w) => sum + w.failedAcks, 0);
  const disconnects = windows.reduce((sum, w) => sum + w.disconnects, 0);
  const lost = windows.reduce((sum, w) => sum + w.lost, 0);
  const rssGrowth = rss.last / rss.first - 1;
  const all = traffic.histogram();
  return {
    sizes,
    capacityPerSecond,
    targetPerSecond,
    samples,
    rssFirstThird: rss.first,
    rssLastThird: rss.last,
    rssGrowth,
    heapFirstThird: heap.first,
    heapLastThird: heap.last,
    heapGrowth: heap.last / heap.first - 1,
    deliveries,
    deliveriesPerSecond: (deliveries * 1000) / elapsed,
    p50: all.quantile(0.5),
    p99: all.quantile(0.99),
    max: all.max,
    cpuMicros: deliveries > 0 ? (cpu1 - cpu0) / 1000 / deliveries : Number.NaN,
    failedAcks,
    failures: Object.fromEntries(traffic.failures),
    disconnects,
    lost,
    firstErrorAtMs: samples.find((sample) => sample.errors > 0)?.atMs ?? Number.NaN,
    worstGeneratorLagP99: Math.max(...samples.map((sample) => sample.generatorLagP99).filter(Number.isFinite)),
    passed: Number.isFinite(rssGrowth) && rssGrowth <= sizes.rssMargin && failedAcks === 0 && disconnects === 0 && lost === 0,
  };
}
