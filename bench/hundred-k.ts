/**
 * `npm run bench:100k`: 100,000 idle JOINed connections against the service with `--workers`,
 * on its own as it takes minutes. One process may hold at most ~20,000 file descriptors here,
 * so the service runs enough workers that each holds fewer than 18,000 connections, and the load is spread
 * over `--generators` child processes (bench/hundred-k-generator.ts), each with loopback source addresses
 * of its own. Connections join rooms of `--room-size` (connection i joins room i mod rooms), connecting in
 * steps of a quarter; after each step it samples the resident memory of every process of the service
 * (primary and workers, /proc/<pid>/status VmRSS) as it is and again after two forced GCs in every process
 * (bench/probe.cjs: over IPC for the primary, SIGUSR2 for each worker), and the primary's open descriptors. Then
 * it finds which worker serves each connection (from /proc: the workers' socket inodes and
 * /proc/net/tcp), sends one NOTIFY to every room and counts the EVENTs the members receive. Every limit of
 * the service stays at its default. `--quick` is a smoke test (a few hundred connections, two workers).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { performance } from 'node:perf_hooks';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError } from 'commander';
import { clientAddress } from './addresses.js';
import type { GeneratorReply, GeneratorRequest } from './hundred-k-generator.js';
import { acceptedConnections, commandLine, endpointKey, openSockets, rssBytes } from './processes.js';
import { until } from './scenarios.js';
import { canPin, descendants, startWorkers, SYSTEMS, type RunningServer } from './systems.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The sizes of a run. */
export interface HundredKSizes {
  readonly connections: number;
  readonly workers: number;
  readonly generators: number;
  readonly roomSize: number;
  /** Handshakes in flight at once, per generator. */
  readonly concurrency: number;
  /** How long memory settles after a step before it is sampled. */
  readonly settleMs: number;
  /** Node flags for the service's processes (the workers inherit the primary's), e.g. `--max-semi-space-size=1`. */
  readonly nodeFlags: readonly string[];
}

/** The full run: six workers of ~16,700 connections, six generators of as many. */
export const HUNDRED_K_FULL: HundredKSizes = {
  connections: 100_000,
  workers: 6,
  generators: 6,
  roomSize: 1000,
  concurrency: 16,
  settleMs: 3000,
  nodeFlags: [],
};

/** The smoke test that `npm test` runs. */
export const HUNDRED_K_QUICK: HundredKSizes = {
  connections: 300,
  workers: 2,
  generators: 2,
  roomSize: 50,
  concurrency: 20,
  settleMs: 0,
  nodeFlags: [],
};

/** Memory after one step. */
export interface Step {
  readonly connections: number;
  /** Seconds from the start of connecting. */
  readonly seconds: number;
  readonly primaryRss: number;
  /** The primary's V8 heap in use after two forced GCs (what it keeps, as opposed to what it has not collected yet). */
  readonly primaryHeap: number;
  readonly primaryFds: number;
  readonly workerRss: readonly number[];
  readonly totalRss: number;
  /** The same after two forced GCs in every process: what the service keeps, its garbage collected. */
  readonly primaryRssAfterGc: number;
  readonly workerRssAfterGc: readonly number[];
  readonly totalRssAfterGc: number;
  /** Handshakes that failed (timed out or were refused) and were tried again, all generators, so far. */
  readonly retries: number;
}

/** What a run measured. */
export interface HundredKResult {
  readonly sizes: HundredKSizes;
  readonly steps: readonly Step[];
  /** Connections + JOINs per second over all steps. */
  readonly connectsPerSecond: number;
  /** Connections each worker serves (from /proc), in worker order. */
  readonly perWorker: readonly number[];
  /** The fewest workers any one room is spread over, and how many rooms span every worker. */
  readonly minWorkersPerRoom: number;
  readonly roomsOnEveryWorker: number;
  readonly rooms: number;
  /** NOTIFYs acked (one per room), EVENTs the members received (at most one each), and repeats. */
  readonly published: number;
  readonly deliveries: number;
  readonly duplicates: number;
  /** Total RSS of the service ÷ connections, and (total − total empty) ÷ connections, in bytes. */
  readonly bytesPerConnection: number;
  readonly slopePerConnection: number;
  /** The same after forced GCs. */
  readonly bytesPerConnectionAfterGc: number;
  readonly slopePerConnectionAfterGc: number;
}

/** One generator process and a way to ask it something. */
interface Generator {
  readonly child: ChildProcess;
  ask(request: GeneratorRequest): Promise<GeneratorReply>;
}

