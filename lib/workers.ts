/**
 * `--workers <n>`: several processes on one machine with `node:cluster`. The primary holds the port and
 * hands each connection to a worker with `@socket.io/sticky` (least-connection; an Engine.IO session
 * always goes to the worker that has it, which long-polling needs). The workers run the whole service
 * and share rooms through `@socket.io/cluster-adapter` (or through Redis with `--redis`).
 */
import cluster, { type Worker } from 'node:cluster';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { setupPrimary } from '@socket.io/cluster-adapter';
import { setupMaster, setupWorker } from '@socket.io/sticky';
import type { Logger } from 'pino';
import { serviceUrls, type App } from './app.js';

/** Set in the environment of the workers the primary forks, so that only they take the worker role. */
const WORKER_ENV = 'REALTIME_ROOMS_WORKER';
/** IPC message types between the primary and its workers. */
const READY = 'realtime-rooms:ready';
const SHUTDOWN = 'realtime-rooms:shutdown';

/** Whether this process is a worker forked by {@link startPrimary}. */
export function isWorkerProcess(): boolean {
  return cluster.isWorker && process.env[WORKER_ENV] === '1';
}

/** This worker's `node:cluster` id (1, 2, …). Only in a worker. */
export function workerId(): number {
  return cluster.worker?.id ?? 0;
}

/** How a worker ended. */
export interface WorkerExit {
  readonly worker: number;
  readonly code: number | null;
  readonly signal: string | null;
}

/** A running primary. */
export interface Primary {
  readonly log: Logger;
  readonly port: number;
  readonly urls: string[];
  /** Resolves when a worker exits before {@link close} was called: the primary cannot serve its connections. */
  readonly lost: Promise<WorkerExit>;
  /** Stops accepting, tells every worker to shut down gracefully and waits for them; rejects if one did not exit 0. Idempotent. */
  close(): Promise<void>;
}

/** Where the primary listens. */
export interface PrimaryOptions {
  readonly port: number;
  readonly host: string | undefined;
  readonly workers: number;
}

/**
 * Forks `workers` workers (the same script and arguments), waits until each is ready to take connections,
 * then listens. Rejects (after stopping the workers it started) if a worker exits before it is ready.
 */
export async function startPrimary(options: PrimaryOptions, log: Logger): Promise<Primary> {
  // Binary payloads cross the IPC channel intact only with the advanced serialization.
  cluster.setupPrimary({ serialization: 'advanced' });
  setupPrimary();
  const server = createServer();
  stopReadingHandedOverSockets(server);
  setupMaster(server, { loadBalancingMethod: 'least-connection' });

  let closing = false;
  let reportLost: (exit: WorkerExit) => void = () => {};
  const lost = new Promise<WorkerExit>((resolve) => (reportLost = resolve));
  const exits = new Map<number, Promise<WorkerExit>>();
  const started: Promise<void>[] = [];
  for (let i = 0; i < options.workers; i++) {
    const worker = cluster.fork({ [WORKER_ENV]: '1' });
    const exited = new Promise<WorkerExit>((resolve) => {
      worker.once('exit', (code: number | null, signal: string | null) => {
        const exit = { worker: worker.id, code, signal };
        if (!closing) reportLost(exit);
        resolve(exit);
      });
    });
    exits.set(worker.id, exited);
    started.push(untilReady(worker, exited));
  }

  const close = async (): Promise<void> => {
    closing = true;
    server.close();
    for (const worker of Object.values(cluster.workers ?? {})) {
      if (worker?.isConnected()) worker.send({ type: SHUTDOWN });
    }
    const results = await Promise.all(exits.values());
    // Connections still held for forwarding request bodies (long-polling POSTs) end with their workers.
    server.closeAllConnections();
    const unclean = results.filter((exit) => exit.code !== 0);
    if (unclean.length > 0) throw new Error(`workers did not stop cleanly: ${JSON.stringify(unclean)}`);
  };
  let closed: Promise<void> | undefined;
  const closeOnce = (): Promise<void> => (closed ??= close());

  try {
    await Promise.all(started);
    await listen(server, options);
  } catch (err) {
    await closeOnce().catch(() => {});
    throw err;
  }
  const port = (server.address() as AddressInfo).port;
  const urls = serviceUrls(false, options.host, port);
  log.info({ urls, bind: options.host ?? 'all interfaces', workers: options.workers }, `listening on ${urls.join(', ')} with ${options.workers} workers`);
  return { log, port, urls, lost, close: closeOnce };
}

/**
 * Makes the primary stop reading a connection before `@socket.io/sticky` hands it to a worker.
 *
 * Sticky reads the first chunk of each connection (to find the session id), then sends the socket to a
 * worker; Node keeps the primary's handle open, and reading, until the worker acknowledges it, and drops
 * what it reads meanwhile (nodejs/node#8353). A client that answers the worker quickly (a WebSocket client
 * sending its namespace CONNECT after Engine.IO's open packet) could lose that message to the primary and
 * wait forever: 1 connection in about 5,000 did, 200 at a time, under load. Sticky forwards the later chunks
 * of requests with a body itself (it keeps reading those), so only the others are stopped, exactly when
 * sticky decides to hand them over: on their first chunk, in a listener that runs before its own.
 */
function stopReadingHandedOverSockets(server: Server): void {
  server.prependListener('connection', (socket: Socket) => {
    socket.prependOnceListener('data', (chunk: Buffer) => {
      const text = chunk.toString('latin1');
      const head = text.slice(0, text.indexOf('\r\n\r\n')).toLowerCase();
      // Sticky's own test for a request whose body it will forward chunk by chunk.
      if (head.includes('content-length:') || head.includes('transfer-encoding:')) return;
      (socket as unknown as { _handle?: { readStop?(): unknown } })._handle?.readStop?.();
    });
  });
}

function untilReady(worker: Worker, exited: Promise<WorkerExit>): Promise<void> {
  const ready = new Promise<void>((resolve) => {
    const onMessage = (message: unknown): void => {
      if (isMessage(message, READY)) {
        worker.off('message', onMessage);
        resolve();
      }
    };
    worker.on('message', onMessage);
  });
  const failed = exited.then((exit) => {
    throw new Error(`worker ${exit.worker} exited (code ${String(exit.code)}, signal ${String(exit.signal)}) before it was ready`);
  });
  return Promise.race([ready, failed]);
}

/** Binds `host`, or all interfaces (dual-stack `::`, else IPv4), as the single-process service does. */
async function listen(server: Server, options: PrimaryOptions): Promise<void> {
  const bind = (host: string): Promise<void> =>
    new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  if (options.host !== undefined) return bind(options.host);
  try {
    await bind('::');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EAFNOSUPPORT' && code !== 'EADDRNOTAVAIL') throw err;
    await bind('0.0.0.0');
  }
}

/**
 * In a worker: serves the connections the primary hands over instead of listening, tells the primary it
 * is ready, and calls `stop` when the primary asks it to shut down or goes away.
 */
export async function serveWorker(app: App, stop: () => void): Promise<void> {
  // Not listening: fastify must still load its routes before the first handed-over request.
  await app.http.ready();
  setupWorker(app.io);
  process.on('message', (message: unknown) => {
    if (isMessage(message, SHUTDOWN)) stop();
  });
  // The primary died without shutting us down: nobody can reach this worker any more.
  process.on('disconnect', stop);
  app.log.info({ pid: process.pid }, `worker ${workerId()} ready`);
  process.send?.({ type: READY });
}

function isMessage(message: unknown, type: string): boolean {
  return typeof message === 'object' && message !== null && (message as { type?: unknown }).type === type;
}
