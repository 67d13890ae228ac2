import { ServerResponse, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { Server, Socket } from 'socket.io';
import type { ServiceOptions } from '../config/options.js';
import type { HookDispatcher } from '../core/hooks.js';
import type { LimitName } from '../core/types.js';
import { clientAddress, trustFunction } from './address.js';
import { AddressRates } from './address-rates.js';
import { warnUntrustedProxy } from './untrusted-proxy.js';

/** The options {@link limitConnections} reads. */
export type ConnectionLimitOptions = Pick<ServiceOptions, 'maxConnectionsPerAddress' | 'connectRate' | 'trustProxy'>;

/** An Engine.IO connection (a session), as the engine's `connection` event gives it. */
type Connection = Socket['conn'];

/** An HTTP request after Engine.IO parsed its query string (it does so before running its middlewares). */
interface EngineRequest extends IncomingMessage {
  readonly _query?: Readonly<Record<string, string | undefined>>;
}

/** Engine.IO's middleware signature; for a WebSocket upgrade `res` is a stand-in, not a `ServerResponse`. */
type EngineMiddleware = (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void;

/** How many connections each address holds; an address with none has no entry. */
class OpenConnections {
  readonly #counts = new Map<string, number>();

  count(address: string): number {
    return this.#counts.get(address) ?? 0;
  }

  add(address: string): void {
    this.#counts.set(address, this.count(address) + 1);
  }

  remove(address: string): void {
    const count = this.count(address) - 1;
    if (count > 0) this.#counts.set(address, count);
    else this.#counts.delete(address);
  }
}

/**
 * Caps what one client address may open on this node, checked in an Engine.IO middleware before a session
 * is created (before any Socket.IO handshake or auth runs):
 *
 * - `maxConnectionsPerAddress`: Engine.IO connections the address holds at once. A handshake takes a
 *   slot when it is admitted and gives it back when the handshake fails or, once it became a connection,
 *   when that connection closes. A client multiplexing namespaces over one connection holds one slot.
 * - `connectRate`: handshakes the address may start per second, a token bucket of `connectRate` tokens
 *   refilled at `connectRate` per second.
 *
 * A refused handshake is answered HTTP 429 with `{ ok: false, error: { code: 'RATE_LIMITED', message } }`, on
 * long-polling and on WebSocket upgrades alike (the upgrade's answer is written to its socket before the
 * WebSocket handshake, so it is a plain HTTP response), with `Retry-After` for the connect rate; each
 * refusal is a `limited` hit. Per node (per process with `--workers`): the counts live in this process.
 * Addresses come from `clientAddress`, honouring `--trust-proxy`; without it an `X-Forwarded-For`
 * header is not believed (and logged once, see `warnUntrustedProxy`). Both limits at 0 install nothing.
 */
export function limitConnections(io: Server, hooks: HookDispatcher, options: ConnectionLimitOptions, log: Logger): void {
  const { maxConnectionsPerAddress: max, connectRate } = options;
  if (max <= 0 && connectRate <= 0) return;
  const trust = trustFunction(options.trustProxy);
  const trustConfigured = options.trustProxy !== undefined;
  const open = new OpenConnections();
  const rates = connectRate > 0 ? new AddressRates(connectRate) : undefined;
  /** Admitted handshakes that are not a connection yet, with the address their slot is counted under. */
  const pending = new WeakMap<IncomingMessage, string>();

  const admitHandshakes: EngineMiddleware = (req, res, next) => {
    // Requests of an existing session (polls, its upgrade) carry its id and were counted at its handshake.
    if ((req as EngineRequest)._query?.sid !== undefined) {
      next();
      return;
    }
    warnUntrustedProxy(req, trustConfigured, log);
    const address = clientAddress(req, trust);
    if (max > 0 && open.count(address) >= max) {
      refuse(req, res, 'connections-per-address', address, `too many connections from ${address}: at most ${max} at once`);
      return;
    }
    const wait = rates?.admit(address, performance.now());
    if (wait !== undefined) {
      const message = `too many new connections from ${address}: at most ${connectRate} per second`;
      refuse(req, res, 'connect-rate', address, message, Math.max(1, Math.ceil(wait / 1000)));
      return;
    }
    open.add(address);
    pending.set(req, address);
    // The response closes when the handshake failed (Engine.IO answered an error, or the WebSocket
    // handshake was aborted), or for long-polling after a connection was made of it: only the first frees the slot.
    res.once('close', () => {
      if (pending.delete(req)) open.remove(address);
    });
    next();
  };

  const refuse = (
    req: IncomingMessage,
    res: ServerResponse,
    limit: LimitName,
    address: string,
    message: string,
    retryAfter?: number,
  ): void => {
    hooks.limited({ limit, action: 'refused', address });
    // The service's HTTP error envelope, as every route answers: `{ ok: false, error: { code, message } }`.
    const body = JSON.stringify({ ok: false, error: { code: 'RATE_LIMITED', message } });
    const headers: Record<string, string | number> = { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) };
    if (retryAfter !== undefined) headers['Retry-After'] = retryAfter;
    if (res instanceof ServerResponse) {
      res.writeHead(429, headers);
      res.end(body);
    } else {
      refuseUpgrade(req.socket, headers, body);
    }
  };

  /** The address each open connection's slot is counted under. */
  const counted = new WeakMap<Connection, string>();
  // One listener for every connection (Engine.IO calls it with the connection as `this`, and only once):
  // no closure or `once` wrapper per connection, which an idle connection would keep for its whole life.
  function onConnectionClose(this: Connection): void {
    const address = counted.get(this);
    if (address !== undefined) open.remove(address);
  }

  io.engine.use(admitHandshakes);
  // Prepended: the handshake request must still be the one the middleware saw (lib/engine/ trims it later).
  io.engine.prependListener('connection', (conn: Connection) => {
    const address = pending.get(conn.request);
    if (address === undefined || !pending.delete(conn.request)) return;
    counted.set(conn, address);
    conn.on('close', onConnectionClose);
  });
}

/**
 * Answers a WebSocket upgrade with a plain HTTP response: Engine.IO's stand-in response for upgrades writes
 * nothing, and its own refusals are always a 400, so the status line is written here, before `ws` has
 * answered anything, and the socket is closed once it is sent.
 */
function refuseUpgrade(socket: Duplex, headers: Record<string, string | number>, body: string): void {
  // The peer may reset the connection before it reads the answer; nothing is left to do then.
  socket.on('error', () => undefined);
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`);
  socket.end(`HTTP/1.1 429 Too Many Requests\r\nConnection: close\r\n${lines.join('')}\r\n${body}`);
  // `end` only half-closes: a client that never closes its side must not keep the socket open.
  socket.once('finish', () => socket.destroy());
}
