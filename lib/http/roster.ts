import type { FastifyInstance, FastifyRequest } from 'fastify';
import {
  MAX_LISTED_ROOMS,
  RoomCountParamsSchema,
  rosterParamsSchema,
  type RoomCount,
  type RoomCountResult,
  type RosterClient,
  type RosterResult,
} from '../../protocol/index.js';
import type { JoinStamps, RoomDirectory, RoomSource } from '../cluster/types.js';
import { verifySecret, type Secret } from '../config/secrets.js';
import { RequestError } from '../core/errors.js';
import { clientRoomOf, roomKey, ROOM_PREFIX } from '../core/rooms.js';
import type { ServiceLimits } from '../core/types.js';
import { compileValidator } from '../core/validate.js';
import type { AuthFailureGuard } from '../limits/types.js';
import { bearerToken } from './bearer.js';

/**
 * What a roster reads of a socket's data, on any node: the `/layout`-style display name and the user its
 * auth found (lib/auth/user-data.ts). Unknown until checked: another node's data comes off the wire.
 */
export interface RosterSocketData extends JoinStamps {
  readonly name?: unknown;
  readonly user?: unknown;
}

/** Who may read a namespace's rosters: a site's backend (its API key) or the operator (`API_TOKEN`). */
export type RosterGuard = { readonly kind: 'site'; readonly apiKey: Secret | undefined } | { readonly kind: 'operator' };

/** A namespace the roster API serves. */
export interface RosterNamespace {
  readonly nsp: RoomSource<RosterSocketData>;
  readonly guard: RosterGuard;
}

/** What the roster routes need from the rest of the service. */
export interface RosterRoutesConfig {
  /** The namespaces served, by name without the slash (`layout`, `shop`). */
  readonly namespaces: ReadonlyMap<string, RosterNamespace>;
  /** `API_TOKEN`: the key of the built-in namespaces; undefined turns their rosters off. */
  readonly operatorToken: Secret | undefined;
  readonly limits: ServiceLimits;
  /** The failed-auth budget a wrong key counts against (the one of `POST /send` and the handshakes). */
  readonly authFailures: AuthFailureGuard;
  readonly directory: RoomDirectory;
  /** `--cluster-timeout`, for the message of an incomplete answer. */
  readonly clusterTimeoutMs: number;
}

/** The refusal of a request whose key is missing or wrong. */
const BAD_KEY = 'a valid key is required: Authorization: Bearer <key>';

/**
 * Registers the roster API: `GET /api/namespaces/:ns/rooms/:room/clients` (who is in a room, on every node,
 * with their names and users) and `GET /api/namespaces/:ns/rooms` (the rooms of a namespace and their
 * sizes). Each answer is one cluster lookup (one request to every node, bounded by `--cluster-timeout`);
 * an answer some node missed is `UNAVAILABLE` (503), never a roster that silently lacks that node's sockets.
 * Rejections are RequestErrors, answered by the error handler of lib/http/errors.ts.
 */
export function registerRosterRoutes(app: FastifyInstance, config: RosterRoutesConfig): void {
  const validateRoster = compileValidator(rosterParamsSchema(config.limits));
  const validateCounts = compileValidator(RoomCountParamsSchema);
  const incomplete = (what: string): RequestError =>
    new RequestError(
      'UNAVAILABLE',
      `some node did not answer within --cluster-timeout (${config.clusterTimeoutMs} ms): the ${what} would be incomplete; retry later`,
    );

  /** The namespace `ns` names, once the request's key opens it (through the failed-auth budget). */
  const authorize = async (request: FastifyRequest, ns: string): Promise<RosterNamespace> => {
    const target = config.namespaces.get(ns);
    if (!target) throw new RequestError('NOT_FOUND', `no namespace '${ns}'`);
    const secret = target.guard.kind === 'site' ? target.guard.apiKey : config.operatorToken;
    if (secret === undefined) {
      throw new RequestError(
        'UNAUTHORIZED',
        target.guard.kind === 'site'
          ? `site '${ns}' has no apiKey configured: its roster API is disabled`
          : 'the roster API of the built-in namespaces is disabled: set API_TOKEN (--api-token)',
      );
    }
    // Before the key's hash, as on POST /send: guessing keys is refused without costing an scrypt each.
    const refusal = await config.authFailures.admit(request.raw);
    if (refusal) throw new RequestError(refusal.code, refusal.message);
    const key = bearerToken(request);
    if (key === undefined || !(await verifySecret(secret, key))) {
      request.log.info({ namespace: ns, address: request.ip }, 'roster rejected: bad key');
      throw new RequestError('UNAUTHORIZED', BAD_KEY);
    }
    config.authFailures.refund(request.raw);
    return target;
  };

  app.get('/api/namespaces/:ns/rooms/:room/clients', async (request): Promise<RosterResult> => {
    const { ns, room } = validateRoster(request.params);
    const { nsp } = await authorize(request, ns);
    const { members, complete } = await config.directory.members(nsp, roomKey(room));
    if (!complete) throw incomplete('roster');
    const clients: RosterClient[] = members.map(({ id, data }) => ({
      id,
      name: typeof data.name === 'string' ? data.name : null,
      userId: typeof data.user === 'string' ? data.user : null,
    }));
    return { ok: true, namespace: ns, room, clients };
  });

  app.get('/api/namespaces/:ns/rooms', async (request): Promise<RoomCountResult> => {
    const { ns } = validateCounts(request.params);
    const { nsp } = await authorize(request, ns);
    const { members, complete } = await config.directory.roomSizes(nsp, ROOM_PREFIX);
    if (!complete) throw incomplete('room count');
    const rooms: RoomCount[] = [];
    for (const { key, size } of members) {
      const room = clientRoomOf(key);
      if (room !== undefined && size > 0) rooms.push({ room, clients: size });
    }
    // Largest first, so that a truncated list keeps the rooms that matter most; ties in a stable order.
    rooms.sort((a, b) => b.clients - a.clients || (a.room < b.room ? -1 : a.room > b.room ? 1 : 0));
    const listed = rooms.slice(0, MAX_LISTED_ROOMS);
    const result: RoomCountResult = { ok: true, namespace: ns, rooms: listed, total: rooms.length };
    return rooms.length > listed.length ? { ...result, truncated: true } : result;
  });
}
