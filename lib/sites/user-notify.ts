import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { Socket } from 'socket.io';
import { identityOf, userIdOf, type Identity } from '../auth/identity.js';
import type { SiteConfig } from '../config/access.js';
import type { ServiceContext } from '../core/context.js';
import { andThen } from '../core/maybe.js';

/** Wait before the second attempt; doubled for each further one. */
const BACKOFF_MS = 200;

/**
 * The site backend's `updateUserUrl`: on a user's first connect and last disconnect on the site, PUTs
 * `{ id, user: { last_connected | last_disconnected: <ISO time> } }` to the URL (`:id` replaced), with the
 * `Authorization` the socket authenticated with. Sent in the background: the socket never waits for it.
 * Each attempt has a deadline; network errors, timeouts, 5xx and 429 are retried up to the configured
 * number of attempts with exponential back-off, other statuses (redirects included: they are not followed)
 * are not; the answer's body is never read. Users are identified by the
 * jwt user claim, or by the granted room that starts with `userRoomPrefix` (`user_8` → `8`), and counted
 * by the cluster's presence per site (the same user on two sites is online on each): cluster-wide with
 * Redis, so that a user with a socket on each of two nodes is disconnected only when both are gone, and a
 * user whose last node died is disconnected by a surviving node (with the credentials of the user's latest
 * socket, which the counter keeps). Subscribes to the
 * connection and disconnect hooks of the site's namespace.
 */
export function notifyUserPresence(site: SiteConfig, context: ServiceContext): void {
  const { updateUserUrl } = site;
  if (updateUserUrl === undefined) return;
  const { presence } = context.cluster;
  const notifyLog = context.log.child({ component: 'update-user' });
  const send = (authorization: string, user: string, field: 'last_connected' | 'last_disconnected'): void => {
    const url = updateUserUrl.replaceAll(':id', encodeURIComponent(user));
    const body = JSON.stringify({ id: user, user: { [field]: new Date().toISOString() } });
    void putWithRetries(url, body, authorization, site, notifyLog.child({ user, field }));
  };
  /** Counts the socket's user in or out; `changed` is true for its first connection or its last disconnection. */
  const track = (
    socket: Socket,
    count: (user: string, identity: Identity) => boolean | Promise<boolean>,
    field: 'last_connected' | 'last_disconnected',
  ): void => {
    const identity = identityOf(socket);
    const user = identity && userIdOf(identity, site.userRoomPrefix);
    if (!identity || user === undefined) return;
    void andThen(count(user, identity), (changed) => changed && send(identity.authorization, user, field));
  };
  const scope = { namespace: site.namespace };
  // Presence is one counter for the whole service: the site's name keeps its users apart from another site's.
  const prefix = `${site.name}\u0000`;
  const key = (user: string): string => prefix + user;
  context.hooks.on(
    'connection',
    (socket) => track(socket, (user, identity) => presence.add(key(user), identity.authorization), 'last_connected'),
    scope,
  );
  context.hooks.on('disconnect', (socket) => track(socket, (user) => presence.remove(key(user)), 'last_disconnected'), scope);
  // A user whose last sockets were on a node that died, or what a Redis outage hid: as the socket last counted would.
  presence.onChange((counted, online, authorization) => {
    if (counted.startsWith(prefix)) send(authorization, counted.slice(prefix.length), online ? 'last_connected' : 'last_disconnected');
  });
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
        // Not followed: a redirect would carry the user's credentials to wherever the backend points, and a
        // 3xx is a refusal like any other 4xx here (the URL is configured; it must be the right one).
        redirect: 'manual',
      });
      // Only the status matters: the body is not read, so that a huge or endless one costs nothing.
      await response.body?.cancel();
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
      failure =
        err instanceof Error && err.name === 'TimeoutError'
          ? `no answer within ${site.updateUserTimeoutMs} ms`
          : 'cannot reach the backend';
    }
    if (attempt >= site.updateUserAttempts) {
      log.warn({ attempts: attempt, failure }, 'user update failed; giving up');
      return;
    }
    log.debug({ attempt, failure }, 'user update failed; retrying');
    await delay(BACKOFF_MS * 2 ** (attempt - 1), undefined, { ref: false });
  }
}
