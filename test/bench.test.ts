import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { chaos, CHAOS_QUICK, type ChaosPhase } from '../bench/chaos.js';
import { chaosTable } from '../bench/chaos-table.js';
import { CURVE_SYSTEMS, CURVES_QUICK } from '../bench/curves.js';
import { flood, FLOOD_KINDS, FLOOD_QUICK } from '../bench/flood.js';
import type { PhaseStats } from '../bench/room-traffic.js';
import { floodTable, markdownTable, QUICK, runBench, soakTable } from '../bench/run.js';
import { soak, SOAK_QUICK } from '../bench/soak.js';
import { storm, STORM_QUICK, type StormRound } from '../bench/storm.js';
import { stormTable } from '../bench/storm-table.js';
import { hasRedis, startSystem, SYSTEMS, type RunningServer } from '../bench/systems.js';
import { scaled } from './support/deadlines.js';
import { requireRedis } from './support/redis.js';
import { onTeardown } from './support/teardown.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

// A smoke test of the benchmark harness itself: every scenario runs against every system at tiny sizes.
// It asserts that the harness works and that nothing is lost, never a timing.
describe('benchmark harness (quick mode)', function () {
  this.timeout(scaled(180_000));

  it('runs every scenario against the service and every baseline, losing nothing', async () => {
    if (!existsSync(join(root, 'dist/server.js'))) throw new Error('dist/server.js is missing: run `npm run build` (npm test does)');
    const report = await runBench(QUICK, SYSTEMS, true, () => undefined, { scenarios: ['compare'] });
    expect(Object.keys(report.systems)).to.deep.equal(['socketio', 'raw-ws', 'raw-ws-coalesced', 'service']);
    for (const [name, { result }] of Object.entries(report.systems)) {
      for (const phase of [result.fanout, result.manyRooms, result.lobby]) {
        expect(phase.perSecond, `${name} throughput`).to.be.greaterThan(0);
        expect(phase.cpuMicros, `${name} CPU per delivery`).to.be.greaterThan(0);
        expect(phase.lost, `${name} lost`).to.equal(0);
      }
      expect(result.latency, `${name} latency phases`).to.have.length(QUICK.latencyLoads.length);
      for (const phase of result.latency) {
        expect(phase.lost, `${name} latency lost`).to.equal(0);
        expect(phase.p50, `${name} p50`).to.be.at.most(phase.p99);
        expect(phase.p99, `${name} p99`).to.be.at.most(phase.max);
      }
      expect(result.memory.connections).to.equal(QUICK.rooms * QUICK.membersPerRoom);
      expect(result.memory.connectsPerSecond).to.be.greaterThan(0);
      expect(result.memory.connectCpuMicros, `${name} CPU per connect`).to.be.greaterThan(0);
      expect(result.startupMs, `${name} start-up`).to.be.greaterThan(0);
    }
    if (hasRedis) {
      expect(report.multiNode?.nodes, 'the two-node scenario ran').to.equal(2);
      expect(report.multiNode?.fanout.perSecond).to.be.greaterThan(0);
      expect(report.multiNode?.fanout.lost, 'two nodes lost').to.equal(0);
      expect(report.multiNode?.fanout.redisCpuMicros, "the redis-server's CPU is counted").to.be.greaterThan(0);
    }
    for (const [label, phase] of Object.entries(report.workers ?? {})) {
      expect(phase.perSecond, `--workers ${label} throughput`).to.be.greaterThan(0);
      expect(phase.cpuMicros, `--workers ${label} CPU per delivery`).to.be.greaterThan(0);
      expect(phase.lost, `--workers ${label} lost`).to.equal(0);
    }
    expect(Object.keys(report.workers ?? {}), 'the --workers scenario ran').to.deep.equal(['one', 'two']);
    const table = markdownTable(report);
    expect(table).to.include('| fan-out: deliveries/s |');
    expect(table).to.include('service ÷ raw-ws-coalesced');
    expect(table).to.include('through `--workers`');
  });
});

// The cost curves at tiny sizes: every room size and every connection count measured for the service and
// plain Socket.IO, nothing lost, both tables printed. Figures and ratios are BENCHMARKS.md's, not asserted.
describe('benchmark cost-curves scenario (quick)', function () {
  this.timeout(scaled(120_000));

  it('measures fan-out at every room size and memory at every connection count for both systems, losing nothing', async () => {
    if (!existsSync(join(root, 'dist/server.js'))) throw new Error('dist/server.js is missing: run `npm run build` (npm test does)');
    const report = await runBench(QUICK, SYSTEMS, true, () => undefined, { scenarios: ['curves'], curves: CURVES_QUICK });
    const result = report.curves;
    expect(Object.keys(result?.systems ?? {})).to.deep.equal(CURVE_SYSTEMS);
    for (const [name, curve] of Object.entries(result?.systems ?? {})) {
      expect(
        curve.fanout.map((p) => p.members),
        `${name} room sizes`,
      ).to.deep.equal(CURVES_QUICK.roomSizes);
      for (const point of curve.fanout) {
        expect(point.perSecond, `${name} deliveries/s at ${point.members}`).to.be.greaterThan(0);
        expect(point.publishedPerSecond, `${name} messages/s at ${point.members}`).to.be.greaterThan(0);
        expect(point.cpuMicros, `${name} CPU per delivery at ${point.members}`).to.be.greaterThan(0);
        expect(point.lost, `${name} lost at ${point.members}`).to.equal(0);
      }
      expect(
        curve.memory.map((p) => p.connections),
        `${name} memory steps`,
      ).to.deep.equal([0, ...CURVES_QUICK.connectionCounts]);
      for (const point of curve.memory) expect(point.rss, `${name} RSS at ${point.connections}`).to.be.greaterThan(0);
    }
    const table = markdownTable(report);
    expect(table).to.include('| fan-out to one room of |');
    expect(table).to.include('| idle JOINed connections (rooms of 10) |');
  });
});

