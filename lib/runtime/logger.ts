import { pino, type Logger } from 'pino';
import type pinoPretty from 'pino-pretty';
import { lazyPackage } from '../core/lazy-package.js';
import type { LogLevel } from '../config/options.js';

const pretty = lazyPackage<typeof pinoPretty>('pino-pretty');

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  readonly level: LogLevel;
  /** Human-readable lines (pino-pretty) instead of JSON; the CLI turns this on when stdout is a TTY. */
  readonly pretty: boolean;
}

/** Fields that may hold a secret (API keys, tokens, passwords): never written to a log, whoever logs them. */
const REDACTED = [
  'apiKey',
  '*.apiKey',
  'token',
  '*.token',
  'password',
  '*.password',
  'authorization',
  '*.authorization',
  'req.headers.authorization',
  'req.query.apiKey',
  'headers.authorization',
];

/**
 * The service's root logger. Pretty output runs in-process (not as a pino transport thread) so that
 * the last lines before an exit are never lost.
 */
export function createLogger(options: LoggerOptions): Logger {
  const base = { level: options.level, base: { service: 'realtime-rooms' }, redact: { paths: REDACTED, censor: '[redacted]' } };
  if (!options.pretty) return pino(base);
  // sync: lines are written in order and none is lost when the process exits right after logging.
  return pino(
    base,
    pretty()({ colorize: true, singleLine: true, sync: true, ignore: 'pid,hostname,service', translateTime: 'SYS:HH:MM:ss.l' }),
  );
}
