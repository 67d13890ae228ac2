/**
 * `--workers` without Redis: users' socket counts kept by the primary for the whole machine, over the IPC
 * channel node:cluster gives every worker. A worker asks the primary to count a socket in or out and hears
 * whether the user's total crossed zero; a worker that dies has its counts removed by the primary, which
 * hands the users left with none to a surviving worker to report.
 */
import cluster, { type Worker } from 'node:cluster';
import type { Logger } from 'pino';
import type { PresenceCounter, PresenceListener } from './types.js';

const COUNT = 'realtime-rooms:presence';
const COUNTED = 'realtime-rooms:presence-reply';
const CHANGED = 'realtime-rooms:presence-change';
/** How long a worker waits for the primary's answer before it takes the change as none (and logs it). */
const REPLY_TIMEOUT_MS = 5000;
/** Counts a worker may wait on at once; past it a socket is counted as no change (a bounded table). */
const MAX_PENDING = 10_000;

interface CountMessage {
  readonly type: typeof COUNT;
  readonly id: number;
  readonly op: 'add' | 'remove';
  readonly user: string;
  readonly detail: string;
}
interface CountedMessage {
  readonly type: typeof COUNTED;
  readonly id: number;
  readonly changed: boolean;
}
interface ChangedMessage {
  readonly type: typeof CHANGED;
  readonly user: string;
  readonly online: boolean;
  readonly detail: string;
}

function typed<T extends { readonly type: string }>(message: unknown, type: T['type']): message is T {
  return typeof message === 'object' && message !== null && (message as { type?: unknown }).type === type;
}

/** {@link PresenceCounter} of a `--workers` worker: the primary counts (see {@link countPresenceInPrimary}). */
export class WorkerPresence implements PresenceCounter {
  readonly #pending = new Map<number, (changed: boolean) => void>();
  readonly #listeners: PresenceListener[] = [];
  #next = 0;

  constructor(private readonly log: Logger) {
    process.on('message', (message: unknown) => {
      if (typed<CountedMessage>(message, COUNTED)) {
        const resolve = this.#pending.get(message.id);
        this.#pending.delete(message.id);
        resolve?.(message.changed === true);
      } else if (typed<ChangedMessage>(message, CHANGED)) {
        for (const listener of this.#listeners) listener(message.user, message.online, message.detail);
      }
    });
  }

  add(user: string, detail: string): Promise<boolean> {
    return this.#ask({ op: 'add', user, detail });
  }

  remove(user: string): Promise<boolean> {
    return this.#ask({ op: 'remove', user, detail: '' });
  }

  onChange(listener: PresenceListener): void {
    this.#listeners.push(listener);
  }

  #ask(request: Omit<CountMessage, 'type' | 'id'>): Promise<boolean> {
    const send = process.send?.bind(process);
    if (send === undefined || this.#pending.size >= MAX_PENDING) {
      this.log.warn({ pending: this.#pending.size }, 'presence: the primary cannot count this socket now; no change reported');
      return Promise.resolve(false);
    }
    const id = this.#next++;
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        this.log.warn('presence: the primary did not answer in time; no change reported');
        resolve(false);
      }, REPLY_TIMEOUT_MS);
      timer.unref();
      this.#pending.set(id, (changed) => {
        clearTimeout(timer);
        resolve(changed);
      });
      const message: CountMessage = { type: COUNT, id, ...request };
      send(message);
    });
  }
}

/** In the `--workers` primary: counts every worker's sockets per user (call once, before forking). */
export function countPresenceInPrimary(): void {
  /** User → worker id → count, and the detail of the user's latest socket. */
  const users = new Map<string, { readonly counts: Map<number, number>; detail: string }>();
  const total = (counts: ReadonlyMap<number, number>): number => {
    let sum = 0;
    for (const count of counts.values()) sum += count;
    return sum;
  };
  cluster.on('message', (worker: Worker, message: unknown) => {
    if (!typed<CountMessage>(message, COUNT) || typeof message.user !== 'string') return;
    const entry = users.get(message.user) ?? { counts: new Map<number, number>(), detail: '' };
    const before = total(entry.counts);
    const mine = entry.counts.get(worker.id) ?? 0;
    let changed = false;
    if (message.op === 'add') {
      entry.counts.set(worker.id, mine + 1);
      if (typeof message.detail === 'string') entry.detail = message.detail;
      users.set(message.user, entry);
      changed = before === 0;
    } else if (mine > 0) {
      if (mine === 1) entry.counts.delete(worker.id);
      else entry.counts.set(worker.id, mine - 1);
      changed = before === 1;
      if (entry.counts.size === 0) users.delete(message.user);
    }
    const reply: CountedMessage = { type: COUNTED, id: message.id, changed };
    if (worker.isConnected()) worker.send(reply);
  });
  // A worker that died took its sockets with it: the users it alone held are reported by one that lives.
  cluster.on('exit', (dead: Worker) => {
    const survivor = Object.values(cluster.workers ?? {}).find(
      (worker) => worker !== undefined && worker.id !== dead.id && worker.isConnected(),
    );
    for (const [user, entry] of users) {
      if (!entry.counts.delete(dead.id)) continue;
      if (entry.counts.size > 0) continue;
      users.delete(user);
      const change: ChangedMessage = { type: CHANGED, user, online: false, detail: entry.detail };
      survivor?.send(change);
    }
  });
}
