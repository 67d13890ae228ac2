/**
 * The listen backlog: how many connections whose TCP handshake the kernel has completed may wait for the
 * process to accept them. Node's default is 511; past it, Linux drops the client's SYN (or its final ACK),
 * and the client tries again only after its SYN retransmission timeout (1 s, then 3 s, 7 s, …). That is
 * what a reconnect storm meets: thousands of clients arriving within a second or two while the event loop
 * is busy with the handshakes of the first ones (the storm bench counted over 100,000 listen overflows at
 * 511). The kernel caps whatever `listen()` asks for at `net.core.somaxconn` (4096 on Linux 5.4 and
 * later), so asking for the most a backlog can be leaves the bound to the operator's sysctl, as Go does by
 * reading it. The queue holds handshakes only: every connection still passes the connection guard (per
 * address counts and rates) once accepted, so no limit is bypassed.
 */
export const LISTEN_BACKLOG = 65_535;

/**
 * Binds `host`, or when none is given all interfaces: dual-stack `::`, falling back to IPv4 `0.0.0.0` on
 * machines without IPv6 (as Node itself does; fastify alone would bind only localhost). `bind` listens on
 * one host and rejects with the system error; the single-process service and the `--workers` primary share this.
 */
export async function bindHostOrAll(host: string | undefined, bind: (host: string) => Promise<void>): Promise<void> {
  if (host !== undefined) return bind(host);
  try {
    await bind('::');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EAFNOSUPPORT' && code !== 'EADDRNOTAVAIL') throw err;
    await bind('0.0.0.0');
  }
}

/** The URLs to reach a service bound to `host` (undefined: all interfaces) and `port` by, for the start line. */
export function serviceUrls(https: boolean, host: string | undefined, port: number): string[] {
  const scheme = https ? 'https' : 'http';
  const hosts = host === undefined || host === '::' || host === '0.0.0.0' ? ['localhost'] : [host];
  return hosts.map((name) => `${scheme}://${name.includes(':') ? `[${name}]` : name}:${port}`);
}
