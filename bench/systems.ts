/**
 * The servers the bench compares, each started the same way: a child process pinned to CPU 0 (when
 * `taskset` exists), with --expose-gc and the memory probe preloaded, listening on the port in $PORT.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSync } from 'esbuild';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** A system under test. */
export interface SystemSpec {
  readonly name: string;
  readonly label: string;
  /** Node arguments after the common ones: the entry point and its flags. */
  readonly args: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
}

/**
 * Baseline `name` (bench/baselines/<name>.ts) compiled to JavaScript once per bench process: bundled with the
 * bench's own modules it imports, its packages left to Node, and written beside them (so that they resolve).
 * The baselines start from JavaScript as the service does: under tsx, its loader and the TypeScript transform
 * added about 0.1 s to plain Socket.IO's start, which the reconnect storm and the start-up row counted
 * against it.
 */
function compiledBaseline(name: string): string {
  const outfile = join(root, 'node_modules/.cache/bench', `${name}.mjs`);
  const [output] = buildSync({
    entryPoints: [join(root, 'bench/baselines', `${name}.ts`)],
    outfile,
    write: false,
    bundle: true,
    packages: 'external',
    format: 'esm',
    platform: 'node',
    logLevel: 'error',
  }).outputFiles;
  if (!output) throw new Error(`esbuild wrote nothing for bench/baselines/${name}.ts`);
  // Written whole and renamed: another bench process may be starting this baseline from the file meanwhile.
  mkdirSync(dirname(outfile), { recursive: true });
  const partial = `${outfile}.${process.pid}`;
  writeFileSync(partial, output.contents);
  renameSync(partial, outfile);
  return outfile;
}

const socketIoPlain = compiledBaseline('socketio-plain');
const rawWs = compiledBaseline('raw-ws');

/** The systems in the order they run; the plain Socket.IO baseline first, as the latency rates derive from it. */
export const SYSTEMS: readonly SystemSpec[] = [
  { name: 'socketio', label: 'plain Socket.IO v4 (baseline)', args: [socketIoPlain] },
  { name: 'raw-ws', label: 'raw ws, frame built once (baseline)', args: [rawWs] },
  {
    name: 'raw-ws-coalesced',
    label: 'raw ws + per-tick write coalescing (limit)',
    args: [rawWs],
    env: { COALESCE: '1' },
  },
  {
    name: 'service',
    label: 'realtime-rooms (this service)',
    // Every limit at its default: the clients come from many loopback addresses (bench/addresses.ts), and the
    // comparison scenarios alone switch the event rate off (bench/run.ts `unthrottled`).
    args: ['dist/server.js', '-H', '127.0.0.1', '--log-format', 'json', '--log-level', 'info'],
  },
];

/** Memory as reported by the probe after two forced GCs. */
export interface MemorySample {
  rss: number;
  heapUsed: number;
  /** The heap V8 has reserved (used or not): RSS above it is native memory (buffers, malloc, code). */
  heapTotal: number;
  external: number;
  arrayBuffers: number;
}

/** A started system. */
export interface RunningServer {
  /** The first node's port (the only one for a single process). */
  readonly port: number;
  /** Every node's port; clients are spread over them. */
  readonly ports: readonly number[];
  readonly pid: number;
  /**
   * Milliseconds from the spawn to the listening marker: module loading and set-up until the port is open
   * (for a cluster, its slowest node).
   */
  readonly startupMs: number;
  /** CPU time (user + system, all threads) the server process has used so far, in nanoseconds. */
  cpuNs(): number;
  /** The CPU time of the cluster's redis-server so far, in nanoseconds (a cluster only): not in {@link cpuNs}. */
  redisCpuNs?(): number;
  /** Forces GC in the server and reports its memory. */
  memory(): Promise<MemorySample>;
  /** Forces GC in the server and writes a heap snapshot to `path` (the server's own, not the generator's). */
  heapSnapshot(path: string): Promise<void>;
  stop(): Promise<void>;
}

/** Whether servers and load generator can be pinned to separate cores. */
export const canPin = spawnSync('taskset', ['-c', '0', 'true']).status === 0;

/** A free TCP port on 127.0.0.1 (released again, for a child to listen on). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * Starts `spec` and resolves once it logs that it is listening (within `startMs`; a system that does not is
 * stopped).
 */
export async function startSystem(spec: SystemSpec, startMs = 20_000): Promise<RunningServer> {
  const port = await freePort();
  const spawned = performance.now();
  const child = spawnSystem(spec, port);
  try {
    await waitForListening(child, spec.name, listeningMarker(spec), startMs);
  } catch (err) {
    await stopChild(child);
    throw err;
  }
  const startupMs = performance.now() - spawned;
  const pid = child.pid ?? 0;
  return {
    port,
    ports: [port],
    pid,
    startupMs,
    cpuNs: () => processCpuNs(pid),
    memory: () => requestMemory(child),
    heapSnapshot: (path) => requestSnapshot(child, path),
    stop: () => stopChild(child),
  };
}

