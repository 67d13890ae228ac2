import { randomBytes } from 'node:crypto';
import type { Namespace, Socket } from 'socket.io';
import { DeviceHandshakeSchema, type BatchEntry, type DeviceHandshake, type MessageMeta, type Settings } from '../../protocol/index.js';
import { identityOf, userIdOf } from '../auth/identity.js';
import { authError } from '../auth/handshake.js';
import type { AuthMiddleware } from '../auth/types.js';
import type { SiteConfig } from '../config/access.js';
import type { ServiceContext } from '../core/context.js';
import { RequestError } from '../core/errors.js';
import { compileValidator } from '../core/validate.js';
import type { DeviceQueue, DeviceRef, QueuedMessage } from '../delivery/device-queue.js';

/**
 * What a site socket's `data` carries for reliable delivery (other nodes read it through `fetchSockets`,
 * and connection state recovery restores it): the user the auth found, and the device the handshake named.
 */
export interface DeviceSocketData {
  /** The user (`userIdOf`), on sites with a `userRoomPrefix`. */
  user?: string;
  /** The handshake's `deviceId`, set only when the socket also has a user: it then gets reliable delivery. */
  device?: string;
  /** Whether the handshake asked for each message's `{ _id }` before its ack. */
  messageIds?: boolean;
}

/** The adapter room every device socket of a site is in: plain (at most once) pushes skip it. No socket id or client room (`room:…`) is named so. */
export const DEVICE_SOCKETS_ROOM = 'device-sockets';

/** The server-side event with which a push tells every node of a site that some users have new messages. */
const WAKE_EVENT = 'device-queue:wake';

/** What the push route needs of a site's reliable delivery. */
export interface SiteDelivery {
  /** The queue the push route appends to. */
  readonly queue: DeviceQueue;
  /** Tells every node (this one included) that `users` have new messages: their device sockets read them. */
  wake(users: readonly string[]): void;
}

/** Bounds of the delivery to one socket. */
export interface DeliveryBounds {
  /** The device queue's message cap: also the most messages one socket has emitted and not yet had acked. */
  readonly maxMessages: number;
  /** The site's device TTL, in seconds (`_settings`), 0 for never. */
  readonly ttlSeconds: number;
}

/** One device socket's delivery state on the node that holds it. */
interface DeviceState {
  readonly ref: DeviceRef;
  readonly messageIds: boolean;
  /** The newest seq emitted on this connection: later reads start after it. */
  cursor: number;
  /** Messages emitted and not yet acked (a batch counts its messages): bounded by {@link DeliveryBounds.maxMessages}. */
  outstanding: number;
  /** Until the connect batch is sent, wakes only mark the socket {@link again}. */
  started: boolean;
  draining: boolean;
  again: boolean;
}

/** A stable message id: 16 base64url characters, random (no clock or node in it to leak). */
export function newMessageId(): string {
  return randomBytes(12).toString('base64url');
}

/**
 * Reliable delivery on one site with a `userRoomPrefix` (see README "Reliable delivery"): a handshake
 * middleware that reads and bounds the `deviceId`, `_settings` on connect, the device's pending messages as
 * one `_batch` on connect, each later message emitted with an ack callback whose call removes it from the
 * queue, and the listener of the wakes that pushes on any node send. Acks are always handled here, on the
 * node that holds the socket. In `cluster.mode` memory the wake is local; otherwise it goes to every node.
 */
