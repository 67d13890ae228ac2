import type { RoomSize, RoomSource } from './types.js';

/** The ids of this node's sockets in any of `keys`, each once. */
export function localIds<Data>(nsp: RoomSource<Data>, keys: readonly string[]): Set<string> {
  const ids = new Set<string>();
  for (const key of keys) for (const id of nsp.adapter.rooms.get(key) ?? []) ids.add(id);
  return ids;
}

/** The sizes of this node's adapter rooms whose key starts with `prefix` (the empty ones are gone from the map). */
export function localRoomSizes<Data>(nsp: RoomSource<Data>, prefix: string): RoomSize[] {
  const sizes: RoomSize[] = [];
  for (const [key, members] of nsp.adapter.rooms) if (key.startsWith(prefix)) sizes.push({ key, size: members.size });
  return sizes;
}
