/**
 * The bench scenarios. Each drives one started system through the load-generator clients and returns
 * what it measured; none asserts anything about speed.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { clientAddress } from './addresses.js';
import { BenchClient, connectMany, readStamp, stamp } from './client.js';
import { writeSyscalls, type MemorySample, type RunningServer } from './systems.js';

/** Sizes and durations of a run. */
export interface BenchSizes {
  readonly fanoutReceivers: number;
  readonly rooms: number;
  readonly membersPerRoom: number;
  readonly lobbyPairs: number;
  readonly warmupMs: number;
  readonly measureMs: number;
  /** Fractions of the reference maximum message rate at which latency is measured. */
  readonly latencyLoads: readonly number[];
}

/** Characters of every NOTIFY's message. */
export const MESSAGE_SIZE = 100;
/** Handshakes in flight at once while a scenario connects its clients. */
export const CONNECT_CONCURRENCY = 200;
/** Messages in flight in the fan-out scenario. */
export const FANOUT_WINDOW = 4;
/** How long a scenario waits for messages still in flight before it counts them lost. */
export const DRAIN_MS = 5000;

/** Throughput of a closed-loop phase. */
export interface Throughput {
  /** Deliveries (messages received by a client) per second. */
  perSecond: number;
  /** Server CPU time per delivery, in microseconds. */
  cpuMicros: number;
  /** Deliveries that never arrived. */
  lost: number;
  /** The redis-server's CPU time per delivery, in microseconds (a cluster only; not in `cpuMicros`). */
  redisCpuMicros?: number;
}

/** Latency of an open-loop phase at a fixed rate. */
export interface Latency {
  load: number;
  messagesPerSecond: number;
  p50: number;
  p99: number;
  p999: number;
  max: number;
  lost: number;
}

/** Idle-connection memory and connection rate. */
export interface Memory {
  connections: number;
  rssPerConnection: number;
  heapPerConnection: number;
  connectsPerSecond: number;
  /** The server's CPU time over the connect+JOIN phase, per connection, in µs (handshake, CONNECT, JOIN). */
  connectCpuMicros: number;
}

/** Closes every client and resolves once all are closed. */
export async function closeAll(clients: readonly BenchClient[]): Promise<void> {
  await Promise.all(clients.map((client) => client.close()));
}

/** Waits until `done()` or `ms` passed; polling is fine here, this is the harness, not a test. */
export async function until(done: () => boolean, ms: number): Promise<void> {
  const deadline = performance.now() + ms;
  while (!done() && performance.now() < deadline) await delay(5);
}

/** Waits until `done()`, or until `progress()` has not changed for `ms`. */
export async function untilStalled(done: () => boolean, progress: () => number, ms: number): Promise<void> {
  let last = progress();
  let since = performance.now();
  while (!done() && performance.now() - since < ms) {
    await delay(5);
    const now = progress();
    if (now !== last) {
      last = now;
      since = performance.now();
    }
  }
}

/** The warm-up and measured durations of a closed-loop phase. */
export type PhaseTimes = Pick<BenchSizes, 'warmupMs' | 'measureMs'>;

/** Measures the closed-loop phase: CPU and completed work between warm-up and the end. */
async function measure(
  server: RunningServer,
  times: PhaseTimes,
  work: () => number,
): Promise<{ perSecond: number; cpuMicros: number; redisCpuMicros?: number }> {
  const phase = await measurePhase(server, times, [work]);
  const done = phase.counted[0] ?? 0;
  const perDelivery = (ns: number): number => (done > 0 ? ns / 1000 / done : Number.NaN);
  return {
    perSecond: (done * 1000) / phase.ms,
    cpuMicros: perDelivery(phase.cpuNs),
    ...(phase.redisCpuNs === undefined ? {} : { redisCpuMicros: perDelivery(phase.redisCpuNs) }),
  };
}

/**
 * Waits out the warm-up, then reads the server's CPU time (and its Redis's, where it has one) and every
 * counter at the start and the end of the measured phase. Returns the phase's length, the CPU times and
 * each counter's increase.
 */
async function measurePhase(
  server: RunningServer,
  times: PhaseTimes,
  counters: readonly (() => number)[],
): Promise<{ ms: number; cpuNs: number; redisCpuNs?: number; counted: number[] }> {
  await delay(times.warmupMs);
  const cpu0 = server.cpuNs();
  const redis0 = server.redisCpuNs?.();
  const t0 = performance.now();
  const start = counters.map((read) => read());
  await delay(times.measureMs);
  const cpu1 = server.cpuNs();
  const redis1 = server.redisCpuNs?.();
  const t1 = performance.now();
  return {
    ms: t1 - t0,
    cpuNs: cpu1 - cpu0,
    ...(redis0 === undefined || redis1 === undefined ? {} : { redisCpuNs: redis1 - redis0 }),
    counted: counters.map((read, i) => read() - (start[i] ?? 0)),
  };
}

