import type { Namespace, Socket } from 'socket.io';
import { Compile } from 'typebox/compile';
import {
  SocketTypeSchema,
  VIEW_CONNECT_EVENT,
  VIEW_DISCONNECT_EVENT,
  type SocketType,
  type ViewCount,
  type ViewPeer,
} from '../../protocol/index.js';
import { authError } from '../auth/handshake.js';
import type { ServiceContext } from '../core/context.js';
import { andThen } from '../core/maybe.js';
import { DeferredDepartures, mayRecover, RECOVERY_GRACE_MS, SHUTTING_DOWN } from '../delivery/departures.js';
import { holdNamespace } from '../engine/child-namespaces.js';

/**
 * The adapter room of a forwarding namespace's views, and (on a recovering namespace only) the one every socket
 * of it is in, to find those that connected while a view was away. The colon keeps them apart from socket ids
 * (base64url) and client rooms (`room:…`, lib/core/rooms.ts).
 */
const VIEWS_ROOM = 'views:';
const ALL_ROOM = 'all:';

/** What the controller/view model keeps in a forwarding socket's `data` (restored with a recovered session). */
export interface ForwardingSocketData {
  /** The type from the handshake; absent for an untyped socket. */
  type?: SocketType;
  /** When (wall-clock ms) the socket connected, on a recovering namespace: a recovered view announces itself to those who came later. */
  connectedAt?: number;
  /** When a view's connection dropped, recorded before Socket.IO keeps its session for recovery. */
  droppedAt?: number;
  /** The others heard `__disconnect__` at once (its node was shutting down): a recovery announces it to all. */
  announcedGone?: boolean;
}

const dataOf = (socket: Socket): ForwardingSocketData => socket.data as ForwardingSocketData;
const socketTypeCheck = Compile(SocketTypeSchema);

/**
 * The `type` a handshake declares: `auth.type` (v4 clients), else `?type=` (legacy clients cannot send
 * `auth`). `undefined` when it declares none; `{ invalid }` for anything but `controller` or `view`.
 */
export function handshakeSocketType(socket: Socket): SocketType | undefined | { readonly invalid: unknown } {
  const auth: unknown = socket.handshake.auth;
  const value: unknown =
    typeof auth === 'object' && auth !== null && 'type' in auth && auth.type !== undefined ? auth.type : socket.handshake.query.type;
  if (value === undefined) return undefined;
  return socketTypeCheck.Check(value) ? value : { invalid: value };
}

/**
 * The handshake check of a forwarding namespace: a declared `type` must be `controller` or `view`, or the
 * CONNECT is refused (`connect_error` `BAD_REQUEST`); a typo would otherwise connect an untyped socket that is
 * silently never counted. Runs before the auth, so a refused type costs no password check.
 */
export function socketTypeMiddleware(socket: Socket, next: (err?: Error) => void): void {
  const type = handshakeSocketType(socket);
  if (typeof type === 'object') {
    const shown = JSON.stringify(type.invalid).slice(0, 64);
    return next(authError({ code: 'BAD_REQUEST', message: `type must be 'controller' or 'view', not ${shown}` }));
  }
  if (type !== undefined) dataOf(socket).type = type;
  next();
}

/**
 * The controller/view model on one forwarding entry (a namespace, or every child of a prefix): views are
 * counted (`__count__`, cluster-wide), and every other socket of the namespace hears `__connect__ { id }` when
 * a view connects and `__disconnect__ { id }` when it is gone. With recovery, a view whose connection dropped
 * is announced gone only once the window has passed without it coming back to any node; one that recovers is
 * announced only to the sockets that connected while it was away. The returned handler answers `__count__`.
 */
