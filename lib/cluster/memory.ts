import { currentOffsetOf, recoveryAdapter, type RecoveryBounds } from './recovery-adapter.js';
import { MemoryPresence } from './presence.js';
import { localIds, localRoomSizes } from './local-rooms.js';
import type { Cluster, MemberView, RoomDirectory, RoomSource } from './types.js';

/**
 * One process: every member is local. Lookups read the adapter's room sets directly and synchronously, and
 * the sets' insertion order is the join order, so nothing is stamped; no node can die without this one.
 */
export const memoryDirectory: RoomDirectory = {
  memberIds(nsp, key) {
    if (typeof key !== 'string') return { members: [...localIds(nsp, key)], complete: true };
    const room = nsp.adapter.rooms.get(key);
    // A fresh array: the caller sends it (PEERS) and the set changes as the newcomer joins.
    return { members: room ? [...room] : [], complete: true };
  },
  membersOfAny<Data>(nsp: RoomSource<Data>, keys: readonly string[]) {
    const members: MemberView<Data>[] = [];
    for (const id of localIds(nsp, keys)) {
      const socket = nsp.sockets.get(id);
      if (socket) members.push(socket);
    }
    return { members, complete: true };
  },
  isMember(nsp, key, id) {
    return nsp.adapter.rooms.get(key)?.has(id) === true ? 'member' : 'absent';
  },
  roomSizes(nsp, prefix) {
    return { members: localRoomSizes(nsp, prefix), complete: true };
  },
  async members(nsp, key) {
    // fetchSockets walks the room's member set, which keeps insertion (= join) order.
    return { members: await nsp.in(key).fetchSockets(), complete: true };
  },
  trackMember() {},
};

/**
 * Socket.IO's own in-memory adapter, or with `recovery` the bounded recovery adapter of
 * lib/cluster/recovery-adapter.ts: always ready, nothing to close. One per service (presence is its own).
 */
export function createMemoryCluster(recovery?: RecoveryBounds): Cluster {
  return {
    mode: 'memory',
    adapter: recovery ? recoveryAdapter(recovery) : undefined,
    recovers: recovery !== undefined,
    recoveryOffset: currentOffsetOf,
    directory: memoryDirectory,
    presence: new MemoryPresence(),
    isReady: () => true,
    canBroadcast: () => true,
    // Never unready: waiting for `false` would wait forever, so it resolves too.
    untilReady: () => Promise.resolve(),
    attach() {},
    close: () => Promise.resolve(),
  };
}
