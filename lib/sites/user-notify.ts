import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { Namespace } from 'socket.io';
import { identityOf, type Identity } from '../auth/identity.js';
import type { SiteConfig } from '../config/access.js';

/**
 * Counts each user's sockets, to tell a user's first connection and last disconnection from the others.
 * The in-memory default counts this process's sockets; a cluster needs a shared implementation.
 */
export interface PresenceCounter {
  /** Counts one more socket of `user`; true when it is the only one. */
  add(user: string): boolean;
  /** Counts one socket of `user` less; true when none is left. */
  remove(user: string): boolean;
}

/** {@link PresenceCounter} for a single process. */
export class MemoryPresence implements PresenceCounter {
  private readonly counts = new Map<string, number>();

  add(user: string): boolean {
    const count = (this.counts.get(user) ?? 0) + 1;
    this.counts.set(user, count);
    return count === 1;
  }

  remove(user: string): boolean {
    const count = (this.counts.get(user) ?? 1) - 1;
    if (count > 0) this.counts.set(user, count);
    else this.counts.delete(user);
    return count <= 0;
  }
}

/** Wait before the second attempt; doubled for each further one. */
const BACKOFF_MS = 200;

/**
 * Seed 002's `updateUserUrl`: on a user's first connect and last disconnect on the site, PUTs
 * `{ id, user: { last_connected | last_disconnected: <ISO time> } }` to the URL (`:id` replaced), with the
 * `Authorization` the socket authenticated with. Sent in the background: the socket never waits for it.
 * Each attempt has a deadline; network errors, timeouts, 5xx and 429 are retried up to the configured
 * number of attempts with exponential back-off, other statuses are not. Users are identified by the
 * jwt user claim, or by the granted room that starts with `userRoomPrefix` (`user_8` → `8`).
 */
export function notifyUserPresence(nsp: Namespace, site: SiteConfig, log: Logger, presence: PresenceCounter = new MemoryPresence()): void {
  const { updateUserUrl } = site;
  if (updateUserUrl === undefined) return;
  const notifyLog = log.child({ site: site.name, component: 'update-user' });
  nsp.on('connection', (socket) => {
    const identity = identityOf(socket);
    const user = identity && userOf(identity, site.userRoomPrefix);
    if (!identity || user === undefined) return;
    const send = (field: 'last_connected' | 'last_disconnected'): void => {
      const url = updateUserUrl.replaceAll(':id', encodeURIComponent(user));
      const body = JSON.stringify({ id: user, user: { [field]: new Date().toISOString() } });
      void putWithRetries(url, body, identity.authorization, site, notifyLog.child({ user, field }));
    };
    if (presence.add(user)) send('last_connected');
    socket.once('disconnect', () => {
      if (presence.remove(user)) send('last_disconnected');
    });
  });
}

function userOf(identity: Identity, prefix: string | undefined): string | undefined {
  if (identity.user !== undefined && identity.user !== '') return identity.user;
  if (prefix === undefined) return undefined;
  const room = identity.rooms.find((candidate) => candidate.startsWith(prefix) && candidate.length > prefix.length);
  return room?.slice(prefix.length);
}

async function putWithRetries(url: string, body: string, authorization: string, site: SiteConfig, log: Logger): Promise<void> {
  for (let attempt = 1; ; attempt += 1) {
    let failure: string;
    try {
      const response = await fetch(url, {
        method: 'PUT',
        headers: { 'content-type': 'application/json', authorization },
        body,
        signal: AbortSignal.timeout(site.updateUserTimeoutMs),
      });
      await response.arrayBuffer();
      if (response.ok) {
        log.debug({ attempt }, 'user update sent');
        return;
      }
      failure = `HTTP ${response.status}`;
      if (response.status < 500 && response.status !== 429) {
        log.warn({ status: response.status }, 'user update refused by the backend; not retried');
        return;
      }
    } catch (err) {
      failure = err instanceof Error && err.name === 'TimeoutError' ? `no answer within ${site.updateUserTimeoutMs} ms` : 'cannot reach the backend';
    }
    if (attempt >= site.updateUserAttempts) {
      log.warn({ attempts: attempt, failure }, 'user update failed; giving up');
      return;
    }
    log.debug({ attempt, failure }, 'user update failed; retrying');
    await delay(BACKOFF_MS * 2 ** (attempt - 1), undefined, { ref: false });
  }
}
