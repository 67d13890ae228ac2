/**
 * The reconnect storm: `clients` raw-ws clients JOINed to one `/layout` room; the
 * server is `kill -9`ed and started again on the same port at once; every client comes back as
 * socket.io-client would (bench/storm-client.ts says exactly what is emulated) and re-JOINs. Measured: the
 * seconds from the kill until the restarted process logged that it listens, and until every client's JOIN
 * was acknowledged again; the attempts it took and why the failed ones failed; the kernel's listen-queue
 * drops and TCP retransmits over the storm (bench/tcp-counters.ts); and that one NOTIFY afterwards reaches
 * every member. The service and plain Socket.IO take turns (service, socketio, service, …) for `rounds`
 * rounds each; the summary is the median of each figure over a system's rounds.
 *
 * The cluster form (where redis-server is installed): two service nodes on one Redis, the clients spread
 * over both; node 2 is `kill -9`ed and not started again, so its clients move to node 1 (each attempt goes
 * to the next node after the previous attempt's). `npm run bench -- --scenario storm`.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { clientAddress } from './addresses.js';
import { BenchClient } from './client.js';
import { CONNECT_CONCURRENCY, DRAIN_MS, until } from './scenarios.js';
import { noFailures, StormClient, type AttemptFailures, type ReconnectPolicy, type StormCounts } from './storm-client.js';
import { hasRedis, startCluster, startRestartable, type SystemSpec } from './systems.js';
import { readTcpCounters, tcpDelta, type TcpCounters } from './tcp-counters.js';

/** Sizes and timings of a storm run. */
export interface StormSizes {
  readonly clients: number;
  /** Rounds per system, alternating between the systems. */
  readonly rounds: number;
  readonly policy: ReconnectPolicy;
  /** How long a round waits for every client to be back before it gives up and reports who is. */
  readonly deadlineMs: number;
  /** Whether to run the cluster form too (only where redis-server is installed). */
  readonly cluster: boolean;
}

/** socket.io-client's defaults (1 s doubling to 5 s, ± 50 %, 20 s timeout), first attempt within 0–2 s. */
export const SOCKET_IO_CLIENT_POLICY: ReconnectPolicy = {
  firstDelayMs: 2000,
  reconnectionDelayMs: 1000,
  reconnectionDelayMaxMs: 5000,
  randomizationFactor: 0.5,
  attemptTimeoutMs: 20_000,
};

/** 8,000 clients, three rounds per system, socket.io-client's timing. */
export const STORM_FULL: StormSizes = { clients: 8000, rounds: 3, policy: SOCKET_IO_CLIENT_POLICY, deadlineMs: 90_000, cluster: true };

/** A smoke test of the harness: 40 clients, one round each, a quarter of the delays. */
export const STORM_QUICK: StormSizes = {
  clients: 40,
  rounds: 1,
  policy: { firstDelayMs: 500, reconnectionDelayMs: 250, reconnectionDelayMaxMs: 1000, randomizationFactor: 0.5, attemptTimeoutMs: 5000 },
  deadlineMs: 30_000,
  cluster: true,
};

/** What one storm measured. */
export interface StormRound {
  readonly system: string;
  readonly clients: number;
  /** Clients on the killed process at the kill (all of them for one process). */
  readonly killedClients: number;
  /** Kill → the restarted process logged that it listens; NaN where it is not restarted (the cluster form). */
  readonly portOpenMs: number;
  /** Kill → half the killed process's clients were back. */
  readonly halfBackMs: number;
  /** Kill → the last one was back; NaN when some were not back by the deadline. */
  readonly allBackMs: number;
  /** Clients back (JOIN acknowledged) by the deadline. */
  readonly back: number;
  /** Connection attempts after the kill, failed ones included. */
  readonly attempts: number;
  readonly failures: AttemptFailures;
  /** Clients the NOTIFY sent after the storm reached. */
  readonly broadcastReached: number;
  /** The kernel's counters over the storm (the whole machine's), where /proc/net can be read. */
  readonly tcp: TcpCounters | undefined;
}

