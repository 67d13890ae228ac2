import type { FastifyInstance, FastifyRequest } from 'fastify';
import { PushQuerySchema, pushRequestSchema, type PushRequest, type PushResult } from '../../protocol/index.js';
import { RequestError } from '../core/errors.js';
import { reservedEventReason } from '../core/reserved-events.js';
import { assertBroadcastable, roomKey } from '../core/rooms.js';
import type { Cluster } from '../cluster/types.js';
import type { ServiceLimits } from '../core/types.js';
import { verifySecret } from '../config/secrets.js';
import type { AuthFailureGuard } from '../limits/types.js';
import { bearerToken } from '../http/bearer.js';
import type { MountedSite } from './mount.js';
import { compileValidator } from '../core/validate.js';
import { DEVICE_SOCKETS_ROOM, newMessageId, type DeviceSocketData } from './devices.js';

/** What the push route needs from the rest of the service. */
export interface PushRoutesConfig {
  readonly sites: ReadonlyMap<string, MountedSite>;
  readonly limits: ServiceLimits;
  /** The failed-auth budget a wrong API key counts against. */
  readonly authFailures: AuthFailureGuard;
  /** Whether a push now reaches the other nodes (refused with `UNAVAILABLE` when not), and who it reaches. */
  readonly cluster: Pick<Cluster, 'canBroadcast' | 'directory'>;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The site a push request addresses, set once its API key is checked. */
    pushSite?: MountedSite;
  }
}

/**
 * Registers `POST /send?site=<site>`: a site's backend pushes `event` with `args` to every socket of the
 * site in any of `rooms`, and learns how many sockets that reached. The API key is checked before the
 * body is read, so an unauthenticated caller cannot make the service parse a large body, and behind the
 * failed-auth budget, so that guessing keys is refused (`RATE_LIMITED`, 429) before it costs a hash each.
 */
export async function registerPushRoutes(app: FastifyInstance, config: PushRoutesConfig): Promise<void> {
  const validateBody = compileValidator(pushRequestSchema(config.limits));
  const validateQuery = compileValidator(PushQuerySchema);

  await app.register((scope, _options, done) => {
    // The original accepted form-encoded bodies too (rooms=a&rooms=b or rooms[]=a, args likewise).
    scope.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, parsed) => {
      const text = String(body);
      // `curl -d '{"rooms":…}'` labels JSON as form-encoded; a form body never starts with '{'.
      if (!text.trimStart().startsWith('{')) return parsed(null, formToObject(text));
      try {
        parsed(null, JSON.parse(text));
      } catch {
        parsed(new RequestError('BAD_REQUEST', 'body is not valid JSON'), undefined);
      }
    });
    // Every refusal is a RequestError, answered by the error handler of lib/http/errors.ts with its code's status.
    scope.addHook('onRequest', async (request) => {
      const query = request.query as Record<string, unknown>;
      const name = query.site;
      if (typeof name !== 'string' || name === '') throw new RequestError('BAD_REQUEST', 'site is required: POST /send?site=<site>');
      const site = config.sites.get(name);
      if (!site) throw new RequestError('NOT_FOUND', `no site '${name}'`);
      const key = apiKeyOf(request);
      if (site.config.apiKey === undefined) {
        throw new RequestError('UNAUTHORIZED', `site '${name}' has no apiKey configured: pushing to it is disabled`);
      }
      // Before the key's hash: a caller guessing keys is refused without costing an scrypt each.
      const refusal = await config.authFailures.admit(request.raw);
      if (refusal) throw new RequestError(refusal.code, refusal.message);
      if (key === undefined || !(await verifySecret(site.config.apiKey, key))) {
        request.log.info({ site: name, address: request.ip }, 'push rejected: bad API key');
        throw new RequestError('UNAUTHORIZED', 'a valid API key is required: Authorization: Bearer <key>');
      }
      config.authFailures.refund(request.raw);
      request.pushSite = site;
    });
    scope.post('/send', async (request): Promise<PushResult> => {
      const site = request.pushSite;
      if (!site) throw new Error('push route reached without a checked site');
      const body = validateBody(request.body ?? {});
      const reserved = reservedEventReason(body.event);
      if (reserved) throw new RequestError('BAD_REQUEST', reserved);
      const resync = resyncOf(validateQuery(pickResync(request.query)).resync, body.resync);
      assertBroadcastable(config.cluster);
      const keys = body.rooms.map(roomKey);
      const args = body.args ?? [];
      // Counted through the directory, so that the sockets of every node that answers within
      // --cluster-timeout are counted, and a frozen node costs the push that timeout, not a failure.
      const { delivery } = site;
      if (!delivery) {
        const { members, complete } = await config.cluster.directory.memberIds(site.nsp, keys);
        site.nsp.in(keys).emit(body.event, ...args);
        const delivered = members.length;
        request.log.debug({ site: site.config.name, event: body.event, rooms: body.rooms.length, delivered, complete }, 'pushed');
        return complete ? { ok: true, delivered } : { ok: true, delivered, partial: true };
      }
      const { members, complete } = await config.cluster.directory.membersOfAny<DeviceSocketData>(site.nsp, keys);
      const users = targetUsers(body, site.config.userRoomPrefix, members);
      const id = newMessageId();
      let queued: { devices: number; users: string[] };
      try {
        queued = await delivery.queue.push(site.config.name, users, { id, event: body.event, args, resync });
      } catch (err) {
        request.log.warn({ err, site: site.config.name }, 'push refused: the device queue failed');
        throw new RequestError('UNAVAILABLE', 'the device queue is unreachable: nothing was sent; retry later');
      }
      delivery.wake(queued.users);
      // Device sockets get the message from their queue, with an ack; every other socket as before.
      site.nsp
        .in(keys)
        .except(DEVICE_SOCKETS_ROOM)
        .emit(body.event, ...args);
      const delivered = members.length;
      request.log.debug(
        { site: site.config.name, event: body.event, rooms: body.rooms.length, delivered, queued: queued.devices, complete },
        'pushed',
      );
      const result: PushResult = { ok: true, delivered, queued: queued.devices, ...(queued.devices > 0 ? { id } : {}) };
      return complete ? result : { ...result, partial: true };
    });
    done();
  });
}

