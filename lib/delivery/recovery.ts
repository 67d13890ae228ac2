import type { Logger } from 'pino';
import type { ServerOptions, Socket } from 'socket.io';
import { PacketType } from 'socket.io-parser';
import { Namespaces, OFFSET_EVENT } from '../../protocol/index.js';
import type { Cluster } from '../cluster/types.js';
import type { AccessConfig } from '../config/access.js';
import type { ServiceHooks } from '../core/types.js';

/**
 * The protocol's `_offset`: socket.io-client (v4) keeps the last string argument of every event it receives
 * as its offset and sends it back when it reconnects; a client that has received nothing yet has none, and
 * plain Socket.IO cannot recover it. This event gives it one at connect.
 */
export { OFFSET_EVENT };

/**
 * Which namespaces recover sessions: the built-in ones always (their events have a fixed shape, and listeners
 * that take fewer arguments ignore the trailing offset), sites and forwarding namespaces only with
 * `recovery: true` in the sites file. Their events are the application's own, with any number of arguments:
 * a client written for the original service takes a last argument that is a function for the reliable
 * delivery's ack (`if (successCallback) successCallback()`), and would call the offset string.
 */
export function recoveringNamespaces(access: AccessConfig): (name: string) => boolean {
  const names = new Set<string>(Object.values(Namespaces));
  for (const site of access.sites) if (site.recovery === true) names.add(site.namespace);
  const prefixes: string[] = [];
  for (const entry of access.forwarding ?? []) {
    if (entry.recovery !== true) continue;
    if (entry.kind === 'namespace') names.add(entry.namespace);
    else prefixes.push(`/${entry.prefix}`);
  }
  return (name) => names.has(name) || prefixes.some((prefix) => name.startsWith(prefix) && CHILD_NAME.test(name.slice(prefix.length)));
}

/** What follows a forwarding prefix in the names of its namespaces (lib/namespaces/forwarding.ts). */
const CHILD_NAME = /^[\w-]+$/;

/**
 * Socket.IO's `connectionStateRecovery` option for a window of `windowMs` (0: off), or undefined when
 * recovery is off or `cluster` cannot recover sessions (then `log` says so once). Middlewares (the auth) run
 * again on a recovered connection: a revoked token is not recovered.
 */
export function recoveryOption(windowMs: number, cluster: Cluster, log: Logger): ServerOptions['connectionStateRecovery'] | undefined {
  if (windowMs === 0) return undefined;
  if (!cluster.recovers) {
    log.warn({ adapter: cluster.mode }, 'connection-state recovery is off: --workers without --redis keeps no sessions');
    return undefined;
  }
  return { maxDisconnectionDuration: windowMs, skipMiddlewares: false };
}

/** Socket.IO's private per-socket send, below `emit`: the packet goes to this one client and nowhere else. */
interface DirectPacket {
  packet(packet: { type: PacketType; data: unknown[] }): void;
}

/**
 * Sends every new (not recovered) session of a Socket.IO v4 client its first offset, so that it can be
 * recovered even if its connection drops before it receives anything. Legacy clients (Engine.IO 3) cannot
 * recover and get nothing. A recovered session keeps the offset it had.
 *
 * The packet is written straight to the socket, not with `emit`: with recovery on, Socket.IO sends every
 * `emit` through the adapter's `broadcast` so that it can be kept for a replay, and the offset needs none.
 * Through `emit`, every connect added a kept packet to the in-memory recovery buffer (a crowd of new
 * connections pushed out the broadcasts the buffer is for, and each one dropped left a room watermark
 * behind), and the connect path paid for a broadcast. (The Redis adapter's path already kept a `socket.emit`
 * to its own node: lib/cluster/stream-offsets.ts.)
 */
export function sendStartOffsets(hooks: ServiceHooks, cluster: Cluster, covers: (name: string) => boolean): void {
  hooks.on('connection', (socket: Socket) => {
    if (socket.recovered || socket.conn.protocol !== 4 || !covers(socket.nsp.name)) return;
    const offset = cluster.recoveryOffset(socket.nsp.adapter);
    if (offset !== undefined) (socket as unknown as DirectPacket).packet({ type: PacketType.EVENT, data: [OFFSET_EVENT, offset] });
  });
}
