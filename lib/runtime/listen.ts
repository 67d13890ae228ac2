// The listen backlog stays Node's 511, on purpose. The reconnect storm bench (bench/storm.ts) ran it against
// the kernel's maximum (4096 here): with the larger queue the process took on thousands of handshakes at
// once, finished each later than the clients' 20 s attempt timeout, and spent itself on connections whose
// clients had already given up (not one of 8,000 was back within 90 s, against all of them at 511). A short
// queue sheds the excess in the kernel (a dropped SYN, retried by TCP) before it costs the event loop.

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
