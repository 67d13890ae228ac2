/** A value now (in-memory lookups) or later (cluster lookups). */
export type Maybe<T> = T | Promise<T>;

/**
 * Applies `fn` to `value` at once when it is already there, or when its promise resolves: the in-memory
 * path stays synchronous (no promise, no extra tick), the cluster path the same code.
 */
export function andThen<T, R>(value: Maybe<T>, fn: (value: T) => R): R | Promise<R> {
  return value instanceof Promise ? value.then(fn) : fn(value);
}
