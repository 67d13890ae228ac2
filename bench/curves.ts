/**
 * The cost-curves scenario: how the cost of the work grows with its size, for this service and plain
 * Socket.IO side by side. Fan-out to ONE room of each size (server CPU per delivery, deliveries/s, the
 * publisher's messages/s), and the memory of idle JOINed connections as their number grows (the slope
 * from the empty server, and from the previous step). Each room size runs on a fresh server, the systems
 * alternating size by size, so their ratio at a size comes from neighbouring runs.
 */
import { closeAll, FANOUT_WINDOW, fanoutRoom, joinIdle, type FanoutResult } from './scenarios.js';
import type { BenchClient } from './client.js';
import { startSystem, type MemorySample, type RunningServer, type SystemSpec } from './systems.js';

/** Sizes of a curves run. */
export interface CurveSizes {
  /** Members of the one room fanned out to, one measurement each. */
  readonly roomSizes: readonly number[];
  /** Idle JOINed connections at which memory is sampled, ascending; every step adds to the previous. */
  readonly connectionCounts: readonly number[];
  /** Members of each room the idle connections JOIN (as the many-rooms scenario). */
  readonly membersPerRoom: number;
  /**
   * Deliveries kept in flight: each room size runs with `max(minWindow, ceil(this ÷ members))` messages in
   * flight, so that small rooms give the server as much work per event-loop turn as big ones.
   */
  readonly deliveriesInFlight: number;
  /**
   * Fewest messages in flight, whatever the room size: each is one frame queued per member, and the
   * service writes the frames a socket gets in one turn with one system call, so a big room with the fan-out
   * scenario's 4 in flight would pay a write per 2 or 3 deliveries that a small room shares over a hundred
   * (a bend of the load's shape, not of the room size).
   */
  readonly minWindow: number;
  readonly warmupMs: number;
  readonly measureMs: number;
  /**
   * A fresh server for every room size and for the memory curve, the systems alternating size by size
   * (the measurement); or one server per system for all of them (the smoke test, where a start of the
   * service costs more than everything it measures).
   */
  readonly freshServers: boolean;
}

/** The full curves: one room of 10 … 10,000 members; 1,000, 5,000 and 15,000 idle connections. */
export const CURVES_FULL: CurveSizes = {
  roomSizes: [10, 100, 1000, 10_000],
  connectionCounts: [1000, 5000, 15_000],
  membersPerRoom: 10,
  deliveriesInFlight: 4000,
  minWindow: 40,
  warmupMs: 1000,
  measureMs: 3000,
  freshServers: true,
};

/** Tiny sizes for the harness smoke test (its figures mean nothing). */
export const CURVES_QUICK: CurveSizes = {
  roomSizes: [2, 5],
  connectionCounts: [20, 40],
  membersPerRoom: 10,
  deliveriesInFlight: 20,
  minWindow: FANOUT_WINDOW,
  warmupMs: 100,
  measureMs: 300,
  freshServers: false,
};

/** One room size's fan-out. */
export interface CurvePoint extends FanoutResult {
  members: number;
  window: number;
}

/** Server memory (after forced GC) with `connections` idle JOINed connections. */
export interface MemoryPoint {
  connections: number;
  rss: number;
  heapUsed: number;
  /** For explaining a bend: the heap V8 holds (used or free) and the memory of Buffers outside it. */
  heapTotal: number;
  external: number;
}

/** One system's curves. */
export interface SystemCurves {
  fanout: CurvePoint[];
  /** The empty server first (`connections` 0), then each of {@link CurveSizes.connectionCounts}. */
  memory: MemoryPoint[];
}

/** What the curves scenario produces: per system name (`service`, `socketio`). */
export interface CurvesResult {
  sizes: CurveSizes;
  systems: Record<string, SystemCurves>;
}

/** The systems the curves compare, in the order they alternate. */
export const CURVE_SYSTEMS: readonly string[] = ['socketio', 'service'];

/** Messages in flight for a room of `members`. */
export function windowFor(sizes: CurveSizes, members: number): number {
  return Math.max(sizes.minWindow, Math.ceil(sizes.deliveriesInFlight / members));
}

async function withSystem<T>(spec: SystemSpec, run: (server: RunningServer) => Promise<T>): Promise<T> {
  const server = await startSystem(spec);
  try {
    return await run(server);
  } finally {
    await server.stop();
  }
}

function sample(connections: number, memory: MemorySample): MemoryPoint {
  return { connections, rss: memory.rss, heapUsed: memory.heapUsed, heapTotal: memory.heapTotal, external: memory.external };
}

const MB = 2 ** 20;

function describe(point: MemoryPoint): string {
  const mb = (bytes: number): string => (bytes / MB).toFixed(1);
  return `${point.connections} connections: RSS ${mb(point.rss)} MB, heap ${mb(point.heapUsed)} of ${mb(point.heapTotal)} MB, external ${mb(point.external)} MB`;
}

/**
 * Memory of one server, empty and then at every step of `sizes.connectionCounts` (connections kept open),
 * each sample logged with the heap V8 holds and the external memory, which tell heap growth from native.
 */
async function memoryCurve(server: RunningServer, sizes: CurveSizes, log: (line: string) => void): Promise<MemoryPoint[]> {
  const points = [sample(0, await server.memory())];
  log(describe(points[0] as MemoryPoint));
  const clients: BenchClient[] = [];
  try {
    for (const count of sizes.connectionCounts) {
      clients.push(...(await joinIdle(server, clients.length, count - clients.length, sizes.membersPerRoom)));
      const point = sample(count, await server.memory());
      log(describe(point));
      points.push(point);
    }
  } finally {
    await closeAll(clients);
  }
  return points;
}

/**
 * Runs the curves for those of `systems` named in {@link CURVE_SYSTEMS} (started as given: the caller
 * switches the service's event rate off, as for the other comparison scenarios).
 */
export async function curves(
  systems: readonly SystemSpec[],
  sizes: CurveSizes,
  log: (line: string) => void = () => undefined,
): Promise<CurvesResult> {
  const specs = CURVE_SYSTEMS.flatMap((name) => systems.filter((spec) => spec.name === name));
  const result: CurvesResult = { sizes, systems: {} };
  for (const spec of specs) result.systems[spec.name] = { fanout: [], memory: [] };
  const fan = async (spec: SystemSpec, server: RunningServer, members: number): Promise<void> => {
    const window = windowFor(sizes, members);
    log(`${spec.name}: fan-out to one room of ${members} (${window} in flight)`);
    const point = await fanoutRoom(server, { ...sizes, receivers: members, window });
    result.systems[spec.name]?.fanout.push({ members, window, ...point });
  };
  const memory = async (spec: SystemSpec, server: RunningServer): Promise<void> => {
    log(`${spec.name}: memory at ${sizes.connectionCounts.join(', ')} idle connections`);
    const points = await memoryCurve(server, sizes, (line) => log(`${spec.name}: ${line}`));
    const curve = result.systems[spec.name];
    if (curve) curve.memory = points;
  };
  if (!sizes.freshServers) {
    for (const spec of specs) {
      await withSystem(spec, async (server) => {
        for (const members of sizes.roomSizes) await fan(spec, server, members);
        await memory(spec, server);
      });
    }
    return result;
  }
  for (const members of sizes.roomSizes) {
    for (const spec of specs) await withSystem(spec, (server) => fan(spec, server, members));
  }
  for (const spec of specs) await withSystem(spec, (server) => memory(spec, server));
  return result;
}