/** A started system that the bench can `kill -9` and start again on the same port. */
export interface RestartableServer extends RunningServer {
  /** SIGKILL: no shutdown, no goodbye to the clients. Resolves once the process is gone. */
  kill(): Promise<void>;
  /** Starts the system again on the same port; resolves once it logs that it is listening. */
  restart(): Promise<void>;
}

/**
 * Starts `spec` as {@link startSystem} does, in a handle that can be killed and started again on its port
 * (the listening socket sets SO_REUSEADDR, as Node's always does, so the killed process's connections in
 * TIME_WAIT do not block the bind). `pid`, `cpuNs` and the probes follow the current process.
 */
export async function startRestartable(spec: SystemSpec): Promise<RestartableServer> {
  const port = await freePort();
  const marker = listeningMarker(spec);
  let spawned = performance.now();
  let child = spawnSystem(spec, port);
  await waitForListening(child, spec.name, marker);
  let startupMs = performance.now() - spawned;
  return {
    port,
    ports: [port],
    get pid() {
      return child.pid ?? 0;
    },
    /** The latest start's: after {@link RestartableServer.restart}, the restart's. */
    get startupMs() {
      return startupMs;
    },
    cpuNs: () => processCpuNs(child.pid ?? 0),
    memory: () => requestMemory(child),
    heapSnapshot: (path) => requestSnapshot(child, path),
    stop: () => stopChild(child),
    kill: () => killChild(child),
    restart: async () => {
      await killChild(child);
      spawned = performance.now();
      child = spawnSystem(spec, port);
      await waitForListening(child, spec.name, marker);
      startupMs = performance.now() - spawned;
    },
  };
}

/** SIGKILLs `child` and resolves once it has exited (at once when it already has). */
function killChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

/**
 * Spawns `spec` listening on `port` (pinned, with the probe), its stdout piped to the caller and its stderr
 * inherited. Resolve its start with {@link waitForListening} and {@link listeningMarker}.
 */
