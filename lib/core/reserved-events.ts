/**
 * Event names clients and backends may not send through the service: the protocol's `ERROR`, the `_`/`__`
 * names the service keeps for itself (reliable delivery's `_settings`, `_batch`, `_resync`; the controller/view
 * `__count__`, `__connect__`, `__disconnect__`: forwarding namespaces answer `__count__` before this check),
 * the names Socket.IO reserves, which it would throw on, and the names socket.io-client 1.x/2.x handle
 * themselves: a server event called `error` or `reconnect` would fire a legacy client's own handlers (and
 * `error` imitates the refusal legacy clients get when their auth fails).
 */
const SOCKET_IO_RESERVED = new Set(['connect', 'connect_error', 'disconnect', 'disconnecting', 'newListener', 'removeListener']);

/** socket.io-client 1.7/2.x's `events` list (lib/socket.js): names it emits locally, never to the server. */
const LEGACY_CLIENT_RESERVED = new Set([
  'connect',
  'connect_error',
  'connect_timeout',
  'connecting',
  'disconnect',
  'error',
  'reconnect',
  'reconnect_attempt',
  'reconnect_failed',
  'reconnect_error',
  'reconnecting',
  'ping',
  'pong',
]);

/** Why `event` may not be relayed, or undefined when it may. */
export function reservedEventReason(event: string): string | undefined {
  if (event === 'ERROR' || event.startsWith('_')) return `event '${event}' is reserved by the service`;
  if (SOCKET_IO_RESERVED.has(event)) return `event '${event}' is reserved by Socket.IO`;
  if (LEGACY_CLIENT_RESERVED.has(event)) return `event '${event}' is reserved by socket.io-client 1.x/2.x, which handles it itself`;
  return undefined;
}
