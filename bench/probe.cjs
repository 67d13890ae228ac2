// Preloaded (--require) into every server the bench starts, with --expose-gc: on request over the IPC
// channel, collect garbage and report memory, so every system is measured the same way.
'use strict';
process.on('message', (message) => {
  if (!message || message.type !== 'mem') return;
  if (typeof global.gc === 'function') {
    global.gc();
    global.gc();
  }
  const usage = process.memoryUsage();
  process.send({ type: 'mem', rss: usage.rss, heapUsed: usage.heapUsed, external: usage.external, arrayBuffers: usage.arrayBuffers });
});
// The IPC channel must not keep a server alive that is told to stop.
if (process.channel) process.channel.unref();
