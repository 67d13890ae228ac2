/**
 * `npm run bench:heap`: where the server's memory per idle connection goes. Starts one system as the
 * bench does, takes a heap snapshot of it empty and another with `--connections` idle clients JOINed to
 * rooms of ten, and prints what each connection added, by kind of object and holder. Use it before and
 * after a change that should make connections lighter.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { clientAddress } from './addresses.js';
import { BenchClient, connectMany } from './client.js';
import { perUnit, readHeapSnapshot } from './heap-snapshot.js';
import { SYSTEMS, startSystem } from './systems.js';

function positive(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

const options = new Command()
  .description('heap per idle JOINed connection, by kind of object, from two heap snapshots of the server')
  .option('--system <name>', `one of ${SYSTEMS.map((s) => s.name).join(', ')}`, 'service')
  .option('--connections <n>', 'idle JOINed connections', positive, 3000)
  .option('--top <n>', 'rows to print', positive, 40)
  .parse()
  .opts<{ system: string; connections: number; top: number }>();

const spec = SYSTEMS.find((system) => system.name === options.system);
if (!spec) throw new InvalidArgumentError(`unknown system ${options.system}`);
const dir = mkdtempSync(join(tmpdir(), 'heap-profile-'));
const server = await startSystem(spec);
try {
  await server.heapSnapshot(join(dir, 'empty.heapsnapshot'));
  const clients = await connectMany(options.connections, 200, async (i) => {
    const client = await BenchClient.connect(server.port, '/layout', { localAddress: clientAddress(i) });
    await client.request('JOIN', { room: `room-${Math.floor(i / 10)}`, name: `m${i}` });
    return client;
  });
  await server.heapSnapshot(join(dir, 'loaded.heapsnapshot'));
  await Promise.all(clients.map((client) => client.close()));
  const rows = perUnit(
    readHeapSnapshot(join(dir, 'empty.heapsnapshot')),
    readHeapSnapshot(join(dir, 'loaded.heapsnapshot')),
    options.connections,
  );
  const total = rows.reduce((sum, row) => sum + row.bytes, 0);
  process.stdout.write(`${spec.name}: ${total.toFixed(0)} bytes of heap per connection (${options.connections} connections)\n`);
  process.stdout.write('bytes/conn  objects/conn  kind  <-  holder.edge\n');
  for (const row of rows.slice(0, options.top)) {
    process.stdout.write(`${row.bytes.toFixed(0).padStart(10)}  ${row.count.toFixed(2).padStart(12)}  ${row.kind}\n`);
  }
} finally {
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
}
