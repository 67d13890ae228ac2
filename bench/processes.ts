/**
 * What the 100,000-connection bench reads of the service's processes from /proc: resident memory, open file
 * descriptors, and which process holds the server side of which loopback TCP connection.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** Resident memory of `pid` in bytes (`VmRSS` of /proc/<pid>/status), 0 once it is gone. */
export function rssBytes(pid: number): number {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** The command line of `pid` (its arguments joined by spaces), empty once it is gone. */
export function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0').join(' ');
  } catch {
    return '';
  }
}

/** The socket inodes among the open file descriptors of `pid`, and how many descriptors it has open. */
export function openSockets(pid: number): { fds: number; inodes: Set<number> } {
  const inodes = new Set<number>();
  const entries = readdirSync(`/proc/${pid}/fd`);
  for (const fd of entries) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (match) inodes.add(Number(match[1]));
    } catch {
      // Closed between the listing and the read.
    }
  }
  return { fds: entries.length, inodes };
}

/** A client endpoint on the loopback: the last octet of 127.0.0.x and the port. */
export function endpointKey(octet: number, port: number): number {
  return octet * 65_536 + port;
}

/**
 * The socket inode of every established IPv4 connection accepted on `serverPort`, keyed by its remote
 * (client) endpoint ({@link endpointKey}), from /proc/net/tcp (addresses there are little-endian hex).
 */
export function acceptedConnections(serverPort: number): Map<number, number> {
  const byClient = new Map<number, number>();
  const lines = readFileSync('/proc/net/tcp', 'latin1').split('\n');
  for (const line of lines.slice(1)) {
    const fields = line.trim().split(/\s+/);
    const [local, remote, state, inode] = [fields[1], fields[2], fields[3], fields[9]];
    // 01: ESTABLISHED.
    if (!local || !remote || state !== '01' || !inode) continue;
    if (parseInt(local.slice(local.indexOf(':') + 1), 16) !== serverPort) continue;
    const [address = '', port = ''] = remote.split(':');
    // 127.0.0.x is written 0x..00007F: its last octet is the first byte.
    byClient.set(endpointKey(parseInt(address.slice(0, 2), 16), parseInt(port, 16)), Number(inode));
  }
  return byClient;
}
