import type { Logger } from 'pino';
import type { ServiceHooks } from '../core/types.js';
import { fetchRemote } from './bounded-fetch.js';
import { localIds, localRoomSizes } from './local-rooms.js';
import type { NodeRegistry } from './node-registry.js';
import type { JoinStamps, MemberView, RoomAnswer, RoomDirectory, RoomSize, RoomSource } from './types.js';
import { UnansweredLog } from './unanswered-log.js';

let lastStamp = 0;
/**
 * A join stamp: wall-clock microseconds (the process's time origin plus its monotonic clock), plus one per
 * join within the same microsecond, strictly increasing within a process even when many sockets join at
 * once. Across processes it orders by wall clock: on one machine (`--workers`) joins a fraction of a
 * millisecond apart; across machines as far as their clocks agree (NTP: a few ms).
 */
function nextStamp(): number {
  const now = Math.floor((performance.timeOrigin + performance.now()) * 1000);
  lastStamp = now > lastStamp ? now : lastStamp + 1;
  return lastStamp;
}

function stampOf(member: MemberView<JoinStamps>, key: string): number {
  return member.data.joins?.[key] ?? Number.MAX_SAFE_INTEGER;
}

/** What {@link clusterDirectory} needs besides the namespaces it is asked about. */
export interface ClusterDirectoryOptions {
  /** Whether the adapter reaches the other nodes now; while not, lookups answer from this node alone. */
  readonly isReady: () => boolean;
  /** How long a lookup waits for the other nodes (`--cluster-timeout`). */
  readonly timeoutMs: number;
  /** Where a lookup that misses nodes is logged (once per outage). */
  readonly log: Logger;
  /** Where tracked members are registered; without it (the workers of one machine, which die together) they are not. */
  readonly registry?: NodeRegistry;
}

/**
 * Cluster-wide lookups: every node answers through the adapter, within `timeoutMs` (lib/cluster/bounded-fetch.ts).
 * A node that does not answer in time is left out and the answer marked incomplete, so that one frozen or
 * flooded node costs a lookup `timeoutMs` instead of failing it. While the adapter is not ready (Redis
 * unreachable) they answer from this node alone, incomplete, instead of waiting for Redis: the node is cut
 * off, `/readyz` says so, and its own clients still get the best answer it has.
 */
export function clusterDirectory(options: ClusterDirectoryOptions): RoomDirectory {
  const { isReady, timeoutMs, registry } = options;
  const unanswered = new UnansweredLog(options.log, timeoutMs);
  const sockets = async <Data>(nsp: RoomSource<Data>, room: string | readonly string[]): Promise<RoomAnswer<MemberView<Data>>> => {
    const rooms = typeof room === 'string' ? [room] : room;
    const local = localMembers(nsp, rooms);
    if (!isReady()) return { members: local, complete: false };
    const remote = await fetchRemote<Data>(nsp.adapter, rooms, timeoutMs);
    unanswered.note(nsp.name, remote.asked, remote.answered);
    for (const member of remote.members) local.push(member);
    return { members: local, complete: remote.asked !== undefined && remote.answered >= remote.asked };
  };
  return {
    async memberIds(nsp, key) {
      const { members, complete } = await sockets(nsp, key);
      return { members: members.map((member) => member.id), complete };
    },
    membersOfAny(nsp, keys) {
      return sockets(nsp, keys);
    },
    isMember(nsp, key, id) {
      // A socket lives on one node: one of this node's is answered here, without asking the others.
      const own = nsp.sockets.get(id);
      if (own) return own.rooms.has(key) ? 'member' : 'absent';
      // Asking for the socket's own id room finds it only on the node that has it; its rooms say whether it
      // is in `key`. The id check keeps a room name passed as `id` from matching one of its members.
      return sockets(nsp, id).then(({ members, complete }) => {
        if (members.some((member) => member.id === id && member.rooms.has(key))) return 'member';
        return complete ? 'absent' : 'unknown';
      });
    },
    async roomSizes(nsp, prefix) {
      const local = localRoomSizes(nsp, prefix);
      if (!isReady()) return { members: local, complete: false };
      // No rooms: each node answers with all of the namespace's sockets, whose rooms are counted here.
      const remote = await fetchRemote(nsp.adapter, [], timeoutMs);
      unanswered.note(nsp.name, remote.asked, remote.answered);
      const sizes = new Map<string, number>();
      for (const { key, size } of local) sizes.set(key, size);
      for (const member of remote.members) {
        for (const key of member.rooms) if (key.startsWith(prefix)) sizes.set(key, (sizes.get(key) ?? 0) + 1);
      }
      const members: RoomSize[] = [];
      for (const [key, size] of sizes) members.push({ key, size });
      return { members, complete: remote.asked !== undefined && remote.answered >= remote.asked };
    },
    async members(nsp, key) {
      const { members, complete } = await sockets(nsp, key);
      // Ties (same stamp on two nodes) fall back to the socket id, so every node lists the same order.
      members.sort((a, b) => stampOf(a, key) - stampOf(b, key) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      return { members, complete };
    },
    trackMember(namespace, socketId, room) {
      registry?.note(namespace, socketId, room);
    },
  };
}

/**
 * The members of any of `rooms` on this node (each once), read from the adapter's room sets: the adapter's
 * own local query (`nsp.local.fetchSockets()`) still asks Redis how many nodes there are, and would wait for it.
 */
function localMembers<Data>(nsp: RoomSource<Data>, rooms: readonly string[]): MemberView<Data>[] {
  const members: MemberView<Data>[] = [];
  for (const id of rooms.length === 1 ? (nsp.adapter.rooms.get(rooms[0] ?? '') ?? []) : localIds(nsp, rooms)) {
    const socket = nsp.sockets.get(id);
    if (socket) members.push(socket);
  }
  return members;
}

/**
 * Subscribes to the join and leave hooks to stamp each join into `socket.data` (which other nodes see), so that members of several nodes can be
 * merged in join order; a re-join of a room the socket is already in keeps its first stamp. A leave forgets
 * the stamp. Memory mode needs none of this: the adapter's room sets keep insertion order.
 */
export function stampJoins(hooks: ServiceHooks): void {
  hooks.on('join', (socket, _room, key) => {
    if (socket.rooms.has(key)) return;
    const data = socket.data as JoinStamps;
    (data.joins ??= {})[key] = nextStamp();
  });
  hooks.on('leave', (socket, _room, key) => {
    const data = socket.data as JoinStamps;
    if (data.joins) delete data.joins[key];
  });
}
