import type { Socket } from 'socket.io';

/** Who an auth mode found a socket to be: what the backend notification needs. */
export interface Identity {
  /** The user id, when the mode knows it (jwt: its user claim). */
  readonly user: string | undefined;
  /** The rooms the auth granted (token-url derives the user from these with `userRoomPrefix`). */
  readonly rooms: readonly string[];
  /** The `Authorization` header value the socket authenticated with, to call the site's backend as the user. */
  readonly authorization: string;
}

// Weak: an identity never outlives its socket.
const identities = new WeakMap<Socket, Identity>();

/** Records the identity of an authenticated socket (called by the auth modes). */
export function setIdentity(socket: Socket, identity: Identity): void {
  identities.set(socket, identity);
}

/** The identity an auth mode recorded for `socket`, if any. */
export function identityOf(socket: Socket): Identity | undefined {
  return identities.get(socket);
}

/**
 * The user id of an identity on a site: the mode's own (jwt's user claim), else the granted room that starts
 * with the site's `userRoomPrefix` (`user_8` → `8`); undefined when neither says.
 */
export function userIdOf(identity: Identity, prefix: string | undefined): string | undefined {
  if (identity.user !== undefined && identity.user !== '') return identity.user;
  if (prefix === undefined) return undefined;
  const room = identity.rooms.find((candidate) => candidate.startsWith(prefix) && candidate.length > prefix.length);
  return room?.slice(prefix.length);
}
