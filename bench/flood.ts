/**
 * The flood scenario: 100 clients in rooms of ten NOTIFY each other at a steady rate, first quiet, then
 * while ONE client floods the service from its own connection and address with NOTIFY, then CLIENTS, then
 * JOIN/LEAVE, as fast as its connection takes them (acked and un-acked), reconnecting whenever it is cut
 * off. Measures the steady clients' NOTIFY→EVENT times in each phase and what the flooder got back. The
 * service runs with its default limits: the point is that the defaults protect.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { FLOODER_ADDRESS } from './addresses.js';
import type { FloodKind, FlooderCommand, FlooderStats } from './flooder.js';
import { RoomTraffic, type PhaseStats } from './room-traffic.js';
import { canPin, type RunningServer } from './systems.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Sizes and durations of a flood run. */
export interface FloodSizes {
  readonly clients: number;
  readonly roomSize: number;
  /** NOTIFYs per second over all steady clients (each client sends `notifiesPerSecond / clients`). */
  readonly notifiesPerSecond: number;
  /** Before each measured phase: the steady traffic settles, the flooder ramps up and meets its limits. */
  readonly warmupMs: number;
  readonly measureMs: number;
}

/**
 * 100 clients, 10 NOTIFYs/s each (a tenth of the default per-connection event rate) into rooms of ten:
 * 9,000 deliveries/s, about a fifth of the many-rooms scenario's maximum, so the quiet phase is quiet.
 */
export const FLOOD_FULL: FloodSizes = { clients: 100, roomSize: 10, notifiesPerSecond: 1000, warmupMs: 2000, measureMs: 10_000 };

/** Tiny sizes for the harness smoke test. */
export const FLOOD_QUICK: FloodSizes = { clients: 10, roomSize: 5, notifiesPerSecond: 50, warmupMs: 200, measureMs: 600 };

/** The flood phases, in the order they run. */
export const FLOOD_KINDS: readonly FloodKind[] = ['notify', 'clients', 'join-leave'];

/** One flood phase: the steady clients' view and the flooder's. */
export interface FloodPhase {
  kind: FloodKind;
  traffic: PhaseStats;
  flooder: FlooderStats;
  /** This phase's p99 over the quiet phase's. */
  p99Ratio: number;
  /** This phase's p50 over the quiet phase's: steadier than the p99 on a busy machine. */
  p50Ratio: number;
}

/** What the flood scenario measured. */
export interface FloodResult {
  sizes: FloodSizes;
  quiet: PhaseStats;
  /**
   * A second quiet phase after the floods: on a shared machine the load of others moves between phases,
   * and a quiet-after far from quiet says the ratios of that run are noise.
   */
  quietAfter: PhaseStats;
  floods: FloodPhase[];
  /** The highest {@link FloodPhase.p99Ratio}: the figure held against the 2× bar. */
  worstP99Ratio: number;
}

/** 5: the flooder's CFS weight is a third of the generator's. */
const FLOODER_NICENESS = 5;
const hasNice = spawnSync('nice', ['-n', String(FLOODER_NICENESS), 'true']).status === 0;

/**
 * The flooder process, on the generator's core, slightly niced: when both want the core the measured
 * clients come first, but the flooder is not starved by everything else running on a shared machine
 * (its events/s in the table show how hard it flooded).
 */
class Flooder {
  private constructor(private readonly child: ChildProcess) {}

