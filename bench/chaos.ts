/**
 * The chaos scenario: reliable-delivery devices and plain-room members on two service nodes sharing one
 * Redis, under steady traffic, while the scenario cuts random connections every few seconds (the TCP
 * connection destroyed, no close frame) and `kill -9`s one node mid-run, starting it again on the same port.
 * Every client reconnects by itself, to the other node first. It runs twice on fresh servers with the same
 * seeded jitter: with the service's default `--recovery-window`, then with `--recovery-window 0`, so that
 * what connection-state recovery buys the plain rooms is measured in the same run. Reliable delivery does
 * not depend on recovery (sites do not recover by default) and is measured in both.
 * `npm run bench -- --scenario chaos`.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { reconnectCounts, type ChaosClient, type ReconnectCounts, type ReconnectTiming } from './chaos-client.js';
import { DeviceTraffic, type DeviceStats } from './chaos-devices.js';
import { startChaosCluster, type Crash } from './chaos-nodes.js';
import { RoomChaos, type RoomStats } from './chaos-rooms.js';
import { until } from './scenarios.js';
import type { Socket } from 'socket.io-client';

/** Sizes and timings of a chaos run. */
export interface ChaosSizes {
  readonly devices: number;
  /** `POST /send`s per second over all devices' user rooms. */
  readonly pushesPerSecond: number;
  readonly roomClients: number;
  readonly roomSize: number;
  readonly notifiesPerSecond: number;
  /** How long the traffic and the jitter run. */
  readonly durationMs: number;
  /** How often the jitter strikes. */
  readonly jitterEveryMs: number;
  /** The share of all clients each strike cuts (of those connected then). */
  readonly dropFraction: number;
  /** When node 2 is `kill -9`ed, from the start of the traffic. */
  readonly killAtMs: number;
  /** How long it stays down. */
  readonly restartAfterMs: number;
  readonly reconnect: ReconnectTiming;
  /** How long the end waits for the clients to be back and their messages to arrive. */
  readonly drainMs: number;
  /** The jitter's seed: both runs cut the same clients at the same moments (those connected then). */
  readonly seed: number;
}

/**
 * 200 devices (50 pushes/s) and 200 room members in rooms of 10 (40 NOTIFYs/s, 360 deliveries/s) for a
 * minute; every 2 s a tenth of the connections is cut; node 2 is killed at 25 s and back 5 s later. The
 * clients reconnect with socket.io-client's default timing (1 s, doubling to 5 s, ± 50 %).
 */
export const CHAOS_FULL: ChaosSizes = {
  devices: 200,
  pushesPerSecond: 50,
  roomClients: 200,
  roomSize: 10,
  notifiesPerSecond: 40,
  durationMs: 60_000,
  jitterEveryMs: 2000,
  dropFraction: 0.1,
  killAtMs: 25_000,
  restartAfterMs: 5000,
  reconnect: { delayMs: 1000, delayMaxMs: 5000 },
  drainMs: 30_000,
  seed: 42,
};

/** Small and short for `npm test` (test/bench.test.ts): its figures mean nothing, its outcomes do. */
export const CHAOS_QUICK: ChaosSizes = {
  devices: 20,
  pushesPerSecond: 20,
  roomClients: 20,
  roomSize: 5,
  notifiesPerSecond: 20,
  durationMs: 5000,
  jitterEveryMs: 700,
  dropFraction: 0.2,
  killAtMs: 2000,
  restartAfterMs: 1000,
  reconnect: { delayMs: 200, delayMaxMs: 1000 },
  drainMs: 20_000,
  seed: 42,
};

/** One run of the scenario, on fresh servers. */
export interface ChaosPhase {
  /** The extra service flags of the run. */
  args: string[];
  devices: DeviceStats;
  deviceReconnects: ReconnectCounts;
  rooms: RoomStats;
  roomReconnects: ReconnectCounts;
  /** Connections the jitter cut. */
  drops: number;
  /** Clients connected to node 2 when it was killed. */
  killedClients: number;
  /** Node exits nobody asked for. */
  crashes: Crash[];
  /** What the nodes logged at warn or above, by message. */
  problems: Record<string, number>;
}

/** Both runs. */
export interface ChaosResult {
  sizes: ChaosSizes;
  withRecovery: ChaosPhase;
  withoutRecovery: ChaosPhase;
}

