/**
 * The bench scenarios. Each drives one started system through the load-generator clients and returns
 * what it measured; none asserts anything about speed.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { clientAddress } from './addresses.js';
import { BenchClient, connectMany, readStamp, stamp } from './client.js';
import type { MemorySample, RunningServer } from './systems.js';

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
const FANOUT_WINDOW = 4;
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

async function closeAll(clients: readonly BenchClient[]): Promise<void> {
  await Promise.all(clients.map((client) => client.close()));
}

/** Waits until `done()` or `ms` passed; polling is fine here, this is the harness, not a test. */
export async function until(done: () => boolean, ms: number): Promise<void> {
  const deadline = performance.now() + ms;
  while (!done() && performance.now() < deadline) await delay(5);
}

/** Measures the closed-loop phase: CPU and completed work between warm-up and the end. */
async function measure(server: RunningServer, sizes: BenchSizes, work: () => number): Promise<{ perSecond: number; cpuMicros: number }> {
  await delay(sizes.warmupMs);
  const cpu0 = server.cpuNs();
  const t0 = performance.now();
  const w0 = work();
  await delay(sizes.measureMs);
  const cpu1 = server.cpuNs();
  const t1 = performance.now();
  const done = work() - w0;
  return { perSecond: (done * 1000) / (t1 - t0), cpuMicros: done > 0 ? (cpu1 - cpu0) / 1000 / done : Number.NaN };
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

/** Scenario 1: one publisher, `fanoutReceivers` members of one room, closed loop with a small window. */
export async function fanout(server: RunningServer, sizes: BenchSizes): Promise<Throughput> {
  const n = sizes.fanoutReceivers;
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
  for (let i = 0; i < FANOUT_WINDOW; i++) publish();
  const result = await measure(server, sizes, () => deliveries);
  running = false;
  await until(() => deliveries === sent * n, DRAIN_MS);
  const lost = sent * n - deliveries;
  await closeAll([...receivers, publisher]);
  return { ...result, lost };
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
  const clients = await connectMany(total, CONNECT_CONCURRENCY, async (i) => {
    const client = await BenchClient.connect(server.port, '/layout', { localAddress: clientAddress(i) });
    await client.request('JOIN', { room: `room-${Math.floor(i / m)}`, name: `m${i}` });
    return client;
  });
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
