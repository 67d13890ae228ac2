import { availableParallelism } from 'node:os';
import { DEFAULT_MAX_ID_LENGTH } from '../protocol/index.js';
import type { AccessConfig } from './sites-config.js';

/** pino levels accepted by `--log-level`. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
/** One of {@link LOG_LEVELS}. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** How the service gets its TLS material when HTTPS is on. */
export type TlsSource =
  | { readonly kind: 'files'; readonly certFile: string; readonly keyFile: string }
  | { readonly kind: 'self-signed'; readonly cacheDir: string | undefined };

/** Everything `createApp` needs. Built by the CLI from flags and env, or directly by embedders and tests. */
export interface ServiceOptions {
  /** TCP port; 0 picks a free one (see `listen()`'s result). */
  readonly port: number;
  /** Interface to bind; undefined binds all interfaces (IPv6 and IPv4 where available). */
  readonly host: string | undefined;
  /** Serve HTTPS instead of HTTP. */
  readonly tls: TlsSource | undefined;
  readonly logLevel: LogLevel;
  /** Pretty, human-readable logs instead of JSON lines. */
  readonly prettyLogs: boolean;
  /** Largest Socket.IO message or HTTP body, in bytes. A socket that sends more is disconnected. */
  readonly maxPayload: number;
  /** Allowed browser origins for HTTP long-polling: `'*'` or a list. */
  readonly corsOrigin: '*' | readonly string[];
  /** How many rooms one socket may be in at once (its own id room not counted). */
  readonly maxRoomsPerSocket: number;
  /** Longest room id, lobby id or display name. */
  readonly maxIdLength: number;
  /** Sites (namespaces with their own auth and API key) and the auth of the built-in namespaces. */
  readonly access: AccessConfig;
  /** Redis to scale out across processes and machines; undefined keeps the in-memory adapter (one process). */
  readonly redis: RedisOptions | undefined;
}

/** How the service reaches Redis in cluster mode (`--redis`). */
export interface RedisOptions {
  /** `redis://[user:password@]host[:port][/db]` or `rediss://…` for TLS. */
  readonly url: string;
  /** Logical database (`SELECT n`); undefined keeps the URL's (or 0). */
  readonly database: number | undefined;
  /**
   * Prefix of every key and channel the service uses, so that several deployments (or tests) can share
   * one Redis. Nodes of one deployment must use the same prefix.
   */
  readonly prefix: string;
}

/** Default {@link RedisOptions.prefix}. */
export const DEFAULT_REDIS_PREFIX = 'realtime-rooms';

/** Defaults of every option; the CLI's `--help` shows the same values. */
export const DEFAULT_OPTIONS: ServiceOptions = {
  port: 3000,
  host: undefined,
  tls: undefined,
  logLevel: 'info',
  prettyLogs: false,
  maxPayload: 1_000_000,
  corsOrigin: '*',
  maxRoomsPerSocket: 1000,
  maxIdLength: DEFAULT_MAX_ID_LENGTH,
  access: { sites: [], builtins: {} },
  redis: undefined,
};

/** Thrown for an option value that cannot be used; the CLI prints its message and exits with code 2. */
export class OptionError extends Error {
  override name = 'OptionError';
}

/** Parses a TCP port: an integer from 0 (any free port) to 65535. */
export function parsePort(value: string): number {
  const port = parseInteger(value);
  if (port === undefined || port > 65535) throw new OptionError(`port must be an integer from 0 to 65535, got '${value}'`);
  return port;
}

/** Parses a positive integer such as a count or a length. */
export function parsePositiveInteger(value: string, what: string): number {
  const n = parseInteger(value);
  if (n === undefined || n < 1) throw new OptionError(`${what} must be a positive integer, got '${value}'`);
  return n;
}

const BYTE_UNITS: Record<string, number> = { '': 1, b: 1, kb: 1e3, kib: 1024, mb: 1e6, mib: 1024 ** 2 };

/** Parses a size in bytes: `1000000`, `512kb`, `1mb`, `1MiB`. */
export function parseByteSize(value: string): number {
  const match = /^(\d+)\s*([a-z]*)$/i.exec(value.trim());
  const unit = match ? BYTE_UNITS[(match[2] ?? '').toLowerCase()] : undefined;
  if (!match || unit === undefined) {
    throw new OptionError(`size must be a number of bytes, optionally with kb, mb, kib or mib, got '${value}'`);
  }
  const bytes = Number(match[1]) * unit;
  if (bytes < 1 || !Number.isSafeInteger(bytes)) throw new OptionError(`size must be at least 1 byte, got '${value}'`);
  return bytes;
}

/** Parses a pino log level name. */
export function parseLogLevel(value: string): LogLevel {
  const level = LOG_LEVELS.find((candidate) => candidate === value.toLowerCase());
  if (!level) throw new OptionError(`log level must be one of ${LOG_LEVELS.join(', ')}, got '${value}'`);
  return level;
}

/** Parses `--cors-origin`: `*`, or a comma-separated list of origins such as `https://app.example.com`. */
export function parseCorsOrigin(value: string): '*' | string[] {
  const origins = value.split(',').map((origin) => origin.trim()).filter(Boolean);
  if (origins.length === 0) throw new OptionError(`cors origin must be '*' or a comma-separated list of origins, got '${value}'`);
  if (origins.includes('*')) return '*';
  for (const origin of origins) {
    if (!/^https?:\/\/[^/\s]+$/.test(origin)) {
      throw new OptionError(`cors origin must look like https://host[:port] (no path), got '${origin}'`);
    }
  }
  return origins;
}

/** Parses `--redis`: a `redis://` or `rediss://` URL. */
export function parseRedisUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    throw new OptionError(`redis must be a URL such as redis://localhost:6379, got '${value}'`);
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new OptionError(`redis URL must start with redis:// or rediss://, got '${value}'`);
  }
  return url.href;
}

/** Parses `--database`: a Redis logical database number, 0 or more. */
export function parseRedisDatabase(value: string): number {
  const n = parseInteger(value);
  if (n === undefined) throw new OptionError(`database must be an integer of 0 or more, got '${value}'`);
  return n;
}

/** Parses `--workers`: an integer of 1 or more, or `auto` for the number of CPU cores. */
export function parseWorkers(value: string): number {
  if (value.trim().toLowerCase() === 'auto') return availableParallelism();
  const n = parseInteger(value);
  if (n === undefined || n < 1) throw new OptionError(`workers must be an integer of 1 or more, or 'auto', got '${value}'`);
  return n;
}

/** Parses a boolean environment variable: 1/true/yes/on or 0/false/no/off (any case). */
export function parseBoolean(value: string, what: string): boolean {
  const normalized = value.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(normalized)) return true;
  if (['0', 'false', 'no', 'off', ''].includes(normalized)) return false;
  throw new OptionError(`${what} must be true or false, got '${value}'`);
}

function parseInteger(value: string): number | undefined {
  if (!/^\d+$/.test(value.trim())) return undefined;
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : undefined;
}