/** The storm scenario's result. */
export interface StormResult {
  readonly sizes: StormSizes;
  /** Every round, in the order run. */
  readonly rounds: readonly StormRound[];
  /** Per system, the median of each figure over its rounds. */
  readonly medians: Readonly<Record<string, StormRound>>;
  /** The cluster form, where it ran. */
  readonly cluster: StormRound | undefined;
}

const ROOM = 'storm';
/** How often the harness looks whether everyone is back (the figures come from each client's own time). */
const POLL_MS = 20;

/** Connects and JOINs every client, `CONNECT_CONCURRENCY` at a time. */
async function joinAll(clients: readonly StormClient[]): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < clients.length) await clients[next++]?.join();
  };
  await Promise.all(Array.from({ length: Math.min(CONNECT_CONCURRENCY, clients.length) }, worker));
}

/** A room of storm clients on `ports`, each receiving the NOTIFY marked `marker`. */
function stormRoom(
  sizes: StormSizes,
  ports: readonly number[],
  marker: string,
): { clients: StormClient[]; counts: StormCounts; reached: Set<number> } {
  const counts: StormCounts = { attempts: 0, failures: noFailures() };
  const reached = new Set<number>();
  const clients = Array.from(
    { length: sizes.clients },
    (_, i) =>
      new StormClient(i, ports, ROOM, clientAddress(i), sizes.policy, counts, (body) => {
        if (body.includes(marker)) reached.add(i);
      }),
  );
  return { clients, counts, reached };
}

/**
 * One NOTIFY to the room from a publisher outside it; resolves with how many members received it, or NaN
 * when the publisher could not connect (a server still swamped by the storm: the round's other figures stand).
 */
async function broadcast(port: number, sizes: StormSizes, marker: string, reached: Set<number>): Promise<number> {
  let publisher: BenchClient;
  try {
    publisher = await BenchClient.connect(port, '/layout', {
      localAddress: clientAddress(sizes.clients),
      timeoutMs: sizes.policy.attemptTimeoutMs,
    });
  } catch {
    return Number.NaN;
  }
  try {
    await publisher.request('JOIN', { room: `${ROOM}-publisher`, name: 'publisher' });
    await publisher.request('NOTIFY', { room: ROOM, message: marker });
    await until(() => reached.size === sizes.clients, DRAIN_MS);
    return reached.size;
  } finally {
    await publisher.close();
  }
}

/** The figures of a storm that began at `t0`, once everyone is back or the deadline passed. */
async function awaitStorm(
  system: string,
  sizes: StormSizes,
  clients: readonly StormClient[],
  killed: readonly StormClient[],
  counts: StormCounts,
  t0: number,
): Promise<Omit<StormRound, 'portOpenMs' | 'broadcastReached' | 'tcp'>> {
  const deadline = t0 + sizes.deadlineMs;
  // A killed client is back once it JOINed after the kill: until its close event arrives it still looks connected.
  const isBack = new Set(killed);
  const returned = (c: StormClient): boolean => c.back && (!isBack.has(c) || c.backAt > t0);
  while (performance.now() < deadline && !clients.every(returned)) await delay(POLL_MS);
  const times = killed
    .filter(returned)
    .map((c) => c.backAt - t0)
    .sort((a, b) => a - b);
  const back = clients.filter(returned).length;
  return {
    system,
    clients: sizes.clients,
    killedClients: killed.length,
    halfBackMs: times[Math.ceil(killed.length / 2) - 1] ?? Number.NaN,
    allBackMs: back === sizes.clients ? (times.at(-1) ?? 0) : Number.NaN,
    back,
    attempts: counts.attempts,
    failures: { ...counts.failures },
  };
}

