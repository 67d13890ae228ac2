/**
 * `npx tsx bench/connect-rate.ts [--clients N] [--rounds R] [--profile DIR]`: the connect path alone, for
 * iterating on it faster than the full comparison. Each round starts plain Socket.IO and this service in
 * turn (alternating, so that the machine's drift hits both alike), connects `clients` websocket clients
 * to `/layout` with a JOIN each, and reports connect+JOIN/s and the server's CPU µs per connect; then the
 * median of each and the service's ratios. `--profile DIR` runs the service under `node --cpu-prof`, the
 * profile written to DIR when it stops. The service runs as the comparison runs it (bench/run.ts), plus
 * any `--service-arg` (repeatable), e.g. `--service-arg=--recovery-window=0` to see what a feature costs.
 */
import { Command, InvalidArgumentError } from 'commander';
import { clientAddress } from './addresses.js';
import { BenchClient, connectMany } from './client.js';
import { CONNECT_CONCURRENCY } from './scenarios.js';
import { procStatFields, startSystem, SYSTEMS, type RunningServer, type SystemSpec } from './systems.js';

/** One round's figures of one system. */
interface ConnectSample {
  perSecond: number;
  cpuMicros: number;
  /** The share of that CPU spent in the kernel (TCP, epoll, the writes), from /proc's tick counts. */
  kernelShare: number;
}

/** User and kernel CPU ticks of process `pid` so far (fields 14 and 15 of /proc/<pid>/stat). */
function cpuTicks(pid: number): { user: number; kernel: number } {
  const fields = procStatFields(pid);
  return { user: Number(fields[11]), kernel: Number(fields[12]) };
}

async function connectRound(server: RunningServer, clients: number): Promise<ConnectSample> {
  const t0 = performance.now();
  const cpu0 = server.cpuNs();
  const ticks0 = cpuTicks(server.pid);
  const connected = await connectMany(clients, CONNECT_CONCURRENCY, async (i) => {
    const client = await BenchClient.connect(server.port, '/layout', { localAddress: clientAddress(i) });
    await client.request('JOIN', { room: `room-${Math.floor(i / 10)}`, name: `m${i}` });
    return client;
  });
  const ticks = cpuTicks(server.pid);
  const kernel = ticks.kernel - ticks0.kernel;
  const sample = {
    perSecond: (clients * 1000) / (performance.now() - t0),
    cpuMicros: (server.cpuNs() - cpu0) / 1000 / clients,
    kernelShare: kernel / Math.max(1, kernel + ticks.user - ticks0.user),
  };
  await Promise.all(connected.map((client) => client.close()));
  return sample;
}

const median = (values: readonly number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;

function count(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('a positive integer');
  return n;
}

const program = new Command('connect-rate')
  .option('--clients <n>', 'clients per round', count, 5000)
  .option('--rounds <n>', 'alternating rounds', count, 3)
  .option('--profile <dir>', "write the service's CPU profile to this folder")
  .option('--service-arg <arg>', 'one more argument for the service (repeatable)', (arg: string, list: string[]) => [...list, arg], [])
  .parse();
const { clients, rounds, profile, serviceArg } = program.opts<{
  clients: number;
  rounds: number;
  profile?: string;
  serviceArg: string[];
}>();

const pick = (name: string): SystemSpec => {
  const spec = SYSTEMS.find((system) => system.name === name);
  if (!spec) throw new Error(`no system ${name}`);
  return spec;
};
const service = pick('service');
const systems: SystemSpec[] = [
  pick('socketio'),
  {
    ...service,
    // As the comparison runs it (bench/run.ts `unthrottled`): the connect limits stay at their defaults.
    args: [...(profile ? ['--cpu-prof', `--cpu-prof-dir=${profile}`] : []), ...service.args, '--event-rate', '0', ...serviceArg],
  },
];
const samples = new Map<string, ConnectSample[]>();
for (let round = 0; round < rounds; round++) {
  for (const spec of systems) {
    const server = await startSystem(spec);
    try {
      const sample = await connectRound(server, clients);
      samples.set(spec.name, [...(samples.get(spec.name) ?? []), sample]);
      process.stdout.write(
        `round ${round + 1} ${spec.name}: ${sample.perSecond.toFixed(0)} connects/s, ${sample.cpuMicros.toFixed(0)} µs CPU/connect ` +
          `(${(sample.kernelShare * 100).toFixed(0)} % in the kernel)\n`,
      );
    } finally {
      await server.stop();
    }
  }
}
const summary = (name: string): ConnectSample => {
  const list = samples.get(name) ?? [];
  return {
    perSecond: median(list.map((s) => s.perSecond)),
    cpuMicros: median(list.map((s) => s.cpuMicros)),
    kernelShare: median(list.map((s) => s.kernelShare)),
  };
};
const base = summary('socketio');
const ours = summary('service');
process.stdout.write(
  `median: socketio ${base.perSecond.toFixed(0)}/s ${base.cpuMicros.toFixed(0)} µs; service ${ours.perSecond.toFixed(0)}/s ${ours.cpuMicros.toFixed(0)} µs; ` +
    `rate ${(ours.perSecond / base.perSecond).toFixed(2)}×, CPU ${(ours.cpuMicros / base.cpuMicros).toFixed(2)}×\n`,
);
