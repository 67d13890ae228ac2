import type { Logger } from 'pino';
import type { Server, Socket } from 'socket.io';
import { reservedEventReason } from '../core/reserved-events.js';
import { authMiddleware } from '../auth/index.js';
import type { AuthLimits } from '../auth/types.js';
import type { ForwardingConfig } from '../config/access.js';

/** Characters with a meaning in a regular expression: a prefix is matched literally. */
const REGEXP_SPECIAL = /[.*+?^${}()|[\]\\]/g;

/**
 * Mounts the forwarding namespaces: every event a client sends is re-emitted to every socket of its own
 * namespace, sender included (an ack, if given, is answered `{ ok: true }` once the event is sent). A
 * prefix entry is one Socket.IO parent namespace whose children (`/do-a`, `/do-b`, …) each have their own
 * sockets, so nothing sent in one reaches another. Payloads are bounded by `--max-payload` like every
 * message; the reserved names (`ERROR`, `_…`, Socket.IO's own) are refused, never forwarded.
 */
export function mountForwarding(io: Server, entries: readonly ForwardingConfig[], limits: AuthLimits, log: Logger): string[] {
  return entries.map((entry) => {
    const name = entry.kind === 'namespace' ? entry.namespace : `/${entry.prefix}*`;
    const nsp = entry.kind === 'namespace' ? io.of(entry.namespace) : io.of(new RegExp(`^/${entry.prefix.replace(REGEXP_SPECIAL, '\\$&')}[\\w-]+$`));
    const nspLog = log.child({ nsp: name });
    const middleware = authMiddleware(entry.auth, limits, nspLog, false);
    if (middleware) nsp.use(middleware);
    nsp.on('connection', (socket) => socket.onAny((event: unknown, ...args: unknown[]) => forward(socket, event, args, nspLog)));
    return name;
  });
}

function forward(socket: Socket, event: unknown, args: unknown[], log: Logger): void {
  const last = args[args.length - 1];
  const ack = typeof last === 'function' ? (last as (response: unknown) => void) : undefined;
  if (ack) args.pop();
  const reason = typeof event === 'string' ? reservedEventReason(event) : 'the event name must be a string';
  if (reason !== undefined) {
    log.debug({ socketId: socket.id, event }, 'reserved event not forwarded');
    const error = { code: 'BAD_REQUEST', message: reason };
    if (ack) ack({ ok: false, error });
    else socket.emit('ERROR', { event: String(event), ...error });
    return;
  }
  // `socket.nsp` is the socket's own (child) namespace: this is what keeps /do-a and /do-b apart.
  socket.nsp.emit(event as string, ...args);
  ack?.({ ok: true });
}