/** The service as the bench starts it (built, default limits), stopped after the test. */
async function startService(): Promise<RunningServer> {
  if (!existsSync(join(root, 'dist/server.js'))) throw new Error('dist/server.js is missing: run `npm run build` (npm test does)');
  const spec = SYSTEMS.find((s) => s.name === 'service');
  if (!spec) throw new Error('no service system');
  const server = await startSystem(spec);
  onTeardown(() => server.stop());
  return server;
}

/** A phase in which every steady client was served: every EVENT arrived, every ack was ok, no one was cut off. */
function expectServed(phase: PhaseStats, label: string): void {
  expect(phase.deliveries, `${label} deliveries`).to.be.greaterThan(0);
  expect(phase.lost, `${label} lost EVENTs`).to.equal(0);
  expect(phase.failedAcks, `${label} failed acks`).to.equal(0);
  expect(phase.disconnects, `${label} disconnects`).to.equal(0);
  expect(phase.p50, `${label} p50`).to.be.at.most(phase.p99);
  expect(phase.p99, `${label} p99`).to.be.at.most(phase.max);
}

// The flood and soak scenarios at tiny sizes: the harness drives them to the end and reports what it
// saw. They assert what the clients experienced, never a timing.
describe('benchmark flood scenario (quick)', function () {
  this.timeout(scaled(120_000));

  it('serves the steady clients quiet and under every kind of flood, and counts what the flooder sent and got back', async () => {
    const server = await startService();
    const result = await flood(server, FLOOD_QUICK);
    expectServed(result.quiet, 'quiet');
    expectServed(result.quietAfter, 'quiet after');
    expect(result.floods.map((f) => f.kind)).to.deep.equal(FLOOD_KINDS);
    for (const [i, { kind, traffic, flooder }] of result.floods.entries()) {
      expectServed(traffic, kind);
      expect(flooder.kind).to.equal(kind);
      expect(flooder.connects, `${kind}: the flooder connected`).to.be.at.least(1);
      expect(flooder.sent, `${kind}: the flooder sent`).to.be.greaterThan(0);
      expect(flooder.answered, `${kind}: no more answers than requests`).to.be.at.most(flooder.sent);
      expect(flooder.ok + flooder.rateLimited + flooder.otherErrors, `${kind}: every answer classified`).to.equal(flooder.answered);
      // The service runs with its default limits here: a flooder is held to its event rate, refused and
      // then cut off. Once cut, its reconnects start from the cut connection's standing: they are cut at
      // their first refused event, without a RATE_LIMITED answer, so only the first flood is sure to get those.
      expect(flooder.disconnects, `${kind}: the flooder was cut off`).to.be.greaterThan(0);
      if (i === 0) expect(flooder.rateLimited, `${kind}: the flooder was answered RATE_LIMITED`).to.be.greaterThan(0);
    }
    const table = floodTable(result);
    expect(table).to.include('| NOTIFY→EVENT p99 ms |');
    expect(table).to.include('RATE_LIMITED');
  });
});

describe('benchmark soak scenario (quick)', function () {
  this.timeout(scaled(120_000));

  it('samples the server memory through the run and passes only when RSS is flat and no client saw an error', async () => {
    const server = await startService();
    const result = await soak(server, SOAK_QUICK);
    expect(result.samples).to.have.length(SOAK_QUICK.durationMs / SOAK_QUICK.sampleMs);
    for (const sample of result.samples) {
      expect(sample.rss, 'RSS sampled').to.be.greaterThan(0);
      expect(sample.heapUsed, 'heap sampled').to.be.greaterThan(0);
    }
    expect(result.deliveries).to.be.greaterThan(0);
    expect(result.failedAcks, 'failed acks').to.equal(0);
    expect(result.disconnects, 'disconnects').to.equal(0);
    expect(result.lost, 'lost EVENTs').to.equal(0);
    expect(result.passed, 'the verdict follows the RSS margin').to.equal(result.rssGrowth <= SOAK_QUICK.rssMargin);
    expect(soakTable(result)).to.include(result.passed ? '| result | pass |' : '| result | FAIL |');
  });
});