/** Runs the scenario: with recovery, then with `--recovery-window 0`. */
export async function chaos(sizes: ChaosSizes, log: (line: string) => void = () => undefined): Promise<ChaosResult> {
  log('chaos: with connection-state recovery (the default window)');
  const withRecovery = await chaosPhase(sizes, [], log);
  log('chaos: with --recovery-window 0');
  const withoutRecovery = await chaosPhase(sizes, ['--recovery-window', '0'], log);
  return { sizes, withRecovery, withoutRecovery };
}

/** A small seeded PRNG (mulberry32): the same cuts in both runs. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function chaosPhase(sizes: ChaosSizes, args: string[], log: (line: string) => void): Promise<ChaosPhase> {
  const cluster = await startChaosCluster(2, args);
  const urls = cluster.nodes.map((node) => node.url);
  const connectMs = 30_000;
  let devices: DeviceTraffic | undefined;
  let rooms: RoomChaos | undefined;
  try {
    devices = await DeviceTraffic.start(
      urls,
      { devices: sizes.devices, pushesPerSecond: sizes.pushesPerSecond, timing: sizes.reconnect },
      connectMs,
    );
    rooms = await RoomChaos.start(
      urls,
      { clients: sizes.roomClients, roomSize: sizes.roomSize, notifiesPerSecond: sizes.notifiesPerSecond, timing: sizes.reconnect },
      connectMs,
      sizes.devices,
    );
    const deviceTraffic = devices;
    const roomTraffic = rooms;
    const everyone: ChaosClient<Socket>[] = [...deviceTraffic.clients(), ...roomTraffic.clients()];
    const random = seeded(sizes.seed);
    let drops = 0;
    let killedClients = 0;
    const start = performance.now();
    deviceTraffic.run();
    roomTraffic.run();
    const jitter = setInterval(() => {
      const cut = Math.round(everyone.length * sizes.dropFraction);
      for (let i = 0; i < cut; i++) {
        const client = everyone[Math.floor(random() * everyone.length)];
        if (client?.drop()) drops++;
      }
    }, sizes.jitterEveryMs);
    const victim = cluster.nodes[1];
    if (!victim) throw new Error('the chaos cluster has two nodes');
    const restarted = delay(sizes.killAtMs).then(async () => {
      for (const client of everyone) {
        if (client.connected && client.node === victim.index) {
          client.markKilled();
          killedClients++;
        }
      }
      roomTraffic.killed(victim.index, performance.now());
      log(`chaos: kill -9 node ${victim.index + 1} (${killedClients} clients on it)`);
      await victim.kill();
      await delay(sizes.restartAfterMs);
      await victim.start();
      log(`chaos: node ${victim.index + 1} is back on port ${victim.port}`);
    });
    // Awaited after the traffic: a failed restart must not be an unhandled rejection meanwhile.
    const restartFailure = restarted.then(
      () => undefined,
      (err: unknown) => (err instanceof Error ? err : new Error(String(err))),
    );
    await delay(Math.max(0, sizes.durationMs - (performance.now() - start)));
    clearInterval(jitter);
    const failure = await restartFailure;
    if (failure !== undefined) throw failure;
    await deviceTraffic.stopPushing(sizes.drainMs);
    await until(() => deviceTraffic.allDelivered(), sizes.drainMs);
    await roomTraffic.drain(sizes.drainMs);
    const phase: ChaosPhase = {
      args,
      devices: deviceTraffic.stats(),
      deviceReconnects: reconnectCounts(deviceTraffic.clients()),
      rooms: roomTraffic.stats(),
      roomReconnects: reconnectCounts(roomTraffic.clients()),
      drops,
      killedClients,
      crashes: [...cluster.crashes],
      problems: Object.fromEntries(cluster.problems),
    };
    log(
      `chaos: devices ${phase.devices.delivered}/${phase.devices.published} delivered, ${phase.devices.duplicates} duplicates; ` +
        `rooms ${phase.rooms.delivered}/${phase.rooms.expected} delivered; ${drops} drops; ${phase.crashes.length} crashes`,
    );
    return phase;
  } finally {
    devices?.close();
    rooms?.close();
    await cluster.stop();
  }
}
