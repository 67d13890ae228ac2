import { availableParallelism } from 'node:os';
import { PRESENCE_BUILTINS, type PresenceBuiltin } from './access.js';
import { OptionError } from './errors.js';
import { isIP } from 'node:net';
import { LOG_LEVELS, type LogLevel, type TrustProxy } from './options.js';

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
  const origins = value
    .split(',')
    .map((origin) => origin.trim())
    .filter(Boolean);
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

/**
 * Parses `--presence`: a comma-separated list of the built-in namespaces with named rooms (`layout,bus`),
 * with or without their slash; empty turns it off. `/lobby` has JOINED and LEFT of its own, `/trigger` no names.
 */
export function parsePresence(value: string): PresenceBuiltin[] {
  const names = value
    .split(',')
    .map((name) => name.trim().replace(/^\//, ''))
    .filter(Boolean);
  const chosen: PresenceBuiltin[] = [];
  for (const name of names) {
    const builtin = PRESENCE_BUILTINS.find((candidate) => candidate === name);
    if (builtin === undefined) {
      const why = name === 'lobby' ? ': /lobby has JOINED and LEFT of its own' : name === 'trigger' ? ': /trigger has no member names' : '';
      throw new OptionError(`presence takes a list of ${PRESENCE_BUILTINS.join(', ')}; '${name}' is not one${why}`);
    }
    if (!chosen.includes(builtin)) chosen.push(builtin);
  }
  return chosen;
}

/** Parses a limit that 0 turns off: an integer of 0 or more. */
export function parseLimit(value: string, what: string): number {
  const n = parseInteger(value);
  if (n === undefined) throw new OptionError(`${what} must be an integer of 0 or more (0 turns it off), got '${value}'`);
  return n;
}

/** The longest device TTL, in seconds: a year (a device away longer is gone for good). */
export const MAX_DEVICE_TTL_S = 365 * 24 * 3600;

/** Parses a device TTL in seconds: an integer from 0 (never expire) to {@link MAX_DEVICE_TTL_S}. */
export function parseDeviceTtl(value: string): number {
  const n = parseInteger(value);
  if (n === undefined || n > MAX_DEVICE_TTL_S) {
    throw new OptionError(`device TTL must be a number of seconds from 0 (never expire) to ${MAX_DEVICE_TTL_S}, got '${value}'`);
  }
  return n;
}

/** The names proxy-addr gives ranges of addresses, accepted in `--trust-proxy` beside addresses and CIDRs. */
const ADDRESS_RANGE_NAMES = ['loopback', 'linklocal', 'uniquelocal'];

/**
 * Parses `--trust-proxy`: a hop count (`1`: believe the nearest proxy), or a comma-separated list of
 * addresses, CIDR ranges and the names `loopback`, `linklocal`, `uniquelocal`.
 */
export function parseTrustProxy(value: string): TrustProxy {
  const hops = parseInteger(value);
  if (hops !== undefined) {
    if (hops < 1) throw new OptionError(`trust proxy hop count must be 1 or more, got '${value}'`);
    return hops;
  }
  const entries = value
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  if (entries.length === 0) throw new OptionError(`trust proxy must be a hop count or a list of addresses, got '${value}'`);
  for (const entry of entries) {
    const [address = '', bits, ...rest] = entry.split('/');
    const family = isIP(address);
    const validBits = bits === undefined || (/^\d+$/.test(bits) && Number(bits) <= (family === 6 ? 128 : 32));
    if (!ADDRESS_RANGE_NAMES.includes(entry) && (family === 0 || !validBits || rest.length > 0)) {
      throw new OptionError(
        `trust proxy entries must be addresses, CIDR ranges (10.0.0.0/8) or ${ADDRESS_RANGE_NAMES.join(', ')}, got '${entry}'`,
      );
    }
  }
  return entries;
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
