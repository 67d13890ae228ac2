import type { Namespace, Server } from 'socket.io';
import type { BroadcastFlags, BroadcastOptions } from 'socket.io-adapter';

/** The broadcast flags with the time the broadcast was made on the node that made it. */
interface StampedFlags extends BroadcastFlags {
  /** Milliseconds since the epoch, with a fraction (a wall clock, so that another node can compare it). */
  publishedAt?: number;
}

/** Now, in the same wall-clock milliseconds as {@link StampedFlags.publishedAt}, finer than `Date.now()`. */
export function wallClockNow(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * When the broadcast was made on the node that made it, or undefined if it carries no stamp (a broadcast of a
 * node without the metrics, or of an older one). The flags come over the wire from another node: only a
 * finite number is believed.
 */
export function publishedAtOf(opts: BroadcastOptions): number | undefined {
  const flags: StampedFlags | undefined = opts.flags;
  // Decoded from another node's message: its type is what that node sent, whatever the declaration says.
  const stamp: unknown = flags?.publishedAt;
  return typeof stamp === 'number' && Number.isFinite(stamp) ? stamp : undefined;
}

/**
 * Stamps every broadcast made on `io`'s namespaces with the time it was made, in its flags. The cluster
 * adapters (Redis streams, the workers' IPC) send the flags with the broadcast to the other nodes and hand
 * them back to the local delivery there, so that the delivery can tell how long the broadcast took to reach
 * its clients, through Redis, an outage's hold and the stream reader's batching included.
 *
 * The stamp goes on the namespace adapter's own `broadcast`, which only the local code calls: what an adapter
 * receives from another node goes to its prototype's `broadcast` and keeps the other node's stamp. The flags
 * are copied, not changed: a broadcast operator kept and emitted twice shares one flags object.
 */
export function stampBroadcasts(io: Server): void {
  const stamp = (nsp: Namespace): void => {
    const adapter = nsp.adapter;
    const broadcast = adapter.broadcast.bind(adapter);
    adapter.broadcast = (packet, opts) => {
      const flags: StampedFlags = { ...opts.flags, publishedAt: wallClockNow() };
      broadcast(packet, { rooms: opts.rooms, except: opts.except, flags });
    };
  };
  for (const nsp of io._nsps.values()) stamp(nsp);
  io.on('new_namespace', stamp);
}