export function controllerView(
  parent: Namespace,
  context: ServiceContext,
  recovers: boolean,
): {
  /** The count of views of `socket`'s namespace, as `__count__`'s ack result. */
  readonly count: (socket: Socket) => ViewCount | Promise<ViewCount>;
} {
  const { directory } = context.cluster;
  const recoveryWindow = recovers ? context.recoveryWindow : 0;
  const departures = new DeferredDepartures();
  context.onClose(() => Promise.resolve(departures.clear()));

  const announceGone = (nsp: Namespace, id: string): void => {
    nsp.except(id).emit(VIEW_DISCONNECT_EVENT, { id } satisfies ViewPeer);
  };

  // Runs while the socket is still in its namespace and rooms: a child namespace whose last local socket this
  // is goes away right after (lib/engine/child-namespaces.ts), and could not carry a later broadcast.
  function onDisconnecting(this: Socket, reason: string): void {
    const data = dataOf(this);
    if (data.type !== 'view') return;
    if (recoveryWindow === 0 || !mayRecover(reason)) return announceGone(this.nsp, this.id);
    data.droppedAt = Date.now();
    // A node that shuts down cannot wait out the window: the others hear it now, and `__connect__` if it comes back.
    if (reason === SHUTTING_DOWN) {
      data.announcedGone = true;
      return announceGone(this.nsp, this.id);
    }
    const { id, nsp } = this;
    // The namespace is kept (with its Redis channels) until the decision, even if no local socket is left.
    const release = holdNamespace(nsp);
    departures.schedule(id, recoveryWindow + RECOVERY_GRACE_MS, () => {
      Promise.resolve(directory.isMember(nsp, VIEWS_ROOM, id))
        .then((membership) => {
          const back = membership === 'member';
          context.log.debug(
            { socketId: id, nsp: nsp.name, back },
            back ? 'dropped view came back: no __disconnect__' : 'dropped view did not come back: __disconnect__',
          );
          if (!back) announceGone(nsp, id);
        })
        .catch((err: unknown) => {
          // Without an answer, gone: a view that is back still counts, and a ghost would never be announced.
          context.log.warn({ err, socketId: id }, 'could not look up a dropped view: __disconnect__');
          announceGone(nsp, id);
        })
        .finally(release);
    });
  }

  /** A recovered view was never announced gone to those who knew it: only the sockets that came meanwhile hear of it. */
  async function welcomeBack(socket: Socket): Promise<void> {
    departures.cancel(socket.id);
    const data = dataOf(socket);
    const droppedAt = data.droppedAt ?? 0;
    const toldGone = data.announcedGone === true;
    data.droppedAt = undefined;
    data.announcedGone = undefined;
    if (toldGone) {
      socket.broadcast.emit(VIEW_CONNECT_EVENT, { id: socket.id } satisfies ViewPeer);
      return;
    }
    const { members } = await directory.membersOfAny<ForwardingSocketData>(socket.nsp, [ALL_ROOM]);
    const newcomers = members.filter((m) => m.id !== socket.id && (m.data.connectedAt ?? 0) >= droppedAt).map((m) => m.id);
    if (newcomers.length > 0) socket.nsp.to(newcomers).emit(VIEW_CONNECT_EVENT, { id: socket.id } satisfies ViewPeer);
  }

  parent.on('connection', (socket: Socket) => {
    const data = dataOf(socket);
    if (data.type === 'view') socket.on('disconnecting', onDisconnecting);
    if (socket.recovered) {
      // Socket.IO restored its rooms and data, and replayed what it missed: only a view has more to do.
      if (data.type === 'view' && socket.rooms.has(VIEWS_ROOM))
        welcomeBack(socket).catch((err: unknown) =>
          context.log.warn({ err, socketId: socket.id }, 'could not welcome back a recovered view'),
        );
      return;
    }
    // Only a recovering namespace needs to find who connected while a view was away.
    const rooms = recoveryWindow > 0 ? [ALL_ROOM] : [];
    if (recoveryWindow > 0) data.connectedAt = Date.now();
    if (data.type === 'view') rooms.push(VIEWS_ROOM);
    if (rooms.length > 0) void socket.join(rooms);
    if (data.type === 'view') socket.broadcast.emit(VIEW_CONNECT_EVENT, { id: socket.id } satisfies ViewPeer);
  });

  return {
    count: (socket) =>
      andThen(directory.memberIds(socket.nsp, VIEWS_ROOM), ({ members, complete }) =>
        complete ? { count: members.length } : { count: members.length, partial: true as const },
      ),
  };
}
