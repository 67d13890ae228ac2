import type { Namespace } from 'socket.io';
import { Adapter, type BroadcastOptions } from 'socket.io-adapter';
import { publishedAtOf, wallClockNow } from './broadcast-stamp.js';
import { stateOf } from './state.js';
import { broadcastFrame, writeToConnection } from './websocket-transport.js';

/**
 * Local delivery of a broadcast with no per-recipient bookkeeping.
 *
 * Socket.IO's adapter encodes a broadcast once, but then hands it to every recipient through Engine.IO's
 * per-packet path: a packet object, five `emit`s, a write buffer and a drain callback each, and, for a
 * broadcast to a room, a set of every recipient's id to skip duplicates across rooms. A profile of a
 * 1,000-receiver fan-out put most of the JavaScript time there (BENCHMARKS.md).
 *
 * This replacement keeps Socket.IO's encoding and recipients, and differs only in how each copy is
 * written: a recipient connected over this service's WebSocket transport gets the frame put straight into
 * its socket's current write (see lib/engine/websocket-transport.ts), provided Engine.IO holds nothing queued for it,
 * so the order of everything sent to one client is kept. Every other recipient (long-polling, mid-upgrade,
 * per-message deflate, binary payloads, volatile broadcasts) goes through Socket.IO's own path, unchanged.
 * A broadcast to a single room (every NOTIFY, RTCSIGNAL and bus message) walks that room's members
 * without building the duplicate set, which only matters across rooms.
 *
 * It replaces `broadcast` on the in-memory adapter's prototype because every adapter delivers locally
 * through it: the Redis streams and cluster adapters publish to the other nodes and then call
 * `super.broadcast`, and call it again for what they receive. A subclass would cover only the default mode.
 * The replacement is process-wide, the fast path is not: it runs only for the adapters of a Socket.IO server
 * lib/engine/index.ts built with the fast path on (one property read per broadcast, through the adapter's
 * namespace); every other adapter in the process goes straight to Socket.IO's own `broadcast`.
 */

/** What the broadcast reads of a namespace socket (Socket.IO's own fields). */
interface Recipient {
  notifyOutgoingListeners?(packet: unknown): void;
  readonly conn: unknown;
  readonly client: { writeToEngine(encoded: unknown[], opts: unknown): void };
}

/** The adapter internals the broadcast uses; all are Socket.IO's. */
interface AdapterInternals {
  readonly nsp: { readonly name: string; readonly sockets: ReadonlyMap<string, Recipient>; readonly server: unknown };
  readonly rooms: ReadonlyMap<string, ReadonlySet<string>>;
  _encode(packet: unknown, packetOpts: Record<string, unknown>): unknown[];
  computeExceptSids(exceptRooms?: Set<string>): Set<string>;
  apply(opts: BroadcastOptions, deliver: (socket: Recipient) => void): void;
}

type Broadcast = (this: Adapter, packet: { nsp?: string; data?: unknown }, opts: BroadcastOptions) => void;

/** Socket.IO's own `broadcast`, for what the fast path leaves to it (undefined if socket.io-adapter has none). */
const socketIoBroadcast = Object.getOwnPropertyDescriptor(Adapter.prototype, 'broadcast')?.value as Broadcast | undefined;

const broadcast: Broadcast = function broadcast(packet, opts) {
  const adapter = this as unknown as AdapterInternals;
  const state = stateOf(adapter.nsp.server);
  const flags = opts.flags ?? {};
  // A volatile broadcast is dropped for clients that cannot take it now (a backed-up socket makes the
  // transport unwritable, see lib/engine/websocket-transport.ts): Socket.IO's path decides that per client.
  if (state?.fastBroadcast !== true || flags.volatile) {
    (socketIoBroadcast as Broadcast).call(this, packet, opts);
    return;
  }
  const packetOpts: Record<string, unknown> = { preEncoded: true, volatile: undefined, compress: flags.compress };
  packet.nsp = adapter.nsp.name;
  const encoded = adapter._encode(packet, packetOpts);
  // Present when the packet is one text frame (not binary): the WebSocket frame, built once.
  const preEncoded = packetOpts.wsPreEncodedFrame as Buffer[] | undefined;
  const frame = preEncoded ? broadcastFrame(preEncoded) : undefined;
  // Counted here and added to the server's total once, so that a delivery costs no more than before.
  let direct = 0;
  let delivered = 0;
  const deliver = (socket: Recipient): void => {
    delivered++;
    socket.notifyOutgoingListeners?.(packet);
    if (frame && writeToConnection(socket.conn, frame)) direct++;
    else socket.client.writeToEngine(encoded, packetOpts);
  };

  if (opts.rooms.size !== 1) {
    adapter.apply(opts, deliver);
  } else {
    const [room] = opts.rooms;
    const members = room === undefined ? undefined : adapter.rooms.get(room);
    if (!members) return;
    const except = adapter.computeExceptSids(opts.except);
    for (const id of members) {
      if (except.has(id)) continue;
      const socket = adapter.nsp.sockets.get(id);
      if (socket) deliver(socket);
    }
  }
  state.directWrites += direct;
  // Once per broadcast, with the count: the metrics never cost a step per recipient.
  const listener = state.broadcastListener;
  if (!listener) return;
  const publishedAt = publishedAtOf(opts);
  // Another machine's clock may be ahead of this one's: a negative delay is its skew, not a time.
  const delayMs = publishedAt === undefined ? undefined : Math.max(0, wallClockNow() - publishedAt);
  listener(adapter.nsp as unknown as Namespace, Array.isArray(packet.data) ? packet.data[0] : undefined, delivered, delayMs);
};

/** What of socket.io-adapter the replacement needs before it can be installed: the `broadcast` it falls back to. */
export function broadcastProblems(): string[] {
  return typeof socketIoBroadcast === 'function' ? [] : ['socket.io-adapter Adapter.prototype.broadcast'];
}

/**
 * Puts the fast path on socket.io-adapter's `Adapter.prototype` (once per process; later calls do nothing).
 * It engages only for servers whose {@link EngineState} has `fastBroadcast` on; see above.
 */
export function installFastBroadcast(): void {
  if (Adapter.prototype.broadcast === broadcast) return;
  Adapter.prototype.broadcast = broadcast;
}

/** Whether `Adapter.prototype.broadcast` is this module's (for status and tests). */
export function fastBroadcastInstalled(): boolean {
  return Adapter.prototype.broadcast === broadcast;
}
