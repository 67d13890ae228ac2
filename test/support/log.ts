import { pino, type Level, type Logger } from 'pino';
import { withDeadline } from './wait.js';

/** One parsed pino line. */
export type LogRecord = Record<string, unknown>;

/** A logger that keeps its lines, parsed, and can wait for one. */
export interface LogRecorder {
  readonly log: Logger;
  readonly lines: readonly LogRecord[];
  /** The same lines as pino wrote them (a key given twice shows only here). */
  readonly raw: readonly string[];
  /** Resolves with the first line (logged already, or later) that `matches`; rejects naming `what` after the deadline. */
  line(this: void, matches: (line: LogRecord) => boolean, what: string): Promise<LogRecord>;
}

/** A pino logger at `level` recording every line it writes. */
export function recordLog(level: Level = 'warn'): LogRecorder {
  const lines: LogRecord[] = [];
  const raw: string[] = [];
  const waiting = new Set<(line: LogRecord) => void>();
  const log = pino(
    { level },
    {
      write(text: string) {
        raw.push(text);
        const line = JSON.parse(text) as LogRecord;
        lines.push(line);
        for (const notify of waiting) notify(line);
      },
    },
  );
  const line = (matches: (line: LogRecord) => boolean, what: string): Promise<LogRecord> => {
    const seen = lines.find(matches);
    if (seen) return Promise.resolve(seen);
    let notify: ((line: LogRecord) => void) | undefined;
    const found = new Promise<LogRecord>((resolve) => {
      notify = (candidate) => matches(candidate) && resolve(candidate);
      waiting.add(notify);
    });
    return withDeadline(found, `the log line: ${what}`).finally(() => notify && waiting.delete(notify));
  };
  return { log, lines, raw, line };
}
