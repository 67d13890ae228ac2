import type { ManagerOptions, SocketOptions } from 'socket.io-client';

/** How long a request waits for its ack unless {@link ClientOptions.timeout} says otherwise, in milliseconds. */
export const DEFAULT_TIMEOUT_MS = 5000;

/**
 * Options of every `connect…` function: socket.io-client's own (`transports`, `auth`, `path`, `query`,
 * `reconnectionDelay`, `forceNew`, `rejectUnauthorized` for a self-signed HTTPS server in Node, …), passed
 * through unchanged, except that socket.io-client's connection `timeout` is called `connectTimeout` here,
 * since `timeout` is the requests'.
 */
export type ClientOptions = Partial<Omit<ManagerOptions & SocketOptions, 'timeout'>> & {
  /** How long a request (`join`, `notify`, …) waits for its ack before it rejects with a `TimeoutError`; 5000 ms. */
  readonly timeout?: number;
  /** socket.io-client's `timeout`: how long one connection attempt may take (its default, 20000 ms). */
  readonly connectTimeout?: number;
};
