/**
 * `--workers <n>`: several processes on one machine with `node:cluster`. The primary holds the port and
 * hands each connection to a worker with `@socket.io/sticky` (least-connection; an Engine.IO session
 * always goes to the worker that has it, which long-polling needs; the workers report their sessions with
 * lib/runtime/sticky-worker.ts, which keeps WebSocket-only ones out of that map). The workers run the whole service
 * and share rooms through `@socket.io/cluster-adapter` (or through Redis with `--redis`).
 */
import cluster, { type Worker } from 'node:cluster';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Server as IoServer } from 'socket.io';
import { stopReadingHandedOverSockets } from '../engine/sticky-handover.js';
import { bindHostOrAll, serviceUrls } from './listen.js';
import { serveHandedOverConnections } from './sticky-worker.js';

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
  // Imported here, not at start-up: a process without --workers never needs them.
  const [{ setupPrimary }, { setupMaster }] = await Promise.all([import('@socket.io/cluster-adapter'), import('@socket.io/sticky')]);
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
  log.info(
    { urls, bind: options.host ?? 'all interfaces', workers: options.workers },
    `listening on ${urls.join(', ')} with ${options.workers} workers`,
  );
  return { log, port, urls, lost, close: closeOnce };
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

/** Binds `host`, or all interfaces, as the single-process service does. */
function listen(server: Server, options: PrimaryOptions): Promise<void> {
  return bindHostOrAll(
    options.host,
    (host) =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(options.port, host, () => {
          server.off('error', reject);
          resolve();
        });
      }),
  );
}

/** What a worker needs of the service it runs (lib/app.ts's `App`). */
export interface WorkerApp {
  readonly http: { ready(): PromiseLike<unknown> };
  readonly io: IoServer;
  readonly log: Logger;
}

/**
 * In a worker: serves the connections the primary hands over instead of listening, tells the primary it
 * is ready, and calls `stop` when the primary asks it to shut down or goes away.
 */
export async function serveWorker(app: WorkerApp, stop: () => void): Promise<void> {
  // Not listening: fastify must still load its routes before the first handed-over request.
  await app.http.ready();
  serveHandedOverConnections(app.io);
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