export function spawnSystem(spec: SystemSpec, port: number): ChildProcess {
  const nodeArgs = ['--expose-gc', '--require', join(root, 'bench/probe.cjs'), ...profiling(), ...spec.args];
  const [command, args] = canPin ? ['taskset', ['-c', '0', process.execPath, ...nodeArgs]] : [process.execPath, nodeArgs];
  return spawn(command, args, {
    cwd: root,
    env: { ...process.env, ...spec.env, PORT: String(port), NODE_ENV: 'production', NODE_V8_COVERAGE: '' },
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
}

/**
 * `BENCH_CPU_PROF=<dir>` in the bench's environment: every system writes a V8 CPU profile into `<dir>` when
 * it exits (one per process, workers included, as they inherit the flags).
 */
function profiling(): string[] {
  const dir = process.env.BENCH_CPU_PROF;
  return dir ? ['--cpu-prof', `--cpu-prof-dir=${dir}`] : [];
}

/** The log text that says `spec` is up: with `--redis`, only once it reads the stream and is subscribed. */
export function listeningMarker(spec: SystemSpec): string {
  return spec.args.includes('--redis') ? 'cluster ready' : 'listening on';
}

/** Resolves once `child` has written `marker` to its stdout; rejects when it exits first or takes over `ms`. */
export function waitForListening(child: ChildProcess, name: string, marker: string, ms = 20_000): Promise<void> {
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`${name} did not start within ${ms / 1000} s: ${output}`)), ms);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      if (output.includes(marker)) {
        clearTimeout(timer);
        child.off('exit', onExit);
        // Keeps reading (a child blocks on a full pipe) without keeping what it writes.
        child.stdout?.off('data', onData);
        child.stdout?.resume();
        resolve();
      }
    };
    const onExit = (code: number | null): void => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${String(code)} before listening: ${output}`));
    };
    child.stdout?.on('data', onData);
    child.once('exit', onExit);
  });
}

/** Sums utime+stime of every thread from /proc/<pid>/task/<tid>/schedstat (ns precision). */
export function processCpuNs(pid: number): number {
  let total = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      total += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return total;
}

/**
 * Write system calls (`write`, `writev`, …) process `pid` has made so far, from /proc/<pid>/io; how many
 * socket writes the server needed for a phase's deliveries (NaN where /proc does not say).
 */
export function writeSyscalls(pid: number): number {
  try {
    return Number(/^syscw: (\d+)$/m.exec(readFileSync(`/proc/${pid}/io`, 'utf8'))?.[1] ?? Number.NaN);
  } catch {
    return Number.NaN;
  }
}

function requestMemory(child: ChildProcess): Promise<MemorySample> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('memory probe did not answer')), 10_000);
    child.once('message', (message: MemorySample & { type: string }) => {
      clearTimeout(timer);
      resolve(message);
    });
    child.send({ type: 'mem' });
  });
}

function requestSnapshot(child: ChildProcess, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('heap snapshot not written within 60 s')), 60_000);
    child.once('message', () => {
      clearTimeout(timer);
      resolve();
    });
    child.send({ type: 'snapshot', path });
  });
}

/** Stops `child` with SIGTERM (SIGKILL after 5 s) and resolves once it has exited. */
export function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/**
 * The fields of /proc/<pid>/stat after the command name, from field 3 (the state) on: index 1 is the parent's
 * pid, 11 and 12 the user and kernel CPU ticks. The name is in parentheses and may hold spaces, so the
 * fields are read after its closing one.
 */
export function procStatFields(pid: number): string[] {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** Pids of the processes descending from `pid` (the workers of `--workers`), read from /proc. */
export function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const ppid = Number(procStatFields(Number(entry))[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // The process ended between the listing and the read.
    }
  }
  const found: number[] = [];
  const queue = [pid];
  for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
    for (const child of children.get(next) ?? []) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}

/**
 * Starts `spec` with `--workers <workers>`: a primary that routes connections to worker processes (all
 * pinned like any other system, as workers inherit the primary's CPU affinity). CPU is summed over the
 * primary and its workers.
 */
export async function startWorkers(spec: SystemSpec, workers: number, startMs?: number): Promise<RunningServer> {
  const server = await startSystem({ ...spec, args: [...spec.args, '--workers', String(workers)] }, startMs);
  return {
    ...server,
    cpuNs: () => [server.pid, ...descendants(server.pid)].reduce((sum, pid) => sum + processCpuNs(pid), 0),
  };
}

/** Whether a `redis-server` binary is on the PATH (the multi-node scenario needs one). */
export const hasRedis = spawnSync('redis-server', ['--version']).status === 0;

/** A private redis-server (no persistence) on a free port of 127.0.0.1. */
export async function startRedisServer(): Promise<{ readonly port: number; cpuNs(): number; stop(): Promise<void> }> {
  const port = await freePort();
  const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await waitForListening(redis, 'redis-server', 'Ready to accept connections');
  const pid = redis.pid ?? 0;
  return { port, cpuNs: () => processCpuNs(pid), stop: () => stopChild(redis) };
}

/** A started cluster: any node can be `kill -9`ed (and started again) on its own. */
export interface RunningCluster extends RunningServer {
  /** Each node, in the order of {@link RunningServer.ports}. */
  readonly nodes: readonly RestartableServer[];
}

/**
 * Starts a private redis-server on a free port and `nodes` instances of `spec` attached to it with
 * `--redis`, each pinned like any other system. CPU is summed over the nodes (a killed node's counts no
 * more); Redis's own (not pinned) is reported apart, by `redisCpuNs`.
 */
export async function startCluster(spec: SystemSpec, nodes: number): Promise<RunningCluster> {
  const redis = await startRedisServer();
  const redisPort = redis.port;
  const stopRedis = (): Promise<void> => redis.stop();
  const started: RestartableServer[] = [];
  try {
    for (let i = 0; i < nodes; i++) {
      started.push(
        await startRestartable({
          ...spec,
          args: [...spec.args, '--redis', `redis://127.0.0.1:${redisPort}`, '--redis-prefix', 'bench'],
        }),
      );
    }
  } catch (err) {
    await Promise.all(started.map((node) => node.stop()));
    await stopRedis();
    throw err;
  }
  const first = started[0];
  if (!first) throw new Error('a cluster needs at least one node');
  return {
    nodes: started,
    port: first.port,
    ports: started.map((node) => node.port),
    pid: first.pid,
    startupMs: Math.max(...started.map((node) => node.startupMs)),
    cpuNs: () => started.reduce((sum, node) => sum + cpuOrZero(node), 0),
    redisCpuNs: () => redis.cpuNs(),
    memory: () => first.memory(),
    heapSnapshot: (path) => first.heapSnapshot(path),
    stop: async () => {
      await Promise.all(started.map((node) => node.stop()));
      await stopRedis();
    },
  };
}

/** A node's CPU so far, or 0 once its process is gone (a killed node of the storm scenario). */
function cpuOrZero(node: RunningServer): number {
  try {
    return node.cpuNs();
  } catch {
    return 0;
  }
}
