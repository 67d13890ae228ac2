/**
 * `--workers`: one scrape shows the whole machine. A worker that takes `GET /metrics` asks the primary,
 * which gathers every worker's registry with prom-client's `AggregatorRegistry` (counters and gauges summed
 * across workers, as prom-client aggregates them) and answers the text.
 */
import cluster from 'node:cluster';
import { AggregatorRegistry, type Registry } from 'prom-client';

/** IPC message types between a worker's `/metrics` and the primary. */
const REQUEST = 'realtime-rooms:metrics';
const REPLY = 'realtime-rooms:metrics-reply';
/** How long a worker waits for the primary's aggregate: longer than prom-client's own 5 s for the workers' answers. */
const REPLY_TIMEOUT_MS = 6000;
/** Scrapes a worker may wait on at once; one more is refused (a bounded table of pending requests). */
const MAX_PENDING = 16;

interface Reply {
  readonly type: typeof REPLY;
  readonly id: number;
  readonly text?: string;
  readonly error?: string;
}

function isReply(message: unknown): message is Reply {
  return typeof message === 'object' && message !== null && (message as { type?: unknown }).type === REPLY;
}

/**
 * In a worker: offers `registry` to the primary's aggregation and answers a function that fetches the
 * machine's metrics from the primary. Rejects when the primary does not answer in time.
 */
export function machineMetrics(registry: Registry): () => Promise<string> {
  // The constructor installs prom-client's worker listener (once per process); the registry is what it answers.
  new AggregatorRegistry();
  AggregatorRegistry.setRegistries([registry]);
  const pending = new Map<number, { resolve(text: string): void; reject(err: Error): void }>();
  let next = 0;
  process.on('message', (message: unknown) => {
    if (!isReply(message)) return;
    const waiter = pending.get(message.id);
    pending.delete(message.id);
    if (message.text !== undefined) waiter?.resolve(message.text);
    else waiter?.reject(new Error(`metrics of the workers: ${message.error ?? 'no answer'}`));
  });
  return () =>
    new Promise<string>((resolve, reject) => {
      if (pending.size >= MAX_PENDING || !process.send) {
        reject(new Error('metrics of the workers: too many scrapes at once, or no primary'));
        return;
      }
      const id = next++;
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error('metrics of the workers: the primary did not answer in time'));
      }, REPLY_TIMEOUT_MS);
      pending.set(id, {
        resolve: (text) => (clearTimeout(timer), resolve(text)),
        reject: (err) => (clearTimeout(timer), reject(err)),
      });
      process.send({ type: REQUEST, id });
    });
}

/** In the primary: answers the workers' requests for the machine's metrics (call once, before forking). */
export function aggregateWorkerMetrics(): void {
  const aggregator = new AggregatorRegistry();
  cluster.on('message', (worker, message: unknown) => {
    if (typeof message !== 'object' || message === null || (message as { type?: unknown }).type !== REQUEST) return;
    const id = (message as { id?: unknown }).id;
    if (typeof id !== 'number') return;
    aggregator.clusterMetrics().then(
      (text) => worker.send({ type: REPLY, id, text }),
      (err: unknown) => worker.send({ type: REPLY, id, error: err instanceof Error ? err.message : String(err) }),
    );
  });
}
