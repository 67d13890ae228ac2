// Preloaded (--require) into every server the bench starts, with --expose-gc: on request over the IPC
// channel, collect garbage and report memory (or write a heap snapshot), so every system is measured the
// same way.
'use strict';
const { writeHeapSnapshot } = require('node:v8');

function collect() {
  if (typeof global.gc === 'function') {
    global.gc();
    global.gc();
  }
}

process.on('message', (message) => {
  if (!message || message.type !== 'snapshot') return;
  collect();
  process.send({ type: 'snapshot', file: writeHeapSnapshot(message.path) });
});
process.on('message', (message) => {
  if (!message || message.type !== 'mem') return;
  collect();
  const usage = process.memoryUsage();
  process.send({
    type: 'mem',
    rss: usage.rss,
    heapUsed: usage.heapUsed,
    heapTotal: usage.heapTotal,
    external: usage.external,
    arrayBuffers: usage.arrayBuffers,
  });
});
// SIGUSR2: collect garbage, then write this process's RSS into a file named after its pid in $BENCH_GC_DIR.
// A `--workers` worker's IPC channel goes to its primary, not to the bench: this is how the bench reads what
// a worker keeps, as opposed to what it has not collected yet.
process.on('SIGUSR2', () => {
  collect();
  const dir = process.env.BENCH_GC_DIR;
  if (dir) require('node:fs').writeFileSync(require('node:path').join(dir, String(process.pid)), String(process.memoryUsage().rss));
});
// The IPC channel must not keep a server alive that is told to stop.
if (process.channel) process.channel.unref();
