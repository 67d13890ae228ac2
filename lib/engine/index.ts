/**
 * The one way in to lib/engine/: builds the service's Socket.IO server with the patches of Socket.IO,
 * Engine.IO and ws internals on (or, with the fast path switched off, without any), after checking that
 * what each patch relies on is there. See README.md in this folder for every contact point.
 */
import type { Server as HttpServer } from 'node:http';
import type { Logger } from 'pino';
import { Server, type Namespace, type ServerOptions } from 'socket.io';
import {
  adapterProblems,
  connectionGuardProblems,
  connectionProblems,
  engineProblems,
  footprintProblems,
  socketProblems,
  socketPrototypeProblems,
} from './checks.js';
import { installConnectionFootprint } from './connection-footprint.js';
import { installConnectionGuard, type ConnectionBounds } from './connection-guard.js';
import { installNamespaceNameBound } from './namespace-names.js';
import { stampBroadcasts } from './broadcast-stamp.js';
import { broadcastProblems, fastBroadcastInstalled, installFastBroadcast } from './fast-broadcast.js';
import { attachState, EngineState, PATCHES, stateOf, type BroadcastListener, type PatchName } from './state.js';
import { CoalescingEngine } from './websocket-transport.js';

export type { PatchName } from './state.js';
export type { ConnectionBounds } from './connection-guard.js';
export { connectionAddress } from './connection-guard.js';
export { removeUnusedChildren } from './child-namespaces.js';

/** How {@link createSocketServer} builds the server. */
export interface EngineSwitch {
  /**
   * Whether the patches of lib/engine/ are on for this server (the service's `fastPath` option; off with
   * `--no-fast-path` or `FAST_PATH=off`). Off, the server runs on the libraries' own code only.
   */
  readonly fastPath: boolean;
  /** Where the one warn goes if a patch cannot engage. */
  readonly log: Logger;
  /**
   * What one connection may cost (its outbound bytes, its life without reading) and where its hits go.
   * Not behind the switch: the bounds hold with the fast path off too (lib/engine/connection-guard.ts).
   */
  readonly bounds: ConnectionBounds;
}

/** Whether one patch is on for a server, and if not, why. */
export interface PatchStatus {
  readonly active: boolean;
  /** Why the patch is off: switched off, a missing member of a library (named), or not one of our servers. */
  readonly reason?: string;
}

/** What {@link enginePatches} reports for a server. */
export type EnginePatches = Readonly<Record<PatchName, PatchStatus>> & {
  /** Broadcast copies the fast broadcast has written straight into a recipient's socket on this server. */
  readonly directWrites: number;
};

const SWITCHED_OFF = 'the fast path is switched off (fastPath: false, --no-fast-path or FAST_PATH=off)';
const NOT_OURS = 'this Socket.IO server was not built by lib/engine/ (createSocketServer)';

/**
 * Builds a Socket.IO server attached to `httpServer`, with the patches of lib/engine/ on when
 * `fastPath` is (they then affect this server only; other Socket.IO servers in the process keep the
 * libraries' own paths):
 *
 * - the coalescing WebSocket transport, through an Engine.IO server of its own bound with `io.bind`
 *   (everything Socket.IO's `attach` does is kept: its options, the path, the client bundle, `close()`);
 * - the fast broadcast, for the adapters of this server's namespaces (it needs the transport);
 * - the connection-footprint trimming of this server's connections and sockets.
 *
 * Every connection is bounded whether the fast path is on or not (`bounds`: lib/engine/connection-guard.ts),
 * and so is the name of a namespace a CONNECT may create (lib/engine/namespace-names.ts); what the bounds
 * rely on is checked here, and a missing member throws: the server never runs unbounded.
 *
 * What each patch relies on is checked once: prototypes and the namespaces' adapters here and as
 * namespaces are created, per-connection shapes on the first connection, before a patch touches one. A
 * missing member turns that patch (and what needs it) off with one `warn` naming it; the server then runs
 * that part on the libraries' own path. {@link enginePatches} tells which are on.
 *
 * Pass the adapter in `options` (as `createApp` does): a namespace's adapter is checked when it is created.
 *
 * @example
 * ```ts
 * const io = createSocketServer(httpServer, { allowEIO3: true }, { fastPath: true, log, bounds: { maxOutbound: 4_000_000, limited, addressOf, maxNamespaceLength: 256 } });
 * enginePatches(io).fastBroadcast.active; // true unless a check failed
 * ```
 */
