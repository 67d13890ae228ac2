import { createHash, randomBytes, scrypt as scryptCallback, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';

/**
 * Derives the key of `secret` with scrypt at node's default cost (N = 16384, r = 8, p = 1), the cost of
 * every hash {@link hashSecret} writes, off the event loop's thread (the libuv pool): a key check never
 * blocks other clients.
 */
export type DeriveKey = (secret: string, salt: Buffer, keylen: number) => Promise<Buffer>;

/** The {@link DeriveKey} every check uses. */
export const scrypt: DeriveKey = (secret, salt, keylen) => {
  return new Promise((resolve, reject) => {
    scryptCallback(secret, salt, keylen, (err, key) => (err ? reject(err) : resolve(key)));
  });
};

/** Length of the scrypt hashes this module writes and reads, in bytes. */
const SCRYPT_KEYLEN = 32;

/**
 * A secret (API key, password) as the service keeps it: never the clear text of a hashed secret, and for
 * a clear-text one only its SHA-256 digest, so that comparisons are always between buffers of equal length.
 */
export type Secret =
  { readonly kind: 'digest'; readonly digest: Buffer } | { readonly kind: 'scrypt'; readonly salt: Buffer; readonly hash: Buffer };

/** Thrown for a secret reference that cannot be resolved; the message says why, the caller names the field. */
export class SecretError extends Error {
  override name = 'SecretError';
}

/**
 * Resolves a secret as written in a sites file or the environment:
 * - `scrypt:<salt base64>:<hash base64>` — a hash (see {@link hashSecret}); the clear text is never stored;
 * - `env:NAME` — the value of environment variable `NAME`;
 * - `file:/path` — the contents of a file, without its trailing newline;
 * - anything else — the secret itself.
 */
export function resolveSecret(reference: string, env: NodeJS.ProcessEnv): Secret {
  if (reference.startsWith('scrypt:')) return parseScrypt(reference);
  const value = readSecretText(reference, env);
  // A secret read from env or a file may itself be a hash.
  return value.startsWith('scrypt:') ? parseScrypt(value) : { kind: 'digest', digest: sha256(value) };
}

/**
 * The clear text of a secret the service must use rather than check (an HMAC key, a PEM key):
 * `env:NAME`, `file:/path` (trailing newline dropped) or the value itself.
 */
export function readSecretText(reference: string, env: NodeJS.ProcessEnv): string {
  if (reference.startsWith('env:')) {
    const name = reference.slice('env:'.length);
    const fromEnv = env[name];
    if (fromEnv === undefined || fromEnv === '') throw new SecretError(`environment variable ${name} is not set`);
    return fromEnv;
  }
  if (!reference.startsWith('file:')) return reference;
  const path = reference.slice('file:'.length);
  let value: string;
  try {
    value = readFileSync(path, 'utf8').replace(/\r?\n$/, '');
  } catch (err) {
    throw new SecretError(`cannot read file '${path}' (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  if (value === '') throw new SecretError(`file '${path}' is empty`);
  return value;
}

function parseScrypt(text: string): Secret {
  const [, salt, hash, extra] = text.split(':');
  const saltBytes = Buffer.from(salt ?? '', 'base64');
  const hashBytes = Buffer.from(hash ?? '', 'base64');
  if (extra !== undefined || saltBytes.length < 8 || hashBytes.length !== SCRYPT_KEYLEN) {
    throw new SecretError(`a scrypt hash must read scrypt:<salt, base64, 8+ bytes>:<hash, base64, ${SCRYPT_KEYLEN} bytes>`);
  }
  return { kind: 'scrypt', salt: saltBytes, hash: hashBytes };
}

/**
 * Hashes `secret` into the `scrypt:<salt>:<hash>` form {@link resolveSecret} accepts.
 *
 * @example
 * ```ts
 * const stored = await hashSecret('my-api-key'); // 'scrypt:q2v…:Xb9…'
 * ```
 */
export async function hashSecret(secret: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scrypt(secret, salt, SCRYPT_KEYLEN);
  return `scrypt:${salt.toString('base64')}:${hash.toString('base64')}`;
}

/**
 * True when `candidate` is the secret. Constant-time: both sides are hashed to buffers of equal length
 * and compared with `timingSafeEqual`, so neither the length nor a common prefix of the secret leaks.
 */
export async function verifySecret(secret: Secret, candidate: string, derive: DeriveKey = scrypt): Promise<boolean> {
  if (secret.kind === 'digest') return timingSafeEqual(secret.digest, sha256(candidate));
  const hash = await derive(candidate, secret.salt, SCRYPT_KEYLEN);
  return timingSafeEqual(secret.hash, hash);
}

/**
 * A secret that stands in for one that does not exist (an unknown user name), of the same kind and cost as
 * `like`: a scrypt hash when any of them is one (same salt length, key length and scrypt cost as
 * {@link hashSecret}'s), a digest otherwise. Random, and never accepted by {@link verifyAgainst}.
 */
export function dummySecret(like: Iterable<Secret>): Secret {
  for (const secret of like) {
    if (secret.kind === 'scrypt') return { kind: 'scrypt', salt: randomBytes(secret.salt.length), hash: randomBytes(SCRYPT_KEYLEN) };
  }
  return { kind: 'digest', digest: randomBytes(32) };
}

/**
 * {@link verifySecret} for a secret that may not exist: an undefined `secret` is checked against `dummy`
 * (see {@link dummySecret}) with the same work as a real one, and refused whatever the candidate, so that
 * the time of a refusal does not tell an unknown name from a wrong secret.
 */
export async function verifyAgainst(
  secret: Secret | undefined,
  candidate: string,
  dummy: Secret,
  derive: DeriveKey = scrypt,
): Promise<boolean> {
  const valid = await verifySecret(secret ?? dummy, candidate, derive);
  return valid && secret !== undefined;
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}
