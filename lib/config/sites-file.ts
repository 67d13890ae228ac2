import { createPublicKey, createSecretKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import Type, { type Static } from 'typebox';
import { Compile } from 'typebox/compile';
import type * as Yaml from 'yaml';
import { lazyPackage } from '../core/lazy-package.js';
import {
  BUILTIN_NAMES,
  DEFAULT_AUTH_MAX_CONNECTIONS,
  DEFAULT_AUTH_MAX_RESPONSE_BYTES,
  DEFAULT_AUTH_TIMEOUT_MS,
  DEFAULT_UPDATE_USER_ATTEMPTS,
  JWT_ALGORITHMS,
  type AccessConfig,
  type AuthConfig,
  type BuiltinName,
  type ForwardingConfig,
  type SiteConfig,
} from './access.js';
import { OptionError } from './errors.js';
import { MAX_DEVICE_TTL_S } from './parse.js';
import { readSecretText, resolveSecret, SecretError, type Secret } from './secrets.js';

const yaml = lazyPackage<typeof Yaml>('yaml');

const AuthSchema = Type.Object(
  {
    mode: Type.Enum(['none', 'token-url', 'jwt', 'credentials']),
    url: Type.Optional(Type.String({ minLength: 1 })),
    scheme: Type.Optional(Type.String({ minLength: 1, pattern: '^[!-~]+$' })),
    timeoutMs: Type.Optional(Type.Integer({ minimum: 1, maximum: 60_000 })),
    maxConnections: Type.Optional(Type.Integer({ minimum: 1, maximum: 1024 })),
    maxResponseBytes: Type.Optional(Type.Integer({ minimum: 2, maximum: 16 * 1024 * 1024 })),
    algorithms: Type.Optional(Type.Array(Type.Enum([...JWT_ALGORITHMS]), { minItems: 1, uniqueItems: true })),
    secret: Type.Optional(Type.String({ minLength: 1 })),
    publicKey: Type.Optional(Type.String({ minLength: 1 })),
    roomsClaim: Type.Optional(Type.String({ minLength: 1 })),
    userClaim: Type.Optional(Type.String({ minLength: 1 })),
    issuer: Type.Optional(Type.String({ minLength: 1 })),
    audience: Type.Optional(Type.String({ minLength: 1 })),
    users: Type.Optional(Type.Record(Type.String(), Type.String({ minLength: 1 }))),
  },
  { additionalProperties: false },
);

const SiteSchema = Type.Object(
  {
    auth: AuthSchema,
    apiKey: Type.Optional(Type.String({ minLength: 1 })),
    userRoomPrefix: Type.Optional(Type.String({ minLength: 1 })),
    updateUserUrl: Type.Optional(Type.String({ minLength: 1 })),
    updateUserTimeoutMs: Type.Optional(Type.Integer({ minimum: 1, maximum: 60_000 })),
    updateUserAttempts: Type.Optional(Type.Integer({ minimum: 1, maximum: 10 })),
    /** Reliable delivery: seconds a device may stay away; overrides `--device-ttl` (DEVICE_TTL) for this site. */
    deviceTtl: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_DEVICE_TTL_S })),
    /** Connection-state recovery for this site (off by default: it adds an argument to every pushed event). */
    recovery: Type.Optional(Type.Boolean()),
    /** `PRESENCE` events to the members of this site's rooms when a socket joins or leaves one (off by default). */
    presence: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

const BuiltinSchema = Type.Object({ auth: AuthSchema }, { additionalProperties: false });

/** The schema of a whole sites file (YAML or JSON). Unknown fields are errors: a typo never loads silently. */
export const SitesFileSchema = Type.Object(
  {
    sites: Type.Optional(Type.Record(Type.String(), SiteSchema)),
    forwarding: Type.Optional(
      Type.Array(
        Type.Object(
          {
            namespace: Type.Optional(Type.String({ pattern: '^/[A-Za-z0-9][\\w-]{0,63}$' })),
            prefix: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9][\\w-]{0,63}$' })),
            auth: Type.Optional(AuthSchema),
            /** Connection-state recovery (off by default: it adds an argument to every re-emitted event). */
            recovery: Type.Optional(Type.Boolean()),
          },
          { additionalProperties: false },
        ),
      ),
    ),
    namespaces: Type.Optional(
      Type.Object(Object.fromEntries(BUILTIN_NAMES.map((name) => [name, Type.Optional(BuiltinSchema)])), { additionalProperties: false }),
    ),
  },
  { additionalProperties: false },
);

/** A sites file as written. */
export type SitesFile = Static<typeof SitesFileSchema>;
type RawAuth = Static<typeof AuthSchema>;

const checkSitesFile = Compile(SitesFileSchema);

/** Site names become namespaces and query values: letters, digits, `_` and `-`. */
const SITE_NAME = /^[A-Za-z0-9][\w-]{0,63}$/;

/**
 * Reads, validates and resolves a sites file: JSON when the name ends in `.json`, YAML otherwise.
 * Throws an {@link OptionError} naming the file and the field at the first problem; nothing is half-loaded.
 */