/** One storm against one process of `spec`, killed and started again on its port. */
async function singleRound(spec: SystemSpec, sizes: StormSizes, round: number): Promise<StormRound> {
  const server = await startRestartable(spec);
  const marker = `storm-${spec.name}-${round}`;
  const { clients, counts, reached } = stormRoom(sizes, server.ports, marker);
  try {
    await joinAll(clients);
    const tcp0 = readTcpCounters();
    const t0 = performance.now();
    let portOpenMs = Number.NaN;
    const restarted = server.restart().then(() => {
      portOpenMs = performance.now() - t0;
    });
    const storm = await awaitStorm(spec.name, sizes, clients, clients, counts, t0);
    await restarted;
    const tcp = tcpDelta(tcp0, readTcpCounters());
    const broadcastReached = await broadcast(server.port, sizes, marker, reached);
    return { ...storm, portOpenMs, broadcastReached, tcp };
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    await server.stop();
  }
}

/** The cluster form: two service nodes on one Redis, node 2 killed for good, its clients move to node 1. */
async function clusterRound(service: SystemSpec, sizes: StormSizes): Promise<StormRound> {
  const cluster = await startCluster(service, 2);
  const marker = 'storm-cluster';
  const { clients, counts, reached } = stormRoom(sizes, cluster.ports, marker);
  try {
    await joinAll(clients);
    const killed = clients.filter((c) => c.node === 1);
    const tcp0 = readTcpCounters();
    const t0 = performance.now();
    await cluster.nodes[1]?.kill();
    const storm = await awaitStorm('service, 2 nodes', sizes, clients, killed, counts, t0);
    const tcp = tcpDelta(tcp0, readTcpCounters());
    const broadcastReached = await broadcast(cluster.port, sizes, marker, reached);
    return { ...storm, portOpenMs: Number.NaN, broadcastReached, tcp };
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    await cluster.stop();
  }
}

function median(values: readonly number[]): number {
  const sorted = values.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
  if (sorted.length < values.length) return Number.NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? Number.NaN) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

/** Each figure's median over `rounds` (all of one system); a round not everyone came back from makes the times NaN. */
function medianRound(rounds: readonly StormRound[]): StormRound {
  const first = rounds[0];
  if (!first) throw new Error('no rounds');
  const m = (pick: (r: StormRound) => number): number => median(rounds.map(pick));
  const tcp = rounds.every((r) => r.tcp)
    ? {
        listenOverflows: m((r) => r.tcp?.listenOverflows ?? 0),
        listenDrops: m((r) => r.tcp?.listenDrops ?? 0),
        retransSegs: m((r) => r.tcp?.retransSegs ?? 0),
      }
    : undefined;
  return {
    system: first.system,
    clients: first.clients,
    killedClients: m((r) => r.killedClients),
    portOpenMs: m((r) => r.portOpenMs),
    halfBackMs: m((r) => r.halfBackMs),
    allBackMs: m((r) => r.allBackMs),
    back: m((r) => r.back),
    attempts: m((r) => r.attempts),
    failures: {
      refused: m((r) => r.failures.refused),
      reset: m((r) => r.failures.reset),
      timeout: m((r) => r.failures.timeout),
      rejected: m((r) => r.failures.rejected),
      other: m((r) => r.failures.other),
    },
    broadcastReached: m((r) => r.broadcastReached),
    tcp,
  };
}

/**
 * Runs the storm against each of `systems` in turn, `sizes.rounds` times, then the cluster form against
 * the service (named `service`) where Redis is installed and `sizes.cluster` asks for it.
 */
export async function storm(systems: readonly SystemSpec[], sizes: StormSizes, log: (line: string) => void): Promise<StormResult> {
  const rounds: StormRound[] = [];
  for (let round = 1; round <= sizes.rounds; round++) {
    for (const spec of systems) {
      log(`${spec.name}: reconnect storm, round ${round} of ${sizes.rounds}`);
      rounds.push(await singleRound(spec, sizes, round));
    }
  }
  const medians: Record<string, StormRound> = {};
  for (const spec of systems) medians[spec.name] = medianRound(rounds.filter((r) => r.system === spec.name));
  const service = systems.find((spec) => spec.name === 'service');
  let cluster: StormRound | undefined;
  if (service && sizes.cluster && hasRedis) {
    log('service: reconnect storm on 2 nodes + Redis, one killed');
    cluster = await clusterRound(service, sizes);
  }
  return { sizes, rounds, medians, cluster };
}