/** What both chaos runs must show: the jitter and the kill happened, nothing crashed, every push arrived. */
function expectReliable(phase: ChaosPhase, label: string): void {
  expect(phase.crashes, `${label}: node exits nobody asked for`).to.deep.equal([]);
  expect(phase.drops, `${label}: the jitter cut connections`).to.be.greaterThan(0);
  expect(phase.killedClients, `${label}: clients were on the killed node`).to.be.greaterThan(0);
  expect(phase.deviceReconnects.drop.all, `${label}: devices came back after cuts`).to.be.greaterThan(0);
  expect(phase.deviceReconnects.kill.all, `${label}: devices came back after the kill`).to.be.greaterThan(0);
  expect(phase.devices.published, `${label}: pushes published`).to.be.greaterThan(0);
  expect(phase.devices.unqueued, `${label}: pushes that found no device`).to.equal(0);
  // Every id a 200 answered reached its device at least once.
  expect(phase.devices.delivered, `${label}: published pushes delivered`).to.equal(phase.devices.published);
  expect(phase.rooms.fenced, `${label}: every room's last NOTIFY reached every member`).to.equal(true);
}

// The chaos scenario at small sizes on real processes (two nodes, one redis-server): outcomes only, never
// a timing or a ratio (those are BENCHMARKS.md's, from the full run).
describe('benchmark chaos scenario (quick)', function () {
  this.timeout(scaled(180_000));
  before(requireRedis);

  it('delivers every reliable push across cut connections and a kill -9, and recovered room clients miss nothing', async () => {
    if (!existsSync(join(root, 'dist/server.js'))) throw new Error('dist/server.js is missing: run `npm run build` (npm test does)');
    const result = await chaos(CHAOS_QUICK);
    const { withRecovery: on, withoutRecovery: off } = result;
    expectReliable(on, 'recovery on');
    expectReliable(off, '--recovery-window 0');

    expect(on.roomReconnects.drop.recovered, 'recovery on: room clients recovered after cuts').to.be.greaterThan(0);
    expect(on.rooms.misses.dropRecovered, 'recovery on: misses of recovered clients').to.equal(0);
    expect(on.rooms.alwaysRecovered.expected, 'recovery on: messages owed to clients never given a new session').to.be.greaterThan(0);
    expect(on.rooms.alwaysRecovered.delivered, 'recovery on: delivered to clients never given a new session').to.equal(
      on.rooms.alwaysRecovered.expected,
    );
    expect(off.roomReconnects.drop.all, '--recovery-window 0: room clients came back after cuts').to.be.greaterThan(0);
    expect(off.roomReconnects.drop.recovered, '--recovery-window 0: nothing recovers').to.equal(0);

    expect(chaosTable(result)).to.include('| delivered / published (goal 100 %) |');
  });
});

/** A storm everyone came back from: every attempt counted, every client JOINed again and reached by the NOTIFY. */
function expectBack(round: StormRound, label: string): void {
  expect(round.killedClients, `${label}: clients were on the killed process`).to.be.greaterThan(0);
  expect(round.back, `${label}: clients back`).to.equal(round.clients);
  expect(round.attempts, `${label}: at least one attempt per killed client`).to.be.at.least(round.killedClients);
  const { refused, reset, timeout, rejected, other } = round.failures;
  const failed = refused + reset + timeout + rejected + other;
  expect(round.attempts - failed, `${label}: one successful attempt per killed client`).to.equal(round.killedClients);
  expect(round.broadcastReached, `${label}: the NOTIFY afterwards reached every member`).to.equal(round.clients);
}

// The reconnect storm at tiny sizes on real processes: a kill -9 and a restart on the same port, plain
// Socket.IO beside the service, and the cluster form where redis-server is installed. Outcomes only.
describe('benchmark reconnect storm scenario (quick)', function () {
  this.timeout(scaled(180_000));

  it('brings every client back into its room after a kill -9, on the restarted process or on the other node', async () => {
    if (!existsSync(join(root, 'dist/server.js'))) throw new Error('dist/server.js is missing: run `npm run build` (npm test does)');
    const systems = ['service', 'socketio'].flatMap((name) => SYSTEMS.filter((spec) => spec.name === name));
    const result = await storm(systems, { ...STORM_QUICK, deadlineMs: scaled(STORM_QUICK.deadlineMs) }, () => undefined);
    expect(result.rounds.map((r) => r.system)).to.deep.equal(['service', 'socketio']);
    for (const round of result.rounds) {
      expectBack(round, round.system);
      expect(round.killedClients, `${round.system}: every client was on the one process`).to.equal(round.clients);
    }
    if (hasRedis) {
      const cluster = result.cluster;
      expect(cluster, 'the cluster form ran').to.not.equal(undefined);
      if (cluster) expectBack(cluster, 'two nodes');
    }
    expect(stormTable(result)).to.include('kill → everyone back, s');
  });
});