function startGenerator(port: number, index: number, sizes: HundredKSizes, rooms: number): Generator {
  // Source addresses dealt out in turn: each generator's are its own.
  const addresses: string[] = [];
  for (let a = index; a < 240; a += sizes.generators) addresses.push(clientAddress(a));
  const env = {
    ...process.env,
    HK_PORT: String(port),
    HK_INDEX: String(index),
    HK_GENERATORS: String(sizes.generators),
    HK_ROOMS: String(rooms),
    HK_CONCURRENCY: String(sizes.concurrency),
    HK_ADDRESSES: addresses.join(','),
    NODE_V8_COVERAGE: '',
  };
  const script = join(root, 'bench/hundred-k-generator.ts');
  // Pinned to the core the service does not use, like the bench's own generator.
  const child = canPin
    ? fork(script, [], { env, execPath: 'taskset', execArgv: ['-c', '1', process.execPath, '--import', 'tsx'] })
    : fork(script, [], { env, execArgv: ['--import', 'tsx'] });
  let exited = false;
  child.once('exit', () => (exited = true));
  return {
    child,
    ask: (request) =>
      new Promise((resolve, reject) => {
        if (exited) return reject(new Error(`generator ${index} has exited`));
        const onExit = (code: number | null): void => reject(new Error(`generator ${index} exited (${String(code)})`));
        child.once('exit', onExit);
        child.once('message', (reply: GeneratorReply) => {
          child.off('exit', onExit);
          if (reply.type === 'failed') reject(new Error(`generator ${index}: ${reply.error}`));
          else resolve(reply);
        });
        child.send(request);
      }),
  };
}

async function askAll(generators: readonly Generator[], request: (index: number) => GeneratorRequest): Promise<GeneratorReply[]> {
  return Promise.all(generators.map((g, i) => g.ask(request(i))));
}

async function sample(
  server: RunningServer,
  workers: readonly number[],
  connections: number,
  seconds: number,
  retries: number,
): Promise<Step> {
  const workerRss = workers.map(rssBytes);
  // Read before the probe's GC changes it.
  const primaryRss = rssBytes(server.pid);
  const { heapUsed: primaryHeap, rss: primaryRssAfterGc } = await server.memory();
  const workerRssAfterGc = await Promise.all(workers.map(rssAfterGc));
  const sum = (values: readonly number[]): number => values.reduce((total, value) => total + value, 0);
  return {
    connections,
    seconds,
    primaryRss,
    primaryHeap,
    primaryFds: openSockets(server.pid).fds,
    workerRss,
    totalRss: primaryRss + sum(workerRss),
    primaryRssAfterGc,
    workerRssAfterGc,
    totalRssAfterGc: primaryRssAfterGc + sum(workerRssAfterGc),
    retries,
  };
}

/** Where the probes of the service's processes answer SIGUSR2 (bench/probe.cjs); set before the service starts. */
const gcDir = mkdtempSync(join(tmpdir(), 'hundred-k-gc-'));
process.env.BENCH_GC_DIR = gcDir;
process.once('exit', () => rmSync(gcDir, { recursive: true, force: true }));

/** Worker `pid`'s RSS after two forced GCs, as its probe reports it (a worker of 17,000 connections takes a while). */
async function rssAfterGc(pid: number): Promise<number> {
  const file = join(gcDir, String(pid));
  rmSync(file, { force: true });
  process.kill(pid, 'SIGUSR2');
  await until(() => existsSync(file), 30_000);
  if (!existsSync(file)) throw new Error(`worker ${pid} did not answer SIGUSR2 within 30 s`);
  return Number(readFileSync(file, 'utf8'));
}

/** Which worker (index in `workers`) serves each connection, and so how each room is spread. */
function spread(
  port: number,
  workers: readonly number[],
  triples: readonly number[],
  rooms: number,
): { perWorker: number[]; minWorkersPerRoom: number; roomsOnEveryWorker: number } {
  const byClient = acceptedConnections(port);
  const workerOfInode = new Map<number, number>();
  workers.forEach((pid, w) => {
    for (const inode of openSockets(pid).inodes) workerOfInode.set(inode, w);
  });
  const perWorker = workers.map(() => 0);
  const roomWorkers = Array.from({ length: rooms }, () => new Set<number>());
  for (let i = 0; i + 2 < triples.length; i += 3) {
    const [room = -1, octet = 0, clientPort = 0] = [triples[i], triples[i + 1], triples[i + 2]];
    const inode = byClient.get(endpointKey(octet, clientPort));
    const w = inode === undefined ? undefined : workerOfInode.get(inode);
    if (w === undefined) continue;
    perWorker[w] = (perWorker[w] ?? 0) + 1;
    roomWorkers[room]?.add(w);
  }
  const sizes = roomWorkers.map((set) => set.size);
  return {
    perWorker,
    minWorkersPerRoom: Math.min(...sizes),
    roomsOnEveryWorker: sizes.filter((size) => size === workers.length).length,
  };
}

