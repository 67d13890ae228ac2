import { expect } from 'chai';
import type { Socket as EngineSocket } from 'engine.io';
import { heapAfterGc } from '../support/gc.js';
import { rawClient } from '../support/raw-engine.js';
import { startServer, type TestServer, WITHOUT_RECOVERY } from '../support/server.js';
import { ack, withDeadline } from '../support/wait.js';

// Connections that come and go: whatever one cost, the server gives back when it closes. Each cycle opens
// a raw Engine.IO connection, connects /layout, joins a room of its own, and closes.

/** Cycles of the measured run (the attack used 20,000; this many show a leak of a kilobyte a cycle). */
const CYCLES = 1_500;
/** Cycles at once. */
const CONCURRENCY = 50;
/** Heap growth allowed over the measured run: 1,500 cycles leaking 1.5 kB each would exceed it. */
const HEAP_MARGIN = 2_250_000;
/** Cycles first, unmeasured: what is allocated once (JIT code, pools, caches) is not counted. */
const WARM_UP = 500;

/** Resolves once every Engine.IO connection the server has opened since this call is closed again. */
function trackEngine(srv: TestServer): { opened: () => number; allClosed: () => Promise<void> } {
  let opened = 0;
  let closed = 0;
  let wake: (() => void) | undefined;
  srv.app.io.engine.on('connection', (conn: EngineSocket) => {
    opened += 1;
    conn.once('close', () => {
      closed += 1;
      if (closed === opened) wake?.();
    });
  });
  return {
    opened: () => opened,
    allClosed: () =>
      withDeadline(
        new Promise<void>((resolve) => {
          if (closed === opened) resolve();
          else wake = resolve;
        }),
        'every connection to be closed at the server',
      ),
  };
}

async function cycles(srv: TestServer, count: number, from: number): Promise<void> {
  let next = from;
  const worker = async (): Promise<void> => {
    while (next < from + count) {
      const i = next++;
      const client = await rawClient(srv.url);
      client.send(`42/layout,1["JOIN",{"room":"churn-${i}","name":"n${i}"}]`);
      await client.next((frame) => frame.startsWith('43/layout,1['), `the JOIN of cycle ${i}`);
      client.ws.close();
      await client.closed;
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
}

describe('connection churn', () => {
  it(`gives back everything after ${CYCLES.toLocaleString('en')} connect/join/close cycles: connections, sockets, rooms, heap`, async function () {
    this.timeout(this.timeout() * 4);
    // Thousands of connects from one address in seconds: the connect rate would refuse most of them.
    const srv = await startServer({ ...WITHOUT_RECOVERY, connectRate: 0 });
    const witness = await srv.connect('/layout', { transports: ['websocket'] });
    await ack(witness, 'JOIN', { room: 'r', name: 'W' });
    const engine = trackEngine(srv);
    await cycles(srv, WARM_UP, 0);
    await engine.allClosed();
    const before = heapAfterGc();

    await cycles(srv, CYCLES, WARM_UP);
    await engine.allClosed();
    const grown = heapAfterGc() - before;

    expect(engine.opened()).to.equal(WARM_UP + CYCLES);
    expect(srv.app.io.engine.clientsCount, 'engine connections').to.equal(1);
    const nsp = srv.app.io.of('/layout');
    expect(nsp.sockets.size, 'namespace sockets').to.equal(1);
    expect([...nsp.adapter.rooms.keys()].sort(), 'rooms').to.deep.equal([witness.id, 'room:r'].sort());
    expect(grown, `heap growth over ${CYCLES} cycles: ${grown} bytes`).to.be.below(HEAP_MARGIN);
    expect(await ack(witness, 'CLIENTS', { room: 'r' })).to.deep.equal({ ok: true, room: 'r', clients: ['W'] });
  });
});