  static async start(port: number): Promise<Flooder> {
    const node = [process.execPath, '--import', 'tsx', join(root, 'bench/flooder.ts')];
    const pinned = canPin ? ['taskset', '-c', '1', ...node] : node;
    const [command, ...args] = hasNice ? ['nice', '-n', String(FLOODER_NICENESS), ...pinned] : pinned;
    if (!command) throw new Error('no flooder command');
    const child = spawn(command, args, {
      cwd: root,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: { ...process.env, NODE_V8_COVERAGE: '' },
    });
    // Compiling with tsx takes a second of CPU on the generator's core, and the first handshake a moment:
    // wait for both, so that no phase measures them.
    const connect: FlooderCommand = { type: 'connect', port, address: FLOODER_ADDRESS };
    child.send(connect);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the flooder was not connected within 20 s')), 20_000);
      child.once('message', () => {
        clearTimeout(timer);
        resolve();
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`the flooder exited with ${String(code)}`));
      });
    });
    return new Flooder(child);
  }

  begin(kind: FloodKind, room: string): void {
    const command: FlooderCommand = { type: 'start', kind, room };
    this.child.send(command);
  }

  finish(): Promise<FlooderStats> {
    return new Promise((resolve, reject) => {
      // The flooder first waits (up to a minute) for the server to answer what it had already written.
      const timer = setTimeout(() => reject(new Error('the flooder did not report within 90 s')), 90_000);
      this.child.once('message', (message: { type: string; stats: FlooderStats }) => {
        clearTimeout(timer);
        resolve(message.stats);
      });
      const command: FlooderCommand = { type: 'stop' };
      this.child.send(command);
    });
  }

  stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      this.child.once('exit', () => resolve());
      this.child.disconnect();
    });
  }
}

/** Runs a quiet phase, one phase per {@link FLOOD_KINDS}, and a quiet phase again, against `server`. */
export async function flood(server: RunningServer, sizes: FloodSizes, log: (line: string) => void = () => undefined): Promise<FloodResult> {
  const shape = { clients: sizes.clients, roomSize: sizes.roomSize, notifiesPerSecond: sizes.notifiesPerSecond, perClient: true };
  const traffic = await RoomTraffic.start(server, shape, 'flood');
  const flooderStats: FlooderStats[] = [];
  let flooder: Flooder | undefined;
  let phases: Map<string, PhaseStats>;
  try {
    flooder = await Flooder.start(server.port);
    await delay(sizes.warmupMs);
    log('flood: quiet phase');
    traffic.begin('quiet');
    await delay(sizes.measureMs);
    traffic.end();
    for (const kind of FLOOD_KINDS) {
      log(`flood: ${kind} flood`);
      // CLIENTS and JOIN/LEAVE go to a room of measured clients, where the traffic is. NOTIFYs go to a room
      // none of them is in: what is measured is the server's cost of the flood, not the load generator's
      // cost of reading it (the rate limit still lets one sender put 100 EVENTs/s into a room, by design).
      flooder.begin(kind, kind === 'notify' ? 'flood-sink' : 'flood-0');
      await delay(sizes.warmupMs);
      traffic.begin(kind);
      await delay(sizes.measureMs);
      traffic.end();
      // Stops the flood and waits until the server has worked through what was already written, so that
      // one kind's backlog does not spill into the next kind's phase.
      flooderStats.push(await flooder.finish());
    }
    log('flood: quiet phase after');
    await delay(sizes.warmupMs);
    traffic.begin('quiet-after');
    await delay(sizes.measureMs);
    traffic.end();
  } finally {
    await flooder?.stop();
    phases = await traffic.stop();
  }
  const quiet = phases.get('quiet');
  const quietAfter = phases.get('quiet-after');
  if (!quiet || !quietAfter) throw new Error('a quiet phase was not measured');
  const floods = FLOOD_KINDS.map((kind, i): FloodPhase => {
    const stats = phases.get(kind);
    const flooderPhase = flooderStats[i];
    if (!stats || !flooderPhase) throw new Error(`the ${kind} phase was not measured`);
    return { kind, traffic: stats, flooder: flooderPhase, p99Ratio: stats.p99 / quiet.p99, p50Ratio: stats.p50 / quiet.p50 };
  });
  return { sizes, quiet, quietAfter, floods, worstP99Ratio: Math.max(...floods.map((f) => f.p99Ratio)) };
}
