import type * as Redis from 'redis';
import { lazyPackage } from '../core/lazy-package.js';
import type { RedisOptions } from '../config/options.js';

const redis = lazyPackage<typeof Redis>('redis');

/** Reconnect back-off: 100 ms, 200 ms, … capped at 2 s, so a restarted Redis is found within about 2 s. */
const reconnectDelay = (retries: number): number => Math.min(100 * (retries + 1), 2000);

/** A node-redis client as the adapter and the readiness watch need it (RESP2, reconnecting forever). */
export function newClient(options: RedisOptions) {
  return redis().createClient({
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

/** The logical database a client of {@link newClient} selects: the option's, else the URL's path (`/2`), else 0. */
export function databaseOf(options: RedisOptions): number {
  if (options.database !== undefined) return options.database;
  const path = new URL(options.url).pathname.slice(1);
  return /^\d+$/.test(path) ? Number(path) : 0;
}

/**
 * The prefix of the adapter's pub/sub channels. Redis pub/sub ignores the database, while keys and the
 * broadcast stream live in one: nodes on different databases with one key prefix would share requests
 * (a CLIENTS listing the other database's members) but not broadcasts. So a database is a deployment of
 * its own, and its number is part of its channels' names; database 0 keeps the bare prefix (the names
 * of earlier versions, so that a rolling upgrade stays one cluster).
 */
export function channelPrefixOf(options: RedisOptions): string {
  const database = databaseOf(options);
  return database === 0 ? options.prefix : `${options.prefix}@db${database}`;
}
