import type { KeyObject } from 'node:crypto';
import { Namespaces } from '../../protocol/index.js';
import type { Secret } from './secrets.js';

/** How long a token-url or updateUserUrl request may take unless the file says otherwise. */
export const DEFAULT_AUTH_TIMEOUT_MS = 5000;
/** Connections a token-url site's backend is called over at most, unless the file says otherwise. */
export const DEFAULT_AUTH_MAX_CONNECTIONS = 16;
/** Largest answer a token-url backend may give, in bytes, unless the file says otherwise. */
export const DEFAULT_AUTH_MAX_RESPONSE_BYTES = 64 * 1024;
/** Attempts per updateUserUrl notification unless the file says otherwise. */
export const DEFAULT_UPDATE_USER_ATTEMPTS = 3;

/** The built-in namespaces that a sites file may give an auth mode, by name. */
export type BuiltinName = keyof typeof Namespaces;
/** The built-in namespaces whose rooms have named members, which `--presence` may name. */
export const PRESENCE_BUILTINS = ['layout', 'bus'] as const satisfies readonly BuiltinName[];
/** One of {@link PRESENCE_BUILTINS}. */
export type PresenceBuiltin = (typeof PRESENCE_BUILTINS)[number];
/** {@link BuiltinName}s, in the protocol's order. */
export const BUILTIN_NAMES = Object.keys(Namespaces) as BuiltinName[];

/** How a namespace authenticates its clients. */
export type AuthConfig =
  | { readonly mode: 'none' }
  | {
      readonly mode: 'token-url';
      /** Called with `Authorization: <scheme> <token>`; answers a JSON array of room names. */
      readonly url: string;
      readonly scheme: string;
      /** Deadline of one check, from the handshake's arrival: waiting for a free connection, headers and body. */
      readonly timeoutMs: number;
      /** Keep-alive connections to the backend at most; handshakes beyond wait for one (a bounded queue). */
      readonly maxConnections: number;
      /** Largest answer accepted, in bytes; a larger one fails the handshake with `AUTH_UNAVAILABLE`. */
      readonly maxResponseBytes: number;
    }
  | {
      readonly mode: 'jwt';
      readonly algorithms: readonly JwtAlgorithm[];
      /** HS256 key. */
      readonly hmacKey: KeyObject | undefined;
      /** RS256 / ES256 public key. */
      readonly publicKey: KeyObject | undefined;
      /** Claim holding the array of rooms to join (default `rooms`). */
      readonly roomsClaim: string;
      /** Claim holding the user id (default `sub`). */
      readonly userClaim: string;
      readonly issuer: string | undefined;
      readonly audience: string | undefined;
    }
  | {
      readonly mode: 'credentials';
      /** Password (as a secret: only its hash is kept) by user name. */
      readonly users: ReadonlyMap<string, Secret>;
    };

/**
 * A forwarding namespace: every event a client sends is re-emitted to every socket of the namespace. Either
 * one namespace (the legacy `/sharedsocket`), or every namespace `/<prefix><name>` (the do-socket-service's `do-`), each
 * of them isolated from the others.
 */
export type ForwardingConfig = (
  | { readonly kind: 'namespace'; readonly namespace: string; readonly auth: AuthConfig }
  | { readonly kind: 'prefix'; readonly prefix: string; readonly auth: AuthConfig }
) & {
  /** Connection-state recovery on (`recovery: true`): re-emitted events then get the offset as a last argument. */
  readonly recovery?: boolean;
};

/** The JWT algorithms mode jwt accepts. */
export const JWT_ALGORITHMS = ['HS256', 'RS256', 'ES256'] as const;
/** One of {@link JWT_ALGORITHMS}. */
export type JwtAlgorithm = (typeof JWT_ALGORITHMS)[number];

/** One application sharing the deployment: its own namespace, auth and API key. */
export interface SiteConfig {
  readonly name: string;
  /** `/<name>`, as in the original service. */
  readonly namespace: string;
  readonly auth: AuthConfig;
  /** Key of `POST /send?site=<name>`; without one the site cannot be pushed to. */
  readonly apiKey: Secret | undefined;
  readonly userRoomPrefix: string | undefined;
  readonly updateUserUrl: string | undefined;
  /** Deadline of each `updateUserUrl` attempt. */
  readonly updateUserTimeoutMs: number;
  /** Attempts per `updateUserUrl` notification, the first included. */
  readonly updateUserAttempts: number;
  /** Reliable delivery: seconds a device may stay away (`--device-ttl` when undefined); 0: never expire. */
  readonly deviceTtl: number | undefined;
  /**
   * Connection-state recovery on (`recovery: true`; off by default): pushed events then carry the recovery
   * offset as one more, last argument, which clients written for the original service would take for an ack.
   */
  readonly recovery?: boolean;
  /**
   * `PRESENCE { room, event, id, name: null, userId }` to the other members of each room a socket of the site
   * is granted, when it connects and when it leaves (`presence: true`; off by default).
   */
  readonly presence?: boolean;
}

/** Sites and namespace auth, as loaded from a sites file or the environment. */
export interface AccessConfig {
  readonly sites: readonly SiteConfig[];
  /** Auth of the built-in namespaces; a namespace not listed is open (mode none). */
  readonly builtins: Readonly<Partial<Record<BuiltinName, AuthConfig>>>;
  /** Forwarding namespaces (opt-in; none by default). */
  readonly forwarding?: readonly ForwardingConfig[];
}