export function loadSitesFile(file: string, env: NodeJS.ProcessEnv): AccessConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new OptionError(`cannot read config file '${file}' (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  let raw: unknown;
  try {
    raw = file.endsWith('.json') ? JSON.parse(text) : yaml().parse(text);
  } catch (err) {
    const reason = err instanceof Error ? err.message.split('\n')[0] : String(err);
    throw new OptionError(`config file '${file}' is not valid ${file.endsWith('.json') ? 'JSON' : 'YAML'}: ${reason}`);
  }
  return parseSitesFile(raw ?? {}, `config file '${file}'`, env);
}

/**
 * Validates an already parsed sites file against {@link SitesFileSchema} and resolves its secrets.
 * `source` prefixes error messages (e.g. `config file 'sites.yml'`).
 */
export function parseSitesFile(raw: unknown, source: string, env: NodeJS.ProcessEnv): AccessConfig {
  if (!checkSitesFile.Check(raw)) {
    throw new OptionError(`${source}: ${describeSchemaError(checkSitesFile.Errors(raw))}`);
  }
  const fail = (field: string, message: string): never => {
    throw new OptionError(`${source}: ${field} ${message}`);
  };
  const sites = Object.entries(raw.sites ?? {}).map(([name, site]): SiteConfig => {
    const field = `sites.${name}`;
    if (!SITE_NAME.test(name)) fail(field, 'is not a valid site name: use letters, digits, _ and - (at most 64)');
    if ((BUILTIN_NAMES as string[]).includes(name)) fail(field, `is a built-in namespace; configure it under namespaces.${name}`);
    if (site.updateUserUrl !== undefined) assertHttpUrl(site.updateUserUrl, `${field}.updateUserUrl`, fail);
    let apiKey: Secret | undefined;
    try {
      apiKey = site.apiKey === undefined ? undefined : resolveSecret(site.apiKey, env);
    } catch (err) {
      if (!(err instanceof SecretError)) throw err;
      fail(`${field}.apiKey:`, err.message);
    }
    return {
      name,
      namespace: `/${name}`,
      auth: resolveAuth(site.auth, `${field}.auth`, fail, env),
      apiKey,
      userRoomPrefix: site.userRoomPrefix,
      updateUserUrl: site.updateUserUrl,
      updateUserTimeoutMs: site.updateUserTimeoutMs ?? DEFAULT_AUTH_TIMEOUT_MS,
      updateUserAttempts: site.updateUserAttempts ?? DEFAULT_UPDATE_USER_ATTEMPTS,
      deviceTtl: site.deviceTtl,
      ...(site.recovery === true ? { recovery: true } : {}),
      ...(site.presence === true ? { presence: true } : {}),
    };
  });
  const builtins: Partial<Record<BuiltinName, AuthConfig>> = {};
  for (const name of BUILTIN_NAMES) {
    const entry = raw.namespaces?.[name];
    if (entry) builtins[name] = resolveAuth(entry.auth, `namespaces.${name}.auth`, fail, env);
  }
  const taken = [...BUILTIN_NAMES, ...sites.map((site) => site.name)];
  const forwarding = (raw.forwarding ?? []).map((entry, index): ForwardingConfig => {
    const field = `forwarding.${index}`;
    const auth = entry.auth ? resolveAuth(entry.auth, `${field}.auth`, fail, env) : ({ mode: 'none' } as const);
    if ((entry.namespace === undefined) === (entry.prefix === undefined)) fail(field, 'needs exactly one of namespace or prefix');
    if (entry.namespace !== undefined) {
      if (taken.includes(entry.namespace.slice(1)))
        fail(`${field}.namespace`, `'${entry.namespace}' is already a site or built-in namespace`);
      return { kind: 'namespace', namespace: entry.namespace, auth, ...(entry.recovery === true ? { recovery: true } : {}) };
    }
    const prefix = entry.prefix ?? '';
    const clash = taken.find((name) => name.startsWith(prefix));
    if (clash !== undefined) fail(`${field}.prefix`, `'${prefix}' would also match the namespace /${clash}`);
    return { kind: 'prefix', prefix, auth, ...(entry.recovery === true ? { recovery: true } : {}) };
  });
  return { sites, builtins, forwarding };
}

/** The fields each mode takes besides `mode`; any other is an error, so a field never silently does nothing. */
const MODE_FIELDS: Record<RawAuth['mode'], readonly (keyof RawAuth)[]> = {
  none: [],
  'token-url': ['url', 'scheme', 'timeoutMs', 'maxConnections', 'maxResponseBytes'],
  jwt: ['algorithms', 'secret', 'publicKey', 'roomsClaim', 'userClaim', 'issuer', 'audience'],
  credentials: ['users'],
};

type Fail = (field: string, message: string) => never;

function resolveAuth(auth: RawAuth, field: string, fail: Fail, env: NodeJS.ProcessEnv): AuthConfig {
  const allowed = MODE_FIELDS[auth.mode];
  for (const key of Object.keys(auth) as (keyof RawAuth)[]) {
    if (key !== 'mode' && !allowed.includes(key)) fail(`${field}.${key}`, `does not apply to mode ${auth.mode}`);
  }
  switch (auth.mode) {
    case 'none':
      return { mode: 'none' };
    case 'token-url':
      if (auth.url === undefined) return fail(`${field}.url`, 'is required for mode token-url');
      assertHttpUrl(auth.url, `${field}.url`, fail);
      return {
        mode: 'token-url',
        url: auth.url,
        scheme: auth.scheme ?? 'Bearer',
        timeoutMs: auth.timeoutMs ?? DEFAULT_AUTH_TIMEOUT_MS,
        maxConnections: auth.maxConnections ?? DEFAULT_AUTH_MAX_CONNECTIONS,
        maxResponseBytes: auth.maxResponseBytes ?? DEFAULT_AUTH_MAX_RESPONSE_BYTES,
      };
    case 'jwt':
      return resolveJwt(auth, field, fail, env);
    case 'credentials':
      return resolveCredentials(auth, field, fail, env);
  }
}

function resolveJwt(auth: RawAuth, field: string, fail: Fail, env: NodeJS.ProcessEnv): AuthConfig {
  const algorithms = auth.algorithms ?? fail(`${field}.algorithms`, `is required for mode jwt: a list of ${JWT_ALGORITHMS.join(', ')}`);
  const text = (key: 'secret' | 'publicKey', reference: string): string => {
    try {
      return readSecretText(reference, env);
    } catch (err) {
      if (!(err instanceof SecretError)) throw err;
      return fail(`${field}.${key}:`, err.message);
    }
  };
  const hmac = algorithms.includes('HS256');
  const asymmetric = algorithms.some((alg) => alg !== 'HS256');
  if (hmac !== (auth.secret !== undefined)) fail(`${field}.secret`, hmac ? 'is required for HS256' : 'applies to HS256 only');
  if (asymmetric !== (auth.publicKey !== undefined))
    fail(`${field}.publicKey`, asymmetric ? 'is required for RS256 and ES256' : 'applies to RS256 and ES256 only');
  const secret = auth.secret === undefined ? undefined : text('secret', auth.secret);
  // HS256 with a short key is brute-forceable offline from any token a client holds (RFC 7518 §3.2).
  if (secret !== undefined && Buffer.byteLength(secret) < 32) fail(`${field}.secret`, 'must be at least 32 bytes for HS256');
  let publicKey: KeyObject | undefined;
  if (auth.publicKey !== undefined) {
    try {
      publicKey = createPublicKey(text('publicKey', auth.publicKey));
    } catch (err) {
      if (err instanceof OptionError) throw err;
      fail(`${field}.publicKey`, 'is not a PEM public key (SPKI, "BEGIN PUBLIC KEY")');
    }
  }
  return {
    mode: 'jwt',
    algorithms,
    hmacKey: secret === undefined ? undefined : createSecretKey(Buffer.from(secret, 'utf8')),
    publicKey,
    roomsClaim: auth.roomsClaim ?? 'rooms',
    userClaim: auth.userClaim ?? 'sub',
    issuer: auth.issuer,
    audience: auth.audience,
  };
}

function resolveCredentials(auth: RawAuth, field: string, fail: Fail, env: NodeJS.ProcessEnv): AuthConfig {
  const entries = Object.entries(auth.users ?? fail(`${field}.users`, 'is required for mode credentials: user name → password (hash)'));
  if (entries.length === 0) fail(`${field}.users`, 'must list at least one user');
  const users = new Map<string, Secret>();
  for (const [name, reference] of entries) {
    try {
      users.set(name, resolveSecret(reference, env));
    } catch (err) {
      if (!(err instanceof SecretError)) throw err;
      fail(`${field}.users.${name}:`, err.message);
    }
  }
  return { mode: 'credentials', users };
}

function assertHttpUrl(value: string, field: string, fail: Fail): void {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (url?.protocol !== 'http:' && url?.protocol !== 'https:') fail(field, `must be an http(s) URL, got '${value}'`);
}

interface SchemaError {
  readonly instancePath: string;
  readonly keyword: string;
  readonly message: string;
  readonly params: unknown;
}

/** The first schema violation, worded for a person editing the file: the field path, then the problem. */
function describeSchemaError(errors: readonly SchemaError[]): string {
  const error = errors[0];
  if (!error) return 'is invalid';
  const field = error.instancePath.split('/').filter(Boolean).join('.') || '(top level)';
  const params = (error.params ?? {}) as Record<string, unknown>;
  switch (error.keyword) {
    case 'boolean':
      return `${field} is not a known field`;
    case 'required': {
      const missing = Array.isArray(params.requiredProperties) ? params.requiredProperties.map(String) : [];
      return `${[field === '(top level)' ? '' : field, missing[0] ?? ''].filter(Boolean).join('.')} is required`;
    }
    case 'enum':
      return `${field} must be one of ${Array.isArray(params.allowedValues) ? params.allowedValues.join(', ') : 'the allowed values'}`;
    default:
      return `${field} ${error.message}`;
  }
}
