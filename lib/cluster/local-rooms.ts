import type { RoomSource } from './types.js';

/** The ids of this node's sockets in any of `keys`, each once. */
export function localIds<Data>(nsp: RoomSource<Data>, keys: readonly string[]): Set<string> {
  const ids = new Set<string>();
  for (const key of keys) for (const id of nsp.adapter.rooms.get(key) ?? []) ids.add(id);
  return ids;
}