async function joinedRoom(
  server: RunningServer,
  receivers: number,
  room: string,
): Promise<{ receivers: BenchClient[]; publisher: BenchClient }> {
  const clients = await connectMany(receivers, CONNECT_CONCURRENCY, async (i) => {
    // Spread over the nodes of a cluster (a single server has one port).
    const client = await BenchClient.connect(server.ports[i % server.ports.length] ?? server.port, '/layout', {
      localAddress: clientAddress(i),
    });
    await client.request('JOIN', { room, name: `r${i}` });
    return client;
  });
  const publisher = await BenchClient.connect(server.port, '/layout', { localAddress: clientAddress(receivers) });
  await publisher.request('JOIN', { room: `${room}-publisher`, name: 'publisher' });
  return { receivers: clients, publisher };
}

function notifyPacket(room: string, seq: number): string {
  return `42/layout,${JSON.stringify(['NOTIFY', { room, message: stamp(seq, performance.now(), MESSAGE_SIZE) }])}`;
}

/** One room's closed-loop fan-out: how many members, how many messages in flight, how long. */
export interface FanoutShape extends PhaseTimes {
  readonly receivers: number;
  /** Messages in flight: the next is published when one has reached every receiver. */
  readonly window: number;
}

/** What {@link fanoutRoom} measured. */
export interface FanoutResult extends Throughput {
  /** Messages the publisher sent per second over the measured phase. */
  publishedPerSecond: number;
  /** Share of one core the server used over the measured phase. */
  serverBusy: number;
  /** The server's write system calls per delivery over the phase: below 1, frames shared a write. */
  writesPerDelivery: number;
}

/** One publisher, `shape.receivers` members of one room, closed loop with `shape.window` messages in flight. */
export async function fanoutRoom(server: RunningServer, shape: FanoutShape): Promise<FanoutResult> {
  const n = shape.receivers;
  const { receivers, publisher } = await joinedRoom(server, n, 'fanout');
  const counts = new Map<number, number>();
  let sent = 0;
  let deliveries = 0;
  let running = true;
  const publish = (): void => publisher.sendRaw(notifyPacket('fanout', sent++));
  for (const receiver of receivers) {
    receiver.onEvent = (body) => {
      const { seq } = readStamp(body, '"message":"');
      if (seq < 0) return;
      deliveries++;
      const count = (counts.get(seq) ?? 0) + 1;
      if (count < n) {
        counts.set(seq, count);
        return;
      }
      counts.delete(seq);
      if (running) publish();
    };
  }
  for (let i = 0; i < shape.window; i++) publish();
  const phase = await measurePhase(server, shape, [() => deliveries, () => sent, () => writeSyscalls(server.pid)]);
  const [done = 0, published = 0, writes = Number.NaN] = phase.counted;
  running = false;
  // A big room behind a slow generator may take longer than the drain time to empty: it is lost only when
  // nothing more arrives for that long.
  await untilStalled(
    () => deliveries === sent * n,
    () => deliveries,
    DRAIN_MS,
  );
  const lost = sent * n - deliveries;
  await closeAll([...receivers, publisher]);
  return {
    perSecond: (done * 1000) / phase.ms,
    cpuMicros: done > 0 ? phase.cpuNs / 1000 / done : Number.NaN,
    ...(phase.redisCpuNs === undefined || done === 0 ? {} : { redisCpuMicros: phase.redisCpuNs / 1000 / done }),
    lost,
    publishedPerSecond: (published * 1000) / phase.ms,
    // CPU time of every thread over wall time: 1 is one core, all the phase.
    serverBusy: phase.cpuNs / 1e6 / phase.ms,
    writesPerDelivery: done > 0 ? writes / done : Number.NaN,
  };
}

/** Scenario 1: one publisher, `fanoutReceivers` members of one room, closed loop with a small window. */
export async function fanout(server: RunningServer, sizes: BenchSizes): Promise<Throughput> {
  const { perSecond, cpuMicros, lost, redisCpuMicros } = await fanoutRoom(server, {
    ...sizes,
    receivers: sizes.fanoutReceivers,
    window: FANOUT_WINDOW,
  });
  return { perSecond, cpuMicros, lost, ...(redisCpuMicros === undefined ? {} : { redisCpuMicros }) };
}

/** Scenario 2: the same room at fixed open-loop rates; publish-to-receive latency in milliseconds. */
export async function latency(server: RunningServer, sizes: BenchSizes, maxMessagesPerSecond: number): Promise<Latency[]> {
  const n = sizes.fanoutReceivers;
  const { receivers, publisher } = await joinedRoom(server, n, 'latency');
  const results: Latency[] = [];
  for (const load of sizes.latencyLoads) {
    const rate = Math.max(1, Math.round(maxMessagesPerSecond * load));
    const total = Math.max(1, Math.round((rate * sizes.measureMs) / 1000));
    const samples = new Float64Array(total * n);
    let received = 0;
    for (const receiver of receivers) {
      receiver.onEvent = (body) => {
        const { seq, time } = readStamp(body, '"message":"');
        if (seq >= 0 && received < samples.length) samples[received++] = performance.now() - time;
      };
    }
    let sent = 0;
    const start = performance.now();
    await new Promise<void>((resolve) => {
      const tick = (): void => {
        const due = Math.min(total, Math.floor(((performance.now() - start) * rate) / 1000) + 1);
        while (sent < due) publisher.sendRaw(notifyPacket('latency', sent++));
        if (sent < total) setImmediate(tick);
        else resolve();
      };
      tick();
    });
    await until(() => received === total * n, DRAIN_MS);
    const sorted = samples.subarray(0, received).sort();
    const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
    results.push({
      load,
      messagesPerSecond: rate,
      p50: at(0.5),
      p99: at(0.99),
      p999: at(0.999),
      max: sorted[sorted.length - 1] ?? Number.NaN,
      lost: total * n - received,
    });
  }
  await closeAll([...receivers, publisher]);
  return results;
}

