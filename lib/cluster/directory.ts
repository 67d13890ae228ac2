import type { ServiceHooks } from '../core/types.js';
import type { NodeRegistry } from './node-registry.js';
import type { JoinStamps, MemberView, RoomDirectory, RoomSource } from './types.js';

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

/**
 * Cluster-wide lookups: every node answers through the adapter (`fetchSockets` over Redis pub/sub).
 * While the adapter is not ready (Redis unreachable) they answer from this node alone instead of waiting
 * for Redis: the node is cut off, `/readyz` says so, and its own clients still get the best answer it has.
 * Without `registry` (the workers of one machine, which die together) tracked members are not registered.
 */
export function clusterDirectory(isReady: () => boolean, registry?: NodeRegistry): RoomDirectory {
  const sockets = <Data>(nsp: RoomSource<Data>, room: string): Promise<MemberView<Data>[]> =>
    isReady() ? nsp.in(room).fetchSockets() : Promise.resolve(localMembers(nsp, room));
  return {
    async memberIds(nsp, key) {
      const members = await sockets(nsp, key);
      return members.map((member) => member.id);
    },
    async isMember(nsp, key, id) {
      // Asking for the socket's own id room reaches only the node that has it; its rooms say whether it is
      // in `key`. The id check keeps a room name passed as `id` from matching one of its members.
      const found = await sockets(nsp, id);
      return found.some((member) => member.id === id && member.rooms.has(key));
    },
    async members(nsp, key) {
      const members = await sockets(nsp, key);
      // Ties (same stamp on two nodes) fall back to the socket id, so every node lists the same order.
      return members.sort((a, b) => stampOf(a, key) - stampOf(b, key) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    },
    trackMember(namespace, socketId, room) {
      registry?.note(namespace, socketId, room);
    },
  };
}

/**
 * The members of `room` on this node, read from the adapter's room set: the adapter's own local query
 * (`nsp.local.fetchSockets()`) still asks Redis how many nodes there are, and would wait for it.
 */
function localMembers<Data>(nsp: RoomSource<Data>, room: string): MemberView<Data>[] {
  const members: MemberView<Data>[] = [];
  for (const id of nsp.adapter.rooms.get(room) ?? []) {
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
