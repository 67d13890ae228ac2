import type { Namespace, Socket } from 'socket.io';
import { PRESENCE_EVENT, type PresenceChange, type PresenceEvent } from '../../protocol/index.js';
import { identityOf, userIdOf } from '../auth/identity.js';
import type { ServiceContext } from '../core/context.js';
import { clientRoomOf, roomKey } from '../core/rooms.js';
import { DeferredDepartures, mayRecover, RECOVERY_GRACE_MS, SHUTTING_DOWN } from './departures.js';

/** What presence keeps in a socket's data (so that it travels in a recovered session). */
export interface PresenceSocketData {
  /** The display name, on namespaces with names (`/layout`, `/bus`). */
  name?: string;
  /** Its rooms' members were told it left at once (its node was shutting down): a recovery announces it again. */
  presenceLeft?: boolean;
}

/** A socket's data as presence reads it (every namespace's data has these fields or none). */
function dataOf(socket: Socket): PresenceSocketData {
  return socket.data as PresenceSocketData;
}

/** The client rooms of a socket (its adapter rooms under the `room:` prefix). */
function clientRooms(rooms: ReadonlySet<string>): string[] {
  const found: string[] = [];
  for (const key of rooms) {
    const room = clientRoomOf(key);
    if (room !== undefined) found.push(room);
  }
  return found;
}

/** Rooms a disconnecting socket was in, taken before Socket.IO empties its room set. */
const roomsAtDrop = new WeakMap<Socket, string[]>();

/** The presence of each namespace that has it, for the listeners shared by its sockets. */
const presenceOf = new WeakMap<Namespace, RoomPresence>();

// Shared by every socket (Socket.IO calls them with the socket as `this`): no closure per connection.
function onDisconnecting(this: Socket, reason: string): void {
  const rooms = clientRooms(this.rooms);
  if (rooms.length === 0) return;
  roomsAtDrop.set(this, rooms);
  // Before Socket.IO keeps the session: the flag is in what a recovery restores.
  if (reason === SHUTTING_DOWN) dataOf(this).presenceLeft = true;
}
function onDisconnect(this: Socket, reason: string): void {
  presenceOf.get(this.nsp)?.departed(this, reason);
}

/**
 * `PRESENCE { room, event, id, name, userId }` for one namespace that turned it on: to the *other* members of
 * a room when a socket joins it, leaves it (LEAVE or disconnect) or changes its name. Sent as a normal room
 * broadcast (`nsp.to(room).except(id)`), so that it reaches every node through the adapter and each recipient
 * under its outbound bound, as any EVENT does. The namespace's handlers call {@link joined}, {@link renamed}
 * and {@link left}; {@link watch} covers disconnects and recoveries.
 *
 * A dropped connection that may recover (recovery on, a recoverable reason) is announced `left` only once its
 * window (plus {@link RECOVERY_GRACE_MS}) has passed without it coming back to any node; one that comes back
 * is never announced, unless its node was shutting down (then `left` at once, and `joined` again on recovery).
 */
export class RoomPresence {
  readonly #departures = new DeferredDepartures();

  constructor(
    private readonly nsp: Namespace,
    private readonly context: ServiceContext,
    /** The namespace's `userRoomPrefix` (sites): with it, a granted room also names the user. */
    private readonly userRoomPrefix: string | undefined,
  ) {
    presenceOf.set(nsp, this);
    context.onClose(() => Promise.resolve(this.#departures.clear()));
  }

  /**
   * Call once per connection. Listens for the socket's disconnect, and announces the rooms it is in already:
   * for a new socket those an auth mode granted at the handshake (`joined`, now that it has connected: a
   * handshake refused later is never announced); for a recovered one nothing, unless its peers heard it left.
   */
  watch(socket: Socket): void {
    socket.on('disconnecting', onDisconnecting);
    socket.on('disconnect', onDisconnect);
    if (socket.recovered) {
      this.#departures.cancel(socket.id);
      const data = dataOf(socket);
      if (data.presenceLeft !== true) return;
      data.presenceLeft = undefined;
    }
    for (const room of clientRooms(socket.rooms)) this.#send(socket, room, 'joined');
  }

  /** `socket` has just joined `room` (it was not in it). */
  joined(socket: Socket, room: string): void {
    this.#send(socket, room, 'joined');
  }

  /** `socket`'s name changed: every room it is in hears it, except `exceptRoom` (just joined, announced as such). */
  renamed(socket: Socket, exceptRoom?: string): void {
    for (const room of clientRooms(socket.rooms)) if (room !== exceptRoom) this.#send(socket, room, 'renamed');
  }

  /** `socket` has just left `room` (it was in it). */
  left(socket: Socket, room: string): void {
    this.#send(socket, room, 'left');
  }

  /** Called by the shared disconnect listener: `left` for every room the socket was in, now or after its window. */
  departed(socket: Socket, reason: string): void {
    const rooms = roomsAtDrop.get(socket);
    roomsAtDrop.delete(socket);
    if (rooms === undefined) return;
    const payload = (room: string, event: PresenceChange): PresenceEvent => this.#payload(socket, room, event);
    const announce = (): void => {
      for (const room of rooms) this.nsp.to(roomKey(room)).emit(PRESENCE_EVENT, payload(room, 'left'));
    };
    const window = this.context.recoveryWindow;
    if (window === 0 || !mayRecover(reason) || dataOf(socket).presenceLeft === true) return announce();
    const { id } = socket;
    const { directory } = this.context.cluster;
    this.#departures.schedule(id, window + RECOVERY_GRACE_MS, () => {
      Promise.resolve(directory.memberIds(this.nsp, rooms.map(roomKey)))
        .then(({ members }) => {
          if (!members.includes(id)) announce();
        })
        .catch((err: unknown) => {
          // Without an answer, left: a member that is back shows in CLIENTS; a ghost would stay for ever.
          this.context.log.warn({ err, socketId: id }, 'could not look up a dropped member: PRESENCE left');
          announce();
        });
    });
  }

  #send(socket: Socket, room: string, event: PresenceChange): void {
    this.nsp
      .to(roomKey(room))
      .except(socket.id)
      .emit(PRESENCE_EVENT, this.#payload(socket, room, event));
  }

  #payload(socket: Socket, room: string, event: PresenceChange): PresenceEvent {
    const identity = identityOf(socket);
    const user = identity && userIdOf(identity, this.userRoomPrefix);
    return { room, event, id: socket.id, name: dataOf(socket).name ?? null, userId: user ?? null };
  }
}