/**
 * Connects `count` clients (the `first`-th onward, for their source addresses and names) and JOINs each to
 * `room-<index ÷ membersPerRoom>`, so that later calls fill rooms on where earlier ones stopped.
 */
export function joinIdle(server: RunningServer, first: number, count: number, membersPerRoom: number): Promise<BenchClient[]> {
  return connectMany(count, CONNECT_CONCURRENCY, async (offset) => {
    const i = first + offset;
    const client = await BenchClient.connect(server.port, '/layout', { localAddress: clientAddress(i) });
    await client.request('JOIN', { room: `room-${Math.floor(i / membersPerRoom)}`, name: `m${i}` });
    return client;
  });
}

/**
 * Scenarios 3 and 4 on the same connections: `rooms` × `membersPerRoom` idle JOINed connections give the
 * memory per connection and the connect+JOIN rate; then the first member of every room publishes in a
 * closed loop (one message in flight per room) to the others.
 */
export async function manyRooms(server: RunningServer, sizes: BenchSizes): Promise<{ memory: Memory; throughput: Throughput }> {
  const { rooms, membersPerRoom: m } = sizes;
  const total = rooms * m;
  const before: MemorySample = await server.memory();
  const t0 = performance.now();
  const connectCpu0 = server.cpuNs();
  const clients = await joinIdle(server, 0, total, m);
  const connectsPerSecond = (total * 1000) / (performance.now() - t0);
  const connectCpuMicros = (server.cpuNs() - connectCpu0) / 1000 / total;
  const after: MemorySample = await server.memory();
  const memory: Memory = {
    connections: total,
    rssPerConnection: (after.rss - before.rss) / total,
    heapPerConnection: (after.heapUsed - before.heapUsed) / total,
    connectsPerSecond,
    connectCpuMicros,
  };

  const counts = new Int32Array(rooms);
  const inFlight = new Uint8Array(rooms);
  let deliveries = 0;
  let running = true;
  const publish = (room: number): void => {
    inFlight[room] = 1;
    clients[room * m]?.sendRaw(notifyPacket(`room-${room}`, room));
  };
  clients.forEach((client, i) => {
    if (i % m === 0) return;
    client.onEvent = (body) => {
      const { seq: room } = readStamp(body, '"message":"');
      if (room < 0) return;
      deliveries++;
      counts[room] = (counts[room] ?? 0) + 1;
      if (counts[room] === m - 1) {
        counts[room] = 0;
        inFlight[room] = 0;
        if (running) publish(room);
      }
    };
  });
  for (let room = 0; room < rooms; room++) publish(room);
  const result = await measure(server, sizes, () => deliveries);
  running = false;
  await until(() => inFlight.every((flag) => flag === 0), DRAIN_MS);
  let lost = 0;
  inFlight.forEach((flag, room) => {
    if (flag) lost += m - 1 - (counts[room] ?? 0);
  });
  await closeAll(clients);
  return { memory, throughput: { ...result, lost } };
}

/** Scenario 5: `lobbyPairs` lobbies of two peers bouncing RTCSIGNALs at each other (one in flight each way). */
export async function lobbySignalling(server: RunningServer, sizes: BenchSizes): Promise<Throughput> {
  const pairs = sizes.lobbyPairs;
  const clients = await connectMany(pairs * 2, CONNECT_CONCURRENCY, async (i) => {
    const client = await BenchClient.connect(server.port, '/lobby', { localAddress: clientAddress(i) });
    await client.request('JOIN', `lobby-${Math.floor(i / 2)}`);
    return client;
  });
  let delivered = 0;
  let sent = 0;
  let running = true;
  const signal = (from: BenchClient, to: BenchClient): void => {
    sent++;
    from.sendRaw(`42/lobby,${JSON.stringify(['RTCSIGNAL', { s: stamp(sent, performance.now(), MESSAGE_SIZE), to: to.id }])}`);
  };
  clients.forEach((client, i) => {
    const peer = clients[i ^ 1];
    if (!peer) return;
    client.onEvent = (body) => {
      if (!body.startsWith('["RTCSIGNAL"')) return;
      delivered++;
      if (running) signal(client, peer);
    };
  });
  clients.forEach((client, i) => {
    const peer = clients[i ^ 1];
    if (peer) signal(client, peer);
  });
  const result = await measure(server, sizes, () => delivered);
  running = false;
  await until(() => delivered === sent, DRAIN_MS);
  const lost = sent - delivered;
  await closeAll(clients);
  return { ...result, lost };
}
