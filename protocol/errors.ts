import Type, { type Static } from 'typebox';

/** What the catalog says about one error code. */
export interface ErrorInfo {
  /**
   * The HTTP status of an HTTP answer with this code. Codes that only sockets use carry the status an HTTP
   * route would answer them with, so that a gateway or SDK can map every code the same way.
   */
  readonly status: number;
  /**
   * Whether the same request, unchanged, may succeed later: it was refused before it had any effect, for a
   * reason that passes by itself. Retry those with back-off; fix the request (or the state) for the others.
   */
  readonly retryable: boolean;
  /** What the code means, in a sentence: the text of the docs' error table. */
  readonly description: string;
}

/**
 * The closed catalog of error codes that can appear in an ack `{ ok: false, error }`, in an `ERROR` event,
 * in a handshake's `connect_error` (`data.code`) or in an HTTP error body, each with its HTTP status and
 * whether a retry can help. Extend deliberately: clients switch on these strings.
 *
 * @example
 * ```ts
 * if (!res.ok && ErrorCatalog[res.error.code].retryable) setTimeout(retry, backoff());
 * ```
 */
export const ErrorCatalog = {
  BAD_REQUEST: {
    status: 400,
    retryable: false,
    description:
      'The payload is not parseable or not of the required shape (the message names the field), or an HTTP request lacks what it needs.',
  },
  LIMIT: {
    status: 413,
    retryable: false,
    description: 'A configured limit was hit: rooms per socket (leave one first), or an HTTP body over the payload limit.',
  },
  NOT_IN_LOBBY: {
    status: 409,
    retryable: false,
    description: '`/lobby`: the request needs lobby membership the socket does not have.',
  },
  ALREADY_IN_LOBBY: {
    status: 409,
    retryable: false,
    description: '`/lobby`: JOIN while already in a lobby (LEAVE it first).',
  },
  UNKNOWN_PEER: {
    status: 404,
    retryable: false,
    description: "`/lobby`: RTCSIGNAL to a socket that is not in the sender's lobby.",
  },
  UNAUTHORIZED: {
    status: 401,
    retryable: false,
    description: 'Authentication or authorization failed: no or a rejected token, credentials or API key.',
  },
  AUTH_UNAVAILABLE: {
    status: 503,
    retryable: true,
    description:
      "A site's auth backend could not give an answer (an unexpected HTTP status, a network error, a timeout, or a response that is not a JSON array of room names); sent as `data.code` of a `connect_error`.",
  },
  RATE_LIMITED: {
    status: 429,
    retryable: true,
    description: 'Too many requests in too short a time.',
  },
  UNAVAILABLE: {
    status: 503,
    retryable: true,
    description:
      "The cluster cannot take the request now, and nothing was done; retry. A broadcast while Redis is unreachable and this node's outage buffer (`--outage-buffer`) is full, so it would be lost; or a `/lobby` RTCSIGNAL to a peer found on none of the nodes that answered while another node did not answer in time (`--cluster-timeout`): it may be on that node; or a roster or room count (`GET /api/namespaces/…`) while some node did not answer in time, so the answer would be incomplete.",
  },
  NOT_FOUND: {
    status: 404,
    retryable: false,
    description: 'HTTP: no such route or resource (an unknown path, a `POST /send` to no such site).',
  },
  INTERNAL: {
    status: 500,
    retryable: false,
    description:
      'An unexpected server-side failure, logged with the socket id; whether the request took effect is unknown. `GET /readyz` answers it with 503 while the node is not ready.',
  },
} as const satisfies Record<string, ErrorInfo>;

/**
 * The error codes of the {@link ErrorCatalog} by name, each its own string.
 *
 * @example
 * ```ts
 * if (!res.ok && res.error.code === ErrorCode.LIMIT) showQuotaWarning();
 * ```
 */
export const ErrorCode: { readonly [Code in keyof typeof ErrorCatalog]: Code } = codesOf(ErrorCatalog);

/** One of the {@link ErrorCode} strings. */
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

function codesOf<C extends Record<string, ErrorInfo>>(catalog: C): { readonly [Code in keyof C]: Code } {
  return Object.freeze(Object.fromEntries(Object.keys(catalog).map((code) => [code, code]))) as { readonly [Code in keyof C]: Code };
}

/** Schema of the `error` member of a failed ack and of an HTTP error body. */
export const ErrorBodySchema = Type.Object({
  code: Type.Enum(ErrorCode),
  message: Type.String(),
});

/** `{ code, message }`: what went wrong, machine- and human-readable. */
export type ErrorBody = Static<typeof ErrorBodySchema>;