export function mountDevices(
  site: SiteConfig,
  nsp: Namespace,
  queue: DeviceQueue,
  context: ServiceContext,
  bounds: DeliveryBounds,
): SiteDelivery {
  const { log, hooks, cluster } = context;
  const prefix = site.userRoomPrefix;
  const ttlMs = bounds.ttlSeconds * 1000;
  const validate = compileValidator(DeviceHandshakeSchema(context.limits));
  const states = new WeakMap<Socket, DeviceState>();
  /** This node's device sockets by user. */
  const local = new Map<string, Set<Socket>>();

  const middleware: AuthMiddleware = (socket, next) => {
    let fields: DeviceHandshake;
    try {
      fields = validate(handshakeFields(socket));
    } catch (err) {
      next(authError(err instanceof RequestError ? err : new RequestError('BAD_REQUEST', 'bad device fields')));
      return;
    }
    const identity = identityOf(socket);
    const user = identity && userIdOf(identity, prefix);
    const data = socket.data as DeviceSocketData;
    if (user !== undefined) data.user = user;
    if (user !== undefined && fields.deviceId !== undefined) {
      data.device = fields.deviceId;
      data.messageIds = fields.messageIds === true;
    }
    next();
  };
  nsp.use(middleware);

  const settings: Settings = { device_ttl: bounds.ttlSeconds };
  const fail = (socket: Socket, what: string) => (err: unknown) => log.warn({ err, socketId: socket.id }, `device queue: ${what} failed`);

  /** Emits what is pending after the cursor, as far as the outstanding bound allows; one drain at a time. */
  const drain = async (socket: Socket, state: DeviceState): Promise<void> => {
    if (!state.started || state.draining) {
      state.again = true;
      return;
    }
    state.draining = true;
    try {
      do {
        state.again = false;
        const room = bounds.maxMessages - state.outstanding;
        if (room <= 0 || !socket.connected) break;
        const messages = await queue.read(state.ref, state.cursor, room);
        if (!socket.connected) break;
        for (const message of messages) emitOne(socket, state, message);
      } while (state.again);
    } finally {
      state.draining = false;
    }
  };

  const acked = (socket: Socket, state: DeviceState, seqs: readonly number[]): void => {
    state.outstanding -= seqs.length;
    queue.ack(state.ref, seqs).then(
      (outcome) => {
        if (outcome === 'resync') socket.emit('_resync');
        return drain(socket, state);
      },
      fail(socket, 'ack'),
    );
  };

  const emitOne = (socket: Socket, state: DeviceState, message: QueuedMessage): void => {
    state.cursor = message.seq;
    state.outstanding += 1;
    const meta: MessageMeta[] = state.messageIds ? [{ _id: message.id }] : [];
    socket.emit(message.event, ...message.args, ...meta, () => acked(socket, state, [message.seq]));
  };

  const start = async (socket: Socket, state: DeviceState): Promise<void> => {
    const { overflowed } = await queue.connect(state.ref);
    if (!socket.connected) return;
    if (overflowed) socket.emit('_resync');
    const pending = await queue.read(state.ref, 0, bounds.maxMessages);
    if (!socket.connected) return;
    const last = pending.at(-1);
    if (last) {
      state.cursor = last.seq;
      state.outstanding += pending.length;
      const seqs = pending.map((message) => message.seq);
      const entries = pending.map((message): BatchEntry => {
        const entry: BatchEntry = [message.event, ...message.args];
        if (state.messageIds) entry.push({ _id: message.id } satisfies MessageMeta);
        return entry;
      });
      // One ack for the whole batch: it removes exactly these, never a message pushed after the read.
      socket.emit('_batch', entries, () => acked(socket, state, seqs));
    }
    state.started = true;
    if (state.again) await drain(socket, state);
  };

  hooks.on(
    'connection',
    (socket) => {
      socket.emit('_settings', settings);
      const data = socket.data as DeviceSocketData;
      if (data.user === undefined || data.device === undefined) return;
      const state: DeviceState = {
        ref: { site: site.name, user: data.user, device: data.device },
        messageIds: data.messageIds === true,
        cursor: 0,
        outstanding: 0,
        started: false,
        draining: false,
        again: false,
      };
      states.set(socket, state);
      // Registered before the queue is read, so that a push stored after that read wakes this socket.
      let sockets = local.get(state.ref.user);
      if (!sockets) local.set(state.ref.user, (sockets = new Set()));
      sockets.add(socket);
      void socket.join(DEVICE_SOCKETS_ROOM);
      // Should this node die, another one ends the device's connection for it (below): its TTL then runs.
      cluster.directory.trackMember(nsp.name, socket.id, JSON.stringify([state.ref.user, state.ref.device]));
      start(socket, state).catch(fail(socket, 'connect'));
    },
    { namespace: site.namespace },
  );
  hooks.on(
    'disconnect',
    (socket) => {
      const state = states.get(socket);
      if (!state) return;
      const sockets = local.get(state.ref.user);
      sockets?.delete(socket);
      if (sockets?.size === 0) local.delete(state.ref.user);
      cluster.directory.trackMember(nsp.name, socket.id, undefined);
      queue.disconnect(state.ref, ttlMs).catch(fail(socket, 'disconnect'));
    },
    { namespace: site.namespace },
  );
  // The device sockets of a node that died without shutting down (cluster mode): counted out, so that their
  // devices' TTL runs instead of keeping them connected for ever.
  hooks.on('lostMembers', (members) => {
    for (const member of members) {
      if (member.namespace !== nsp.name) continue;
      const ref = lostDevice(site.name, member.room);
      if (ref) queue.disconnect(ref, ttlMs).catch((err: unknown) => log.warn({ err }, 'device queue: disconnect of a lost socket failed'));
    }
  });

  const wakeHere = (users: readonly unknown[]): void => {
    for (const user of users) {
      if (typeof user !== 'string') continue;
      for (const socket of local.get(user) ?? []) {
        const state = states.get(socket);
        if (state) drain(socket, state).catch(fail(socket, 'read'));
      }
    }
  };
  // From the other nodes (never this one's own): validated, as anything that arrives from outside.
  nsp.on(WAKE_EVENT, (users: unknown) => {
    if (Array.isArray(users)) wakeHere(users);
  });

  return {
    queue,
    wake(users) {
      if (users.length === 0) return;
      wakeHere(users);
      // The in-memory adapter has no other node to tell (and warns when asked to).
      if (cluster.mode !== 'memory') nsp.serverSideEmit(WAKE_EVENT, users);
    },
  };
}

/** The device a lost member was tracked as (`[user, device]` in JSON), or undefined for anything else. */
function lostDevice(site: string, room: string): DeviceRef | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(room);
  } catch {
    return undefined;
  }
  if (!Array.isArray(parsed) || typeof parsed[0] !== 'string' || typeof parsed[1] !== 'string') return undefined;
  return { site, user: parsed[0], device: parsed[1] };
}

/** The device fields of a handshake, each from `auth` (v4 clients) when there, else from the query (every client). */
function handshakeFields(socket: Socket): Record<string, unknown> {
  const auth: unknown = socket.handshake.auth;
  const given = typeof auth === 'object' && auth !== null ? (auth as Record<string, unknown>) : {};
  const { query } = socket.handshake;
  const fields: Record<string, unknown> = {};
  const deviceId = 'deviceId' in given ? given.deviceId : query.deviceId;
  if (deviceId !== undefined) fields.deviceId = deviceId;
  const messageIds = 'messageIds' in given ? given.messageIds : queryBoolean(query.messageIds);
  if (messageIds !== undefined) fields.messageIds = messageIds;
  return fields;
}

/** A query's `true`/`1` and `false`/`0` as booleans; anything else as it is, for the schema to refuse. */
function queryBoolean(value: unknown): unknown {
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  return value;
}
