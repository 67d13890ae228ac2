import { BenchClient, connectMany } from './client.js';
import { SYSTEMS, startSystem } from './systems.js';
const name = process.argv[2] ?? 'service';
const n = Number(process.argv[3] ?? 10000);
const spec = SYSTEMS.find((s) => s.name === name)!;
const server = await startSystem(spec);
const m0 = await server.memory();
const t0 = performance.now();
const clients = await connectMany(n, 200, async (i) => {
  const c = await BenchClient.connect(server.port, '/layout');
  await c.request('JOIN', { room: `room-${Math.floor(i / 10)}`, name: `m${i}` });
  return c;
});
const rate = n / ((performance.now() - t0) / 1000);
const m1 = await server.memory();
console.log(name, process.env.EXP_TRIM ?? '', 'rss/conn', ((m1.rss - m0.rss) / n / 1024).toFixed(2), 'heap/conn', ((m1.heapUsed - m0.heapUsed) / n / 1024).toFixed(2), 'connects/s', rate.toFixed(0));
await Promise.all(clients.map((c) => c.close()));
await server.stop();
