/**
 * One load-generator process of `npm run bench:100k` (bench/hundred-k.ts starts several): it holds its share
 * of the idle JOINed connections, opened from its own loopback source addresses, and counts the broadcast
 * EVENTs they receive. Driven over the IPC channel (messages {@link GeneratorRequest} and
 * {@link GeneratorReply}); it exits when its parent disconnects.
 */
import { performance } from 'node:perf_hooks';
import { BenchClient } from './client.js';

/** What the orchestrator asks a generator to do. */
export type GeneratorRequest =
  /** Connect and JOIN until this generator holds `upTo` connections. */
  | { readonly type: 'connect'; readonly upTo: number }
  /** Report every connection's room and client-side endpoint (to find the worker that serves it). */
  | { readonly type: 'endpoints' }
  /** Send one NOTIFY to each room in `rooms` from a connection of its own (which is not a member). */
  | { readonly type: 'publish'; readonly rooms: readonly number[] }
  /** Report the broadcast EVENTs received so far. */
  | { readonly type: 'deliveries' }
  /** Close every connection. */
  | { readonly type: 'close' };

/** What a generator answers, one reply per request, in order. */
export type GeneratorReply =
  /** `retries`: handshakes that failed and were tried again, so far. */
  | { readonly type: 'connected'; readonly count: number; readonly ms: number; readonly retries: number }
  /** Flat triples: room, last octet of the source address, source port. */
  | { readonly type: 'endpoints'; readonly triples: number[] }
  | { readonly type: 'published'; readonly acked: number }
  | { readonly type: 'deliveries'; readonly count: number; readonly duplicates: number }
  | { readonly type: 'closed' }
  | { readonly type: 'failed'; readonly error: string };

/** How a generator is configured, from its environment (set by bench/hundred-k.ts). */
interface GeneratorConfig {
  readonly port: number;
  /** This generator's number (0 …) and how many there are: connection `j` here is `j * generators + index` overall. */
  readonly index: number;
  readonly generators: number;
  readonly rooms: number;
  /** Handshakes in flight at once. */
  readonly concurrency: number;
  /** The loopback source addresses this generator uses, e.g. `127.0.0.2`, spread over evenly. */
  readonly addresses: readonly string[];
}

const MARKER = 'hundred-k-broadcast';
/**
 * How long one handshake may take, and how often it is tried. The service's six workers share one core with
 * the machine's other work; a SYN dropped from a full listen queue is retried by the kernel after 1, 2, 4, 8
 * … s, so an unlucky handshake may take a minute, and one run of 100,000 lost one that way. A client tries
 * again, as socket.io-client would; the retries are counted and reported, and a connection that fails
 * every attempt fails the run.
 */
const CONNECT_TIMEOUT_MS = 30_000;
const CONNECT_ATTEMPTS = 3;

function readConfig(): GeneratorConfig {
  const number = (name: string): number => {
    const value = Number(process.env[name]);
    if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a non-negative integer`);
    return value;
  };
  const addresses = (process.env['HK_ADDRESSES'] ?? '').split(',').filter((a) => a !== '');
  if (addresses.length === 0) throw new Error('HK_ADDRESSES is empty');
  return {
    port: number('HK_PORT'),
    index: number('HK_INDEX'),
    generators: number('HK_GENERATORS'),
    rooms: number('HK_ROOMS'),
    concurrency: number('HK_CONCURRENCY'),
    addresses,
  };
}

const config = readConfig();
const clients: BenchClient[] = [];
/** The room of each connection, by its index in {@link clients}. */
const roomOf: number[] = [];
/** Which connections got the broadcast, by index in {@link clients}. */
const got: Uint8Array[] = [];
let deliveries = 0;
let duplicates = 0;
let dropped = 0;
let retries = 0;

function room(globalIndex: number): number {
  return globalIndex % config.rooms;
}

async function connectOne(j: number): Promise<void> {
  const globalIndex = j * config.generators + config.index;
  const address = config.addresses[j % config.addresses.length] ?? config.addresses[0];
  const client = await connectWithRetries(address);
  const r = room(globalIndex);
  const answer = await client.request('JOIN', { room: `room-${r}`, name: `m${globalIndex}` });
  if (answer.includes('"error"')) throw new Error(`JOIN refused: ${answer}`);
  client.onEvent = (body) => {
    if (!body.includes(MARKER)) return;
    const seen = got[j];
    if (!seen) return;
    if (seen[0]) duplicates++;
    else deliveries++;
    seen[0] = 1;
  };
  client.onClose = () => dropped++;
  clients[j] = client;
  roomOf[j] = r;
  got[j] = new Uint8Array(1);
}

async function connectWithRetries(address: string | undefined): Promise<BenchClient> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await BenchClient.connect(config.port, '/layout', {
        timeoutMs: CONNECT_TIMEOUT_MS,
        ...(address ? { localAddress: address } : {}),
      });
    } catch (err) {
      if (attempt >= CONNECT_ATTEMPTS) throw err;
      retries++;
    }
  }
}

async function connectUpTo(upTo: number): Promise<GeneratorReply> {
  const t0 = performance.now();
  let next = clients.length;
  const run = async (): Promise<void> => {
    while (next < upTo) await connectOne(next++);
  };
  await Promise.all(Array.from({ length: Math.min(config.concurrency, Math.max(upTo - next, 0)) }, run));
  if (dropped > 0) throw new Error(`${dropped} connections were closed by the server`);
  return { type: 'connected', count: clients.length, ms: performance.now() - t0, retries };
}

function endpoints(): GeneratorReply {
  const triples: number[] = [];
  clients.forEach((client, j) => {
    const octet = Number(client.localAddress.split('.')[3]);
    triples.push(roomOf[j] ?? -1, octet, client.localPort);
  });
  return { type: 'endpoints', triples };
}

async function publish(rooms: readonly number[]): Promise<GeneratorReply> {
  // A connection of its own, not a member: every member of the room is a receiver.
  const publisher = await BenchClient.connect(config.port, '/layout', {
    timeoutMs: CONNECT_TIMEOUT_MS,
    localAddress: config.addresses[0] ?? '127.0.0.1',
  });
  try {
    // Acked one by one: within the publisher's event burst, and each room's broadcast has left when it answers.
    let acked = 0;
    for (const r of rooms) {
      const answer = await publisher.request('NOTIFY', { room: `room-${r}`, message: `${MARKER}:${r}` });
      if (answer.includes('"error"')) throw new Error(`NOTIFY to room-${r} refused: ${answer}`);
      acked++;
    }
    return { type: 'published', acked };
  } finally {
    await publisher.close();
  }
}

async function handle(request: GeneratorRequest): Promise<GeneratorReply> {
  switch (request.type) {
    case 'connect':
      return connectUpTo(request.upTo);
    case 'endpoints':
      return endpoints();
    case 'publish':
      return publish(request.rooms);
    case 'deliveries':
      return { type: 'deliveries', count: deliveries, duplicates };
    case 'close':
      await Promise.all(clients.map((client) => client.close()));
      return { type: 'closed' };
  }
}

// Requests are answered in order: the orchestrator waits for each reply before it asks again.
let queue = Promise.resolve();
process.on('message', (request: GeneratorRequest) => {
  queue = queue.then(async () => {
    let reply: GeneratorReply;
    try {
      reply = await handle(request);
    } catch (err) {
      reply = { type: 'failed', error: err instanceof Error ? err.message : String(err) };
    }
    process.send?.(reply);
  });
});
// The orchestrator is gone (or done): nothing is left to measure.
process.on('disconnect', () => process.exit(0));
