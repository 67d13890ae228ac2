/**
 * Event names clients and backends may not send through the service: the protocol's `ERROR`, the `_`/`__`
 * names the service keeps for itself (reliable delivery's `_batch`, `_resync`; the controller/view `__count__`), and
 * the names Socket.IO reserves, which it would throw on.
 */
const SOCKET_IO_RESERVED = new Set(['connect', 'connect_error', 'disconnect', 'disconnecting', 'newListener', 'removeListener']);

/** Why `event` may not be relayed, or undefined when it may. */
export function reservedEventReason(event: string): string | undefined {
  if (event === 'ERROR' || event.startsWith('_')) return `event '${event}' is reserved by the service`;
  if (SOCKET_IO_RESERVED.has(event)) return `event '${event}' is reserved by Socket.IO`;
  return undefined;
}
