import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { markdownTable, QUICK, runBench } from '../bench/run.js';
import { hasRedis, SYSTEMS } from '../bench/systems.js';
import { scaled } from './support/deadlines.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

// A smoke test of the benchmark harness itself: every scenario runs against every system at tiny sizes.
// It asserts that the harness works and that nothing is lost, never a timing.
describe('benchmark harness (quick mode)', function () {
  this.timeout(scaled(180_000));

  it('runs every scenario against the service and every baseline, losing nothing', async () => {
    if (!existsSync(join(root, 'dist/server.js'))) throw new Error('dist/server.js is missing: run `npm run build` (npm test does)');
    const report = await runBench(QUICK, SYSTEMS, true, () => undefined);
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
    }
    if (hasRedis) {
      expect(report.multiNode?.nodes, 'the two-node scenario ran').to.equal(2);
      expect(report.multiNode?.fanout.perSecond).to.be.greaterThan(0);
      expect(report.multiNode?.fanout.lost, 'two nodes lost').to.equal(0);
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
