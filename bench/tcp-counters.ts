/**
 * The kernel's TCP counters that show a listen queue overflowing, read from /proc/net/netstat and
 * /proc/net/snmp (what `nstat -az TcpExtListenOverflows TcpExtListenDrops TcpRetransSegs` prints). They count
 * for the whole network namespace: whatever else runs on the machine adds to them, so they are a hint,
 * not a measurement of one system alone.
 */
import { readFileSync } from 'node:fs';

/** The counters, as absolute values or as the difference of two readings. */
export interface TcpCounters {
  /** Completed handshakes dropped because the accept queue (the listen backlog) was full. */
  listenOverflows: number;
  /** SYNs and handshakes dropped at a listening socket for any reason (overflows included). */
  listenDrops: number;
  /** TCP segments retransmitted (a dropped SYN is retransmitted by the client after 1 s, then 3 s, …). */
  retransSegs: number;
}

/** `name → value` of one `<Prefix>:` pair of lines (a header line of names, a line of values). */
function section(file: string, prefix: string): Map<string, number> {
  const lines = readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.startsWith(`${prefix}:`));
  const [names, values] = lines.map((line) => line.split(/\s+/).slice(1));
  const result = new Map<string, number>();
  names?.forEach((name, i) => result.set(name, Number(values?.[i])));
  return result;
}

/** The counters now, or undefined where /proc/net cannot be read (not Linux). */
export function readTcpCounters(): TcpCounters | undefined {
  try {
    const ext = section('/proc/net/netstat', 'TcpExt');
    const tcp = section('/proc/net/snmp', 'Tcp');
    return {
      listenOverflows: ext.get('ListenOverflows') ?? Number.NaN,
      listenDrops: ext.get('ListenDrops') ?? Number.NaN,
      retransSegs: tcp.get('RetransSegs') ?? Number.NaN,
    };
  } catch {
    return undefined;
  }
}

/** `after − before`, or undefined when either is. */
export function tcpDelta(before: TcpCounters | undefined, after: TcpCounters | undefined): TcpCounters | undefined {
  if (!before || !after) return undefined;
  return {
    listenOverflows: after.listenOverflows - before.listenOverflows,
    listenDrops: after.listenDrops - before.listenDrops,
    retransSegs: after.retransSegs - before.retransSegs,
  };
}