/** Runs the scenario at `sizes`; `progress` gets a line per step. */
export async function hundredK(sizes: HundredKSizes, progress: (line: string) => void): Promise<HundredKResult> {
  const spec = SYSTEMS.find((s) => s.name === 'service');
  if (!spec) throw new Error('no service system');
  const rooms = Math.ceil(sizes.connections / sizes.roomSize);
  // Several workers start on one busy core: more than the bench's usual 20 s.
  const server = await startWorkers({ ...spec, args: [...sizes.nodeFlags, ...spec.args] }, sizes.workers, 120_000);
  const generators: Generator[] = [];
  let workers: number[] = [];
  try {
    workers = descendants(server.pid);
    if (workers.length !== sizes.workers) throw new Error(`found ${workers.length} workers, expected ${sizes.workers}`);
    for (let g = 0; g < sizes.generators; g++) generators.push(startGenerator(server.port, g, sizes, rooms));
    // Connection j of generator g is connection j * generators + g overall: generator g holds these many.
    const share = (total: number, g: number): number => Math.floor(total / sizes.generators) + (g < total % sizes.generators ? 1 : 0);

    await until(() => false, sizes.settleMs);
    const steps: Step[] = [await sample(server, workers, 0, 0, 0)];
    progress(describeStep(steps[0]));
    const t0 = performance.now();
    for (const fraction of [0.25, 0.5, 0.75, 1]) {
      const total = Math.round(sizes.connections * fraction);
      const replies = await askAll(generators, (g) => ({ type: 'connect', upTo: share(total, g) }));
      const seconds = (performance.now() - t0) / 1000;
      const retries = replies.reduce((sum, r) => sum + (r.type === 'connected' ? r.retries : 0), 0);
      await until(() => false, sizes.settleMs);
      const step = await sample(server, workers, total, seconds, retries);
      steps.push(step);
      progress(describeStep(step));
    }
    const connectSeconds = steps[steps.length - 1]?.seconds ?? 0;

    const triples = (await askAll(generators, () => ({ type: 'endpoints' }))).flatMap((r) => (r.type === 'endpoints' ? r.triples : []));
    const where = spread(server.port, workers, triples, rooms);
    progress(`connections per worker ${where.perWorker.join(', ')}; every room on ≥ ${where.minWorkersPerRoom} workers`);

    // Each generator publishes to a share of the rooms, from a connection of its own.
    const published = (
      await askAll(generators, (g) => ({
        type: 'publish',
        rooms: Array.from({ length: rooms }, (_, r) => r).filter((r) => r % sizes.generators === g),
      }))
    ).reduce((sum, r) => sum + (r.type === 'published' ? r.acked : 0), 0);
    let deliveries = 0;
    let duplicates = 0;
    const count = async (): Promise<void> => {
      const replies = await askAll(generators, () => ({ type: 'deliveries' }));
      deliveries = replies.reduce((sum, r) => sum + (r.type === 'deliveries' ? r.count : 0), 0);
      duplicates = replies.reduce((sum, r) => sum + (r.type === 'deliveries' ? r.duplicates : 0), 0);
    };
    // Acked NOTIFYs have left the publisher's worker; the EVENTs are on their way to the members.
    const deadline = performance.now() + 30_000;
    for (await count(); deliveries < sizes.connections && performance.now() < deadline; await count()) {
      await until(() => false, 100);
    }
    progress(`broadcast: ${published} NOTIFYs, ${deliveries} of ${sizes.connections} members got one`);

    await askAll(generators, () => ({ type: 'close' }));
    const [first, last] = [steps[0], steps[steps.length - 1]];
    const empty = first?.totalRss ?? 0;
    const full = last?.totalRss ?? 0;
    const emptyAfterGc = first?.totalRssAfterGc ?? 0;
    const fullAfterGc = last?.totalRssAfterGc ?? 0;
    return {
      sizes,
      steps,
      connectsPerSecond: connectSeconds > 0 ? sizes.connections / connectSeconds : 0,
      ...where,
      rooms,
      published,
      deliveries,
      duplicates,
      bytesPerConnection: full / sizes.connections,
      slopePerConnection: (full - empty) / sizes.connections,
      bytesPerConnectionAfterGc: fullAfterGc / sizes.connections,
      slopePerConnectionAfterGc: (fullAfterGc - emptyAfterGc) / sizes.connections,
    };
  } finally {
    for (const g of generators) g.child.disconnect();
    await Promise.all(
      generators.map((g) => (g.child.exitCode === null ? new Promise((resolve) => g.child.once('exit', resolve)) : Promise.resolve())),
    );
    await server.stop();
    // A primary that does not stop within 5 s is killed (bench/systems.ts); its workers, still closing
    // thousands of connections, would outlive it.
    // Only a process that is still this service's worker: its pid may have been reused since.
    for (const pid of workers.filter((w) => commandLine(w).includes(join(root, 'dist/server.js')))) process.kill(pid, 'SIGKILL');
  }
}

