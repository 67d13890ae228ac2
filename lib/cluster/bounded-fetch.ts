import { randomBytes } from 'node:crypto';
import { MessageType } from 'socket.io-adapter';
import type { MemberView } from './types.js';

/**
 * A cluster-wide room fetch that ends at a deadline with the answers that came, instead of failing.
 *
 * socket.io-adapter's `fetchSockets` (ClusterAdapter, and ClusterAdapterWithHeartbeat of the `--workers`
 * adapter) waits for an answer from every node the adapter counts (`serverCount()`: Redis's subscriber
 * count of the namespace's channel, or the workers heard from in the last 10 s); when one is missing it
 * rejects after `flags.timeout` (5 s by default) and drops the answers that came. A process that is
 * stopped (SIGSTOP) or whose event loop is flooded keeps its Redis connection, and so its subscription: it
 * is counted and never answers, and every lookup of the cluster waited 5 s and failed. A process that dies
 * closes its connections and drops out of the count at once.
 *
 * So the request is made here, through the adapter's extension API (socket.io-adapter 2.5): the
 * FETCH_SOCKETS message goes out with `publish` (protected in its types), the answers are taken off
 * `onResponse` (protected; replaced by an own property per adapter, on first use, that passes every other
 * response on to the adapter's own), and the deadline is the caller's. An answer that comes after it finds
 * no request and is dropped, as the adapter drops late answers to its own. See lib/engine/README.md (§10).
 */

/** What {@link fetchRemote} heard from the other nodes. */
export interface RemoteMembers<Data> {
  /** The rooms' sockets on the nodes that answered in time. */
  readonly members: MemberView<Data>[];
  /** How many other nodes the adapter counted; undefined when not even the count came in time. */
  readonly asked: number | undefined;
  /** How many of them answered in time. */
  readonly answered: number;
}

/** The adapter members a fetch uses: protected in socket.io-adapter's types, plain methods at run time. */
interface ClusterSeam {
  serverCount(): Promise<number>;
  publish(message: FetchRequest): void;
  onResponse(response: unknown): void;
}

/** The FETCH_SOCKETS message, with the options encoded as socket.io-adapter encodes them (arrays for sets). */
interface FetchRequest {
  readonly type: MessageType.FETCH_SOCKETS;
  readonly data: {
    readonly opts: { readonly rooms: string[]; readonly except: string[]; readonly flags: Record<string, never> };
    readonly requestId: string;
  };
}

/** Takes one node's answer (its `sockets`) to a pending request. */
type AnswerSink = (sockets: unknown) => void;

/** Per adapter, the requests of this module still waiting, by request id. */
const pendingOf = new WeakMap<object, Map<string, AnswerSink>>();

/**
 * Asks every other node for the sockets in any of `rooms` (each socket once per node) through the namespace's cluster adapter, and resolves
 * once all the nodes counted have answered or `timeoutMs` after the call, whichever comes first. Never
 * rejects: a node count that fails or does not come in time is an answer from no node.
 *
 * @throws when `adapter` is not a socket.io-adapter cluster adapter (a library upgrade that moved its
 *   extension API): every lookup then fails loudly rather than answering from one node unnoticed.
 */
export function fetchRemote<Data>(adapter: object, rooms: readonly string[], timeoutMs: number): Promise<RemoteMembers<Data>> {
  const seam = seamOf(adapter);
  const pending = pendingOf.get(adapter) ?? listen(adapter, seam);
  return new Promise((resolve) => {
    const members: MemberView<Data>[] = [];
    let asked: number | undefined;
    let answered = 0;
    let requestId: string | undefined;
    let settled = false;
    const finish = (): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (requestId !== undefined) pending.delete(requestId);
      resolve({ members, asked, answered });
    };
    const timer = setTimeout(finish, timeoutMs);
    const ask = (count: number): void => {
      if (settled) return;
      asked = Math.max(0, count - 1);
      if (asked === 0) return finish();
      const id = randomBytes(8).toString('hex');
      requestId = id;
      pending.set(id, (sockets) => {
        collect(sockets, members);
        answered++;
        if (answered === asked) finish();
      });
      seam.publish({ type: MessageType.FETCH_SOCKETS, data: { opts: { rooms: [...rooms], except: [], flags: {} }, requestId: id } });
    };
    // A count that fails, or a publish that throws, ends the request with what it has (nothing from the others).
    seam.serverCount().then(ask).catch(finish);
  });
}

function seamOf(adapter: object): ClusterSeam {
  const candidate = adapter as Partial<Record<keyof ClusterSeam, unknown>>;
  if (
    typeof candidate.serverCount !== 'function' ||
    typeof candidate.publish !== 'function' ||
    typeof candidate.onResponse !== 'function'
  ) {
    throw new Error('the namespace adapter has no serverCount, publish and onResponse of a socket.io-adapter ClusterAdapter');
  }
  return adapter as ClusterSeam;
}

/** Routes the answers to this module's requests to them, and every other response to the adapter's own handler. */
function listen(adapter: object, seam: ClusterSeam): Map<string, AnswerSink> {
  const pending = new Map<string, AnswerSink>();
  pendingOf.set(adapter, pending);
  const own = seam.onResponse.bind(adapter);
  seam.onResponse = (response: unknown): void => {
    const answer = fetchAnswerOf(response);
    const sink = answer === undefined ? undefined : pending.get(answer.requestId);
    if (sink === undefined || answer === undefined) return own(response);
    sink(answer.sockets);
  };
  return pending;
}

/** The request id and sockets of a FETCH_SOCKETS_RESPONSE, or undefined for any other response. */
function fetchAnswerOf(response: unknown): { requestId: string; sockets: unknown } | undefined {
  if (typeof response !== 'object' || response === null) return undefined;
  const { type, data } = response as { type?: unknown; data?: unknown };
  if (type !== MessageType.FETCH_SOCKETS_RESPONSE || typeof data !== 'object' || data === null) return undefined;
  const { requestId, sockets } = data as { requestId?: unknown; sockets?: unknown };
  return typeof requestId === 'string' ? { requestId, sockets } : undefined;
}

/**
 * Adds the sockets of one answer (`{ id, rooms: string[], data }` each, as the adapter serialises them) to
 * `members`, skipping any that is not of that shape. `data` is taken as this node's socket data: the nodes
 * of one deployment run the same service.
 */
function collect<Data>(sockets: unknown, members: MemberView<Data>[]): void {
  if (!Array.isArray(sockets)) return;
  for (const socket of sockets as unknown[]) {
    if (typeof socket !== 'object' || socket === null) continue;
    const { id, rooms, data } = socket as { id?: unknown; rooms?: unknown; data?: unknown };
    if (typeof id !== 'string' || !Array.isArray(rooms)) continue;
    members.push({ id, rooms: new Set(rooms.filter((room): room is string => typeof room === 'string')), data: data as Data });
  }
}
