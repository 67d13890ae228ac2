import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Server } from 'socket.io';
import { PacketType } from 'socket.io-parser';
import type { ErrorBody } from '../../protocol/index.js';
import { shownName } from '../core/event-name.js';
import type { LimitHit } from '../core/types.js';
import { namespaceNameProblems } from './checks.js';
import { connectionAddress } from './connection-guard.js';

/**
 * The bound on the namespace a CONNECT names. For a name the server does not serve, Socket.IO asks the
 * parent namespaces (`io.of(regexp)`) and creates the child at once, whatever its length up to the payload
 * limit: a megabyte-long `/do-…` became a namespace (and, with `--redis`, two Redis channels) before any
 * middleware could refuse it. Here a CONNECT to a name the server does not serve, longer than the bound, is
 * answered `CONNECT_ERROR` with `LIMIT` before Socket.IO looks at it, and reported (`namespace-name`).
 *
 * The seam is Socket.IO's `Client.prototype.connect`, the one place a CONNECT packet reaches, which
 * socket.io does not export: it is loaded from socket.io's own dist/ folder (the module socket.io's server
 * itself requires, so the same class), and replaced once per process; it engages only for the servers
 * {@link installNamespaceNameBound} was called for, every other server goes straight to Socket.IO's own.
 */

/** The bound of one server, where {@link installNamespaceNameBound} put it. */
const BOUND = Symbol('realtime-rooms.namespace-name-bound');

/** What one server's bound needs: the length, and where its hits go. */
interface NameBound {
  readonly maxLength: number;
  readonly limited: (hit: LimitHit) => void;
}

/** The members of Socket.IO's `Client` the bound reads (checked at start: `namespaceNameProblems`). */
interface ClientInternals {
  readonly server: Server & { [BOUND]?: NameBound };
  readonly conn: { readonly id: string; readonly protocol: number };
  _packet(packet: { type: PacketType; nsp: string; data: unknown }): void;
}

type Connect = (this: ClientInternals, name: string, auth?: unknown) => void;

/** Socket.IO's `Client` class (undefined if it cannot be found where socket.io keeps it). */
const Client = loadClient();
/** Socket.IO's own `connect`, which every name within the bound goes to. */
const socketIoConnect = (Client?.prototype as { connect?: Connect } | undefined)?.connect;

function loadClient(): { prototype: unknown } | undefined {
  try {
    const require = createRequire(import.meta.url);
    const exported = require(join(dirname(require.resolve('socket.io')), 'client.js')) as { Client?: { prototype: unknown } };
    return exported.Client;
  } catch {
    return undefined;
  }
}

const boundedConnect: Connect = function connect(name, auth) {
  const bound = this.server[BOUND];
  if (bound === undefined || name.length <= bound.maxLength || this.server._nsps.has(name)) {
    (socketIoConnect as Connect).call(this, name, auth);
    return;
  }
  // Repeated only up to the bound, as event names are: a megabyte never goes back in a message or a log line.
  const shown = shownName(name, bound.maxLength);
  const refusal: ErrorBody = {
    code: 'LIMIT',
    message: `namespace name too long: ${name.length} characters, at most ${bound.maxLength} (${shown})`,
  };
  // Addressed to the name as sent, which is how the client finds the socket waiting for it; its size is
  // bounded by what the client sent (--max-payload) and by the connection's outbound bound.
  this._packet({
    type: PacketType.CONNECT_ERROR,
    nsp: name,
    // What a refusing middleware sends (lib/auth/handshake.ts): Engine.IO 3 clients get the data alone.
    data: this.conn.protocol === 3 ? refusal : { message: refusal.message, data: refusal },
  });
  bound.limited({
    limit: 'namespace-name',
    action: 'refused',
    address: connectionAddress(this.conn),
    namespace: shown,
    socketId: this.conn.id,
  });
};

/**
 * Bounds the names of the namespaces a CONNECT may create on `io` to `maxLength` characters (see above).
 * Throws if Socket.IO lacks what the bound relies on: the server never runs without it.
 */
export function installNamespaceNameBound(io: Server, maxLength: number, limited: (hit: LimitHit) => void): void {
  const problems = namespaceNameProblems(Client, socketIoConnect);
  if (problems.length > 0)
    throw new Error(
      `the installed socket.io lacks what the namespace name bound relies on: ${problems.join(', ')} (see lib/engine/README.md)`,
    );
  Object.defineProperty(io, BOUND, { value: { maxLength, limited } satisfies NameBound });
  const proto = (Client as { prototype: { connect: Connect } }).prototype;
  if (proto.connect !== boundedConnect) proto.connect = boundedConnect;
}