function mb(bytes: number): string {
  return `${(bytes / 1048576).toFixed(1)} MB`;
}

function describeStep(step: Step | undefined): string {
  if (!step) return '';
  return (
    `${step.connections} connections at ${step.seconds.toFixed(1)} s (${step.retries} retried): service ${mb(step.totalRss)}` +
    ` (primary ${mb(step.primaryRss)}, heap ${mb(step.primaryHeap)} after GC, ${step.primaryFds} fds; workers ${step.workerRss.map(mb).join(', ')});` +
    ` after GC ${mb(step.totalRssAfterGc)}`
  );
}

/** The result as the markdown BENCHMARKS.md shows. */
export function hundredKTable(result: HundredKResult): string {
  const kb = (bytes: number): string => (bytes / 1024).toFixed(2);
  const rows = result.steps.map(
    (s) =>
      `| ${s.connections} | ${s.seconds.toFixed(1)} | ${mb(s.primaryRss)} | ${mb(s.primaryHeap)} | ${s.primaryFds} | ${s.workerRss.map(mb).join(' / ')} | ${mb(s.totalRss)} | ${s.connections > 0 ? kb(s.totalRss / s.connections) : '–'} | ${mb(s.totalRssAfterGc)} | ${s.connections > 0 ? kb(s.totalRssAfterGc / s.connections) : '–'} |`,
  );
  return [
    `${result.sizes.connections} idle JOINed connections, --workers ${result.sizes.workers}, ${result.sizes.generators} generators, rooms of ${result.sizes.roomSize}`,
    '',
    '| connections | s | primary RSS | primary heap after GC | primary fds | worker RSS | service RSS | KB/conn (total ÷ n) | service RSS after GC | KB/conn after GC |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...rows,
    '',
    `- connect + JOIN: ${result.connectsPerSecond.toFixed(0)}/s; handshakes tried again: ${result.steps[result.steps.length - 1]?.retries ?? 0}`,
    `- total RSS ÷ n: ${kb(result.bytesPerConnection)} KB; (total − empty service) ÷ n: ${kb(result.slopePerConnection)} KB`,
    `- after forced GCs in every process: total ÷ n ${kb(result.bytesPerConnectionAfterGc)} KB; (total − empty) ÷ n ${kb(result.slopePerConnectionAfterGc)} KB`,
    `- connections per worker: ${result.perWorker.join(', ')}; ${result.roomsOnEveryWorker} of ${result.rooms} rooms span every worker (fewest: ${result.minWorkersPerRoom})`,
    `- broadcast: ${result.published} NOTIFYs (one per room), ${result.deliveries} of ${result.sizes.connections} members got theirs, ${result.duplicates} twice`,
  ].join('\n');
}

function positive(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

async function main(): Promise<void> {
  const opts = new Command()
    .description('100,000 idle JOINed connections against the service with --workers')
    .option('--quick', 'a smoke test: a few hundred connections, two workers, two generators')
    .option('--connections <n>', 'idle JOINed connections', positive)
    .option('--workers <n>', 'worker processes of the service (each must stay under ~18,000 connections)', positive)
    .option('--generators <n>', 'load-generator processes (each must stay under ~18,000 connections)', positive)
    .option('--room-size <n>', 'members per room', positive)
    .option('--node-flag <flag...>', 'a node flag for the service (its workers inherit it), e.g. --max-semi-space-size=1')
    .parse()
    .opts<{ quick?: boolean; connections?: number; workers?: number; generators?: number; roomSize?: number; nodeFlag?: string[] }>();
  const base = opts.quick ? HUNDRED_K_QUICK : HUNDRED_K_FULL;
  const sizes: HundredKSizes = {
    ...base,
    ...(opts.connections ? { connections: opts.connections } : {}),
    ...(opts.workers ? { workers: opts.workers } : {}),
    ...(opts.generators ? { generators: opts.generators } : {}),
    ...(opts.roomSize ? { roomSize: opts.roomSize } : {}),
    ...(opts.nodeFlag ? { nodeFlags: opts.nodeFlag } : {}),
  };
  const result = await hundredK(sizes, (line) => process.stderr.write(`… ${line}\n`));
  process.stdout.write(`\n${hundredKTable(result)}\n`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((err: unknown) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
}