export function createSocketServer(
  httpServer: HttpServer,
  options: Partial<ServerOptions>,
  { fastPath, log, bounds }: EngineSwitch,
): Server {
  const guardProblems = connectionGuardProblems();
  if (guardProblems.length > 0)
    throw new Error(
      `the installed engine.io lacks what the connection bounds rely on: ${guardProblems.join(', ')} (see lib/engine/README.md)`,
    );
  const io = new Server(options);
  installNamespaceNameBound(io, bounds.maxNamespaceLength, bounds.limited);
  const state = new EngineState(log);
  attachState(io, state);
  if (!fastPath) {
    state.set(PATCHES, false, SWITCHED_OFF);
    io.attach(httpServer);
    installConnectionGuard(io.engine, bounds);
    return io;
  }
  state.set(PATCHES, true);
  state.disable(
    new Map<PatchName, string[]>([
      ['websocketTransport', engineProblems(io.serveClient())],
      ['fastBroadcast', [...broadcastProblems(), ...socketPrototypeProblems(), ...adapterProblems(io.of('/').adapter)]],
    ]),
    'at start',
  );

  if (state.websocketTransport) {
    const engine = new CoalescingEngine(options, state, bounds.maxOutbound);
    installConnectionGuard(engine, bounds);
    // Before Socket.IO's own listener: a connection is checked before anything can be sent to it.
    engine.once('connection', (conn: unknown) => checkFirstConnection(conn, state));
    bindEngine(io, engine, httpServer, options);
    if (io.engine !== engine) state.disable(new Map([['websocketTransport', ['socket.io Server.bind setting io.engine']]]), 'at start');
  } else {
    io.attach(httpServer);
    installConnectionGuard(io.engine, bounds);
    io.engine.once('connection', (conn: unknown) => checkFirstConnection(conn, state));
  }
  if (state.fastBroadcast) {
    installFastBroadcast();
    checkNamespaces(io, state);
  }
  if (state.connectionFootprint) installConnectionFootprint(io, state);
  return io;
}

/**
 * Which patches of lib/engine/ are on for `io`, and why the others are not. A snapshot; read-only.
 *
 * @example
 * ```ts
 * const { websocketTransport, fastBroadcast } = enginePatches(app.io);
 * if (!fastBroadcast.active) console.log(fastBroadcast.reason);
 * ```
 */
export function enginePatches(io: Server): EnginePatches {
  const state = stateOf(io);
  const status = (patch: PatchName): PatchStatus => {
    if (!state) return { active: false, reason: NOT_OURS };
    if (!state[patch]) return { active: false, reason: state.reasons[patch] ?? 'off' };
    if (patch === 'fastBroadcast' && !fastBroadcastInstalled())
      return { active: false, reason: 'socket.io-adapter Adapter.prototype.broadcast was replaced after lib/engine/ installed its own' };
    return { active: true };
  };
  return Object.freeze({
    websocketTransport: Object.freeze(status('websocketTransport')),
    fastBroadcast: Object.freeze(status('fastBroadcast')),
    connectionFootprint: Object.freeze(status('connectionFootprint')),
    directWrites: state?.directWrites ?? 0,
  });
}

/** The part of Socket.IO's private `attach` that a `bind` leaves out. */
interface AttachInternals {
  attachServe(srv: HttpServer): void;
}

/**
 * Attaches `engine` to `httpServer` the way Socket.IO's `attach` attaches Engine.IO's own: with Socket.IO's
 * options and path, serving the client bundle, and recording the HTTP server so that `io.close()` closes it.
 */
function bindEngine(io: Server, engine: CoalescingEngine, httpServer: HttpServer, options: Partial<ServerOptions>): void {
  engine.attach(httpServer, { ...options, path: io.path() });
  // Checked at start (engineProblems): present whenever the client bundle is served.
  if (io.serveClient()) (io as unknown as AttachInternals).attachServe(httpServer);
  io.httpServer = httpServer;
  io.bind(engine);
}

/** Checks the first Engine.IO connection's shape before the fast broadcast or the trimming touch it. */
function checkFirstConnection(conn: unknown, state: EngineState): void {
  state.disable(
    new Map<PatchName, string[]>([
      ['fastBroadcast', connectionProblems(conn)],
      ['connectionFootprint', footprintProblems(conn)],
    ]),
    'on the first connection',
  );
}

/**
 * Checks the adapter of every namespace `io` creates from now on (only `/` exists yet, checked at start:
 * this module built the server), and the first namespace socket, before the fast broadcast delivers to it.
 * The socket check listens on each namespace until the first socket connects to any of them, then stops
 * listening on those the server still has: no list of them is kept, so that a dynamic namespace removed
 * before any socket connected (lib/engine/child-namespaces.ts) is not held here.
 */
function checkNamespaces(io: Server, state: EngineState): void {
  let socketChecked = false;
  const onFirstSocket = (socket: unknown): void => {
    socketChecked = true;
    for (const nsp of io._nsps.values()) nsp.off('connection', onFirstSocket);
    state.disable(new Map([['fastBroadcast', socketProblems(socket)]]), 'on the first socket');
  };
  const waitForSocket = (nsp: Namespace): void => {
    if (socketChecked || !state.fastBroadcast) return;
    nsp.on('connection', onFirstSocket);
  };
  waitForSocket(io.of('/'));
  io.on('new_namespace', (nsp) => {
    if (!state.fastBroadcast) return;
    state.disable(new Map([['fastBroadcast', adapterProblems(nsp.adapter)]]), `on creating namespace ${nsp.name}`);
    waitForSocket(nsp);
  });
}

/**
 * Tells `listener` of every broadcast the fast broadcast delivers on `io`, once per broadcast with its local
 * recipient count (the metrics' events out) and when it was made, on whichever node made it: from now on,
 * `io`'s own broadcasts carry that time to the other nodes (lib/engine/broadcast-stamp.ts). Broadcasts on the
 * libraries' own path (the fast path off or turned off by a check, volatile broadcasts) are not reported:
 * counting them would take a step per recipient.
 */
export function onBroadcast(io: Server, listener: BroadcastListener): void {
  const state = stateOf(io);
  if (!state) return;
  state.broadcastListener = listener;
  stampBroadcasts(io);
}
