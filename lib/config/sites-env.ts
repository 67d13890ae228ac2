import type { AccessConfig } from './access.js';
import { OptionError } from './errors.js';
import { parseSitesFile } from './sites-file.js';

/** The environment variables of the single-site form, and the field each one sets. */
export const SITE_ENV = {
  SITE_NAME: 'the site name (and namespace)',
  AUTH_URL: 'auth.url (mode token-url); without it the site is open (mode none)',
  AUTH_SCHEME: 'auth.scheme (default Bearer)',
  AUTH_TIMEOUT_MS: 'auth.timeoutMs',
  API_KEY: 'apiKey',
  USER_ROOM_PREFIX: 'userRoomPrefix',
  UPDATE_USER_URL: 'updateUserUrl',
} as const;

/**
 * The single-site form: a site described entirely by environment variables (see {@link SITE_ENV}), as in the
 * original service's Docker set-up. Returns undefined when `SITE_NAME` is not set; the other variables
 * without it are an error rather than silently ignored.
 */
export function sitesFromEnv(env: NodeJS.ProcessEnv): AccessConfig | undefined {
  const set = (name: keyof typeof SITE_ENV): string | undefined => (env[name] === '' ? undefined : env[name]);
  const name = set('SITE_NAME');
  if (name === undefined) {
    const stray = (Object.keys(SITE_ENV) as (keyof typeof SITE_ENV)[]).find((key) => set(key) !== undefined);
    if (stray) throw new OptionError(`${stray} is set but SITE_NAME is not; set SITE_NAME to configure a site from the environment`);
    return undefined;
  }
  const url = set('AUTH_URL');
  const timeout = set('AUTH_TIMEOUT_MS');
  const auth: Record<string, unknown> = url === undefined ? { mode: 'none' } : { mode: 'token-url', url };
  if (set('AUTH_SCHEME') !== undefined) auth.scheme = set('AUTH_SCHEME');
  if (timeout !== undefined) auth.timeoutMs = /^\d+$/.test(timeout) ? Number(timeout) : timeout;
  const site: Record<string, unknown> = { auth };
  if (set('API_KEY') !== undefined) site.apiKey = set('API_KEY');
  if (set('USER_ROOM_PREFIX') !== undefined) site.userRoomPrefix = set('USER_ROOM_PREFIX');
  if (set('UPDATE_USER_URL') !== undefined) site.updateUserUrl = set('UPDATE_USER_URL');
  return parseSitesFile({ sites: { [name]: site } }, `environment (SITE_NAME=${name})`, env);
}
