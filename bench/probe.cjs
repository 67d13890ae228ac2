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
// The IPC channel must not keep a server alive that is told to stop.
if (process.channel) process.channel.unref();
