import { createClient } from 'redis';
import type { RedisOptions } from '../config/options.js';

/** Reconnect back-off: 100 ms, 200 ms, … capped at 2 s, so a restarted Redis is found within about 2 s. */
const reconnectDelay = (retries: number): number => Math.min(100 * (retries + 1), 2000);

/** A node-redis client as the adapter and the readiness watch need it (RESP2, reconnecting forever). */
export function newClient(options: RedisOptions) {
  return createClient({
    url: options.url,
    ...(options.database === undefined ? {} : { database: options.database }),
    // The adapter parses RESP2 replies (stream entries as arrays).
    RESP: 2,
    socket: { reconnectStrategy: reconnectDelay },
  });
}

/** A connected (or connecting) client of {@link newClient}. */
export type RedisClient = ReturnType<typeof newClient>;

/** The Redis URL without its password, for logs. */
export function redactedUrl(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.href;
}
