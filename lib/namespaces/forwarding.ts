import type { Server, Socket } from 'socket.io';
import { authMiddleware } from '../auth/index.js';
import type { ForwardingConfig } from '../config/access.js';
import { withLog, type ServiceContext } from '../core/context.js';
import { RequestError } from '../core/errors.js';
import { anyRequestListener } from '../core/reply.js';
import { reservedEventReason } from '../core/reserved-events.js';
import { assertBroadcastable } from '../core/rooms.js';
import type { Cluster } from '../cluster/types.js';
import { removeUnusedChildren } from '../engine/child-namespaces.js';
import { andThen } from '../core/maybe.js';
import { COUNT_EVENT } from '../../protocol/index.js';
import { controllerView, socketTypeMiddleware } from './controller-view.js';

/** Characters with a meaning in a regular expression: a prefix is matched literally. */
const REGEXP_SPECIAL = /[.*+?^${}()|[\]\\]/g;

/**
 * Mounts the forwarding namespaces: every event a client sends is re-emitted to every socket of its own
 * namespace, sender included (an ack, if given, is answered `{ ok: true }` once the event is sent). A
 * prefix entry is one Socket.IO parent namespace whose children (`/do-a`, `/do-b`, …) each have their own
 * sockets, so nothing sent in one reaches another; a child exists only while a socket uses it (it is removed
 * when a CONNECT to it is refused or its last socket leaves), and its name is at most `--max-id-length`
 * characters (lib/engine/namespace-names.ts). Payloads are bounded by `--max-payload` like every
 * message; the reserved names (`ERROR`, `_…`, Socket.IO's own) are refused, never forwarded, except
 * `__count__`, which the controller/view model answers (lib/namespaces/controller-view.ts).
 */
export function mountForwarding(io: Server, entries: readonly ForwardingConfig[], context: ServiceContext): string[] {
  return entries.map((entry) => {
    const name = entry.kind === 'namespace' ? entry.namespace : `/${entry.prefix}*`;
    const nsp =
      entry.kind === 'namespace' ? io.of(entry.namespace) : io.of(new RegExp(`^/${entry.prefix.replace(REGEXP_SPECIAL, '\\$&')}[\\w-]+$`));
    const nspContext = withLog(context, context.log.child({ nsp: name }));
    // A child (`/do-a`) is created by the CONNECT naming it, before auth: it must not outlive its sockets.
    if (entry.kind === 'prefix') removeUnusedChildren(nsp, nspContext.log);
    // The type first: a misspelt one is refused before a password is checked.
    nsp.use(socketTypeMiddleware);
    const middleware = authMiddleware(entry.auth, nspContext, false);
    if (middleware) nsp.use(middleware);
    const views = controllerView(nsp, nspContext, entry.recovery === true);
    const onEvent = anyRequestListener(forwardTo(context.cluster), nspContext);
    // `__count__` is answered, never forwarded: its reply differs with and without an ack.
    const onCountAck = anyRequestListener((socket) => views.count(socket), nspContext);
    const onCountEvent = anyRequestListener(
      (socket) => andThen(views.count(socket), ({ count }) => void socket.emit(COUNT_EVENT, count)),
      nspContext,
    );
    function onAnyEvent(this: Socket, event: unknown, ...args: unknown[]): void {
      if (event !== COUNT_EVENT) return onEvent.call(this, event, ...args);
      (typeof args.at(-1) === 'function' ? onCountAck : onCountEvent).call(this, event, ...args);
    }
    nsp.on('connection', (socket) => {
      socket.onAny(onAnyEvent);
      context.hooks.connected(socket);
    });
    return name;
  });
}

/** Re-emits one event to the sender's own namespace, unless its name is reserved or `cluster` cannot take it. */
function forwardTo(cluster: Pick<Cluster, 'canBroadcast'>): (socket: Socket, args: unknown[], event: unknown) => void {
  return (socket, args, event) => forward(socket, args, event, cluster);
}

function forward(socket: Socket, args: unknown[], event: unknown, cluster: Pick<Cluster, 'canBroadcast'>): void {
  const reason = typeof event === 'string' ? reservedEventReason(event) : 'the event name must be a string';
  if (reason !== undefined) throw new RequestError('BAD_REQUEST', reason);
  assertBroadcastable(cluster);
  // `socket.nsp` is the socket's own (child) namespace: this is what keeps /do-a and /do-b apart.
  socket.nsp.emit(event as string, ...args);
}
