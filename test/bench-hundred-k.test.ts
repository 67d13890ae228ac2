import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { hundredK, HUNDRED_K_QUICK, hundredKTable } from '../bench/hundred-k.js';
import { scaled } from './support/deadlines.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

// `npm run bench:100k -- --quick`: a few hundred connections against `--workers 2` from two generator
// processes. It asserts that the harness connects everyone, sees every worker and counts every delivery;
// the memory figures are sampled but never judged here (BENCHMARKS.md's, from the full run).
describe('benchmark 100k-connection scenario (quick)', function () {
  this.timeout(scaled(180_000));

  it('connects and JOINs everyone over two generators, spreads every room over both workers and delivers one broadcast to every member', async () => {
    if (!existsSync(join(root, 'dist/server.js'))) throw new Error('dist/server.js is missing: run `npm run build` (npm test does)');
    const sizes = HUNDRED_K_QUICK;
    const result = await hundredK(sizes, () => undefined);
    expect(result.steps.map((s) => s.connections)).to.deep.equal([0, 0.25, 0.5, 0.75, 1].map((f) => Math.round(sizes.connections * f)));
    for (const step of result.steps) {
      expect(step.primaryRss, 'primary RSS sampled').to.be.greaterThan(0);
      expect(step.workerRss, 'one sample per worker').to.have.length(sizes.workers);
      for (const rss of step.workerRss) expect(rss, 'worker RSS sampled').to.be.greaterThan(0);
      expect(step.workerRssAfterGc, 'one sample after GC per worker').to.have.length(sizes.workers);
      for (const rss of [step.primaryRssAfterGc, ...step.workerRssAfterGc]) expect(rss, 'RSS after GC sampled').to.be.greaterThan(0);
    }
    // The primary hands every connection over: it holds no descriptor for any of them.
    const fds = result.steps.map((s) => s.primaryFds);
    expect(
      fds.every((n) => n === fds[0]),
      `primary descriptors ${fds.join(', ')}`,
    ).to.equal(true);
    expect(result.perWorker, 'connections found on the workers').to.have.length(sizes.workers);
    expect(
      result.perWorker.reduce((sum, n) => sum + n, 0),
      'every connection found on a worker',
    ).to.equal(sizes.connections);
    expect(result.roomsOnEveryWorker, 'rooms spread over every worker').to.equal(result.rooms);
    expect(result.published, 'one NOTIFY per room').to.equal(result.rooms);
    expect(result.deliveries, 'every member got the broadcast').to.equal(sizes.connections);
    expect(result.duplicates, 'nobody got it twice').to.equal(0);
    expect(hundredKTable(result)).to.include('| connections | s | primary RSS |');
  });
});