/**
 * The users a push to `body.rooms` queues for: the user of each user room (`<userRoomPrefix><user>`), and
 * the user of every socket found in any of the rooms (a room such as `staff` reaches the devices of the
 * users whose sockets are in it now).
 */
function targetUsers(body: PushRequest, prefix: string | undefined, members: readonly { readonly data: DeviceSocketData }[]): string[] {
  const users = new Set<string>();
  if (prefix !== undefined) {
    for (const room of body.rooms) if (room.startsWith(prefix) && room.length > prefix.length) users.add(room.slice(prefix.length));
  }
  for (const member of members) {
    const { user } = member.data;
    if (typeof user === 'string') users.add(user);
  }
  return [...users];
}

/** The query's `resync` alone (the other query fields are checked elsewhere), for its schema. */
function pickResync(query: unknown): Record<string, unknown> {
  const value = typeof query === 'object' && query !== null && 'resync' in query ? query.resync : undefined;
  return value === undefined ? {} : { resync: value };
}

/** `resync` from the query (`true`/`false`/`1`/`0`) or the body (a boolean); both given must agree. */
function resyncOf(query: 'true' | 'false' | '1' | '0' | undefined, body: boolean | undefined): boolean {
  const fromQuery = query === undefined ? undefined : query === 'true' || query === '1';
  if (fromQuery !== undefined && body !== undefined && fromQuery !== body) {
    throw new RequestError('BAD_REQUEST', 'resync is given in the query and the body with different values');
  }
  return fromQuery ?? body ?? false;
}

/** `Authorization: Bearer <key>`, or the original's `?apiKey=`. */
function apiKeyOf(request: FastifyRequest): string | undefined {
  const bearer = bearerToken(request);
  if (bearer !== undefined) return bearer;
  const query = (request.query as Record<string, unknown>).apiKey;
  return typeof query === 'string' && query !== '' ? query : undefined;
}

/** Form fields to a body: repeated fields (or `name[]`) are arrays; `rooms` and `args` always are. */
function formToObject(text: string): Record<string, unknown> {
  const params = new URLSearchParams(text);
  const body: Record<string, unknown> = {};
  for (const raw of new Set(params.keys())) {
    const key = raw.endsWith('[]') ? raw.slice(0, -2) : raw;
    const values = params.getAll(raw);
    const list = key === 'rooms' || key === 'args' || raw.endsWith('[]');
    body[key] = list ? [...((body[key] as unknown[] | undefined) ?? []), ...values] : values.length === 1 ? values[0] : values;
    // A form has only strings: its `resync` is the query's words, made the boolean the schema asks for.
    if (key === 'resync' && (body[key] === 'true' || body[key] === 'false')) body[key] = body[key] === 'true';
  }
  return body;
}
