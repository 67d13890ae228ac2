import Type, { type Static } from 'typebox';

/**
 * The closed catalog of error codes that can appear in an ack `{ ok: false, error }`, in an `ERROR`
 * event or in an HTTP error body. Extend deliberately: clients switch on these strings.
 *
 * @example
 * ```ts
 * if (!res.ok && res.error.code === ErrorCode.LIMIT) showQuotaWarning();
 * ```
 */
export const ErrorCode = {
  /** The payload is not parseable or not of the required shape (the message names the field). */
  BAD_REQUEST: 'BAD_REQUEST',
  /** A configured limit was hit (rooms per socket, payload size). */
  LIMIT: 'LIMIT',
  /** `/lobby`: the request needs lobby membership the socket does not have. */
  NOT_IN_LOBBY: 'NOT_IN_LOBBY',
  /** `/lobby`: JOIN while already in a lobby. */
  ALREADY_IN_LOBBY: 'ALREADY_IN_LOBBY',
  /** `/lobby`: RTCSIGNAL to a socket that is not in the sender's lobby. */
  UNKNOWN_PEER: 'UNKNOWN_PEER',
  /** Authentication or authorization failed. */
  UNAUTHORIZED: 'UNAUTHORIZED',
  /**
   * A site's auth backend could not give an answer (an unexpected HTTP status, a network error, a timeout or
   * a response that is not a JSON array of room names): the client may retry later. Sent as `data.code` of a
   * `connect_error`.
   */
  AUTH_UNAVAILABLE: 'AUTH_UNAVAILABLE',
  /** Too many requests in too short a time. */
  RATE_LIMITED: 'RATE_LIMITED',
  /** HTTP only: no such route or resource. */
  NOT_FOUND: 'NOT_FOUND',
  /** An unexpected server-side failure; the server logs it with the socket id. */
  INTERNAL: 'INTERNAL',
} as const;

/** One of the {@link ErrorCode} strings. */
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Schema of the `error` member of a failed ack and of an HTTP error body. */
export const ErrorBodySchema = Type.Object({
  code: Type.Enum(ErrorCode),
  message: Type.String(),
});

/** `{ code, message }`: what went wrong, machine- and human-readable. */
export type ErrorBody = Static<typeof ErrorBodySchema>;
