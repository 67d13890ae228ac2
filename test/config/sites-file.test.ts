import { expect } from 'chai';
import { OptionError } from '../../lib/config/errors.js';
import { hashSecret, resolveSecret, verifySecret } from '../../lib/config/secrets.js';
import { sitesFromEnv } from '../../lib/config/sites-env.js';
import { loadSitesFile, parseSitesFile } from '../../lib/config/sites-file.js';
import { rejection } from '../support/sdk.js';
import { tempFile } from '../support/temp.js';

const SOURCE = "config file 'sites.yml'";

function parseError(raw: unknown, env: NodeJS.ProcessEnv = {}): string {
  try {
    parseSitesFile(raw, SOURCE, env);
  } catch (err) {
    expect(err).to.be.instanceOf(OptionError);
    return (err as Error).message;
  }
  throw new Error(`expected ${JSON.stringify(raw)} to be refused`);
}

describe('sites configuration (lib/config/sites-file.ts)', () => {
  it('resolves a complete site with defaults filled in, and built-in namespace auth', async () => {
    const access = parseSitesFile(
      {
        sites: {
          shop: {
            auth: { mode: 'token-url', url: 'https://shop.example.com/rooms' },
            apiKey: 'k',
            userRoomPrefix: 'user_',
            updateUserUrl: 'https://shop.example.com/users/:id',
          },
        },
        namespaces: {
          lobby: { auth: { mode: 'none' } },
          layout: { auth: { mode: 'token-url', url: 'http://auth.local/r', scheme: 'Token', timeoutMs: 100 } },
        },
      },
      SOURCE,
      {},
    );
    const [shop] = access.sites;
    expect(shop?.namespace).to.equal('/shop');
    expect(shop?.auth).to.deep.equal({
      mode: 'token-url',
      url: 'https://shop.example.com/rooms',
      scheme: 'Bearer',
      timeoutMs: 5000,
      maxConnections: 16,
      maxResponseBytes: 65536,
    });
    expect(shop?.userRoomPrefix).to.equal('user_');
    expect(shop?.apiKey && (await verifySecret(shop.apiKey, 'k'))).to.equal(true);
    expect(access.builtins).to.deep.equal({
      lobby: { mode: 'none' },
      layout: {
        mode: 'token-url',
        url: 'http://auth.local/r',
        scheme: 'Token',
        timeoutMs: 100,
        maxConnections: 16,
        maxResponseBytes: 65536,
      },
    });
    expect(parseSitesFile({}, SOURCE, {})).to.deep.equal({ sites: [], builtins: {}, forwarding: [] });
    const forwarding = parseSitesFile(
      { forwarding: [{ namespace: '/sharedsocket' }, { prefix: 'do-', auth: { mode: 'credentials', users: { a: 'p' } } }] },
      SOURCE,
      {},
    ).forwarding;
    expect(forwarding?.[0]).to.deep.equal({ kind: 'namespace', namespace: '/sharedsocket', auth: { mode: 'none' } });
    expect(forwarding?.[1]).to.have.property('kind', 'prefix');
  });

  const bad: [string, unknown, RegExp][] = [
    ['an unknown top-level field', { site: {} }, /: site is not a known field$/],
    [
      'an unknown site field (a typo)',
      { sites: { shop: { auth: { mode: 'none' }, apikey: 'k' } } },
      /sites\.shop\.apikey is not a known field/,
    ],
    ['a site without auth', { sites: { shop: {} } }, /sites\.shop\.auth is required/],
    [
      'token-url without url',
      { sites: { shop: { auth: { mode: 'token-url' } } } },
      /sites\.shop\.auth\.url is required for mode token-url/,
    ],
    [
      'a url that is not http(s)',
      { sites: { shop: { auth: { mode: 'token-url', url: 'ftp://x' } } } },
      /sites\.shop\.auth\.url must be an http\(s\) URL/,
    ],
    [
      'a url field with mode none',
      { sites: { shop: { auth: { mode: 'none', url: 'http://x' } } } },
      /sites\.shop\.auth\.url does not apply to mode none/,
    ],
    ['an unknown mode', { sites: { shop: { auth: { mode: 'oauth' } } } }, /sites\.shop\.auth\.mode must be one of none, token-url, jwt/],
    [
      'jwt without algorithms',
      { sites: { shop: { auth: { mode: 'jwt', secret: 'x'.repeat(32) } } } },
      /sites\.shop\.auth\.algorithms is required for mode jwt/,
    ],
    [
      'an unknown algorithm',
      { sites: { shop: { auth: { mode: 'jwt', algorithms: ['none'] } } } },
      /sites\.shop\.auth\.algorithms\.0 must be one of HS256, RS256, ES256/,
    ],
    [
      'HS256 without secret',
      { sites: { shop: { auth: { mode: 'jwt', algorithms: ['HS256'] } } } },
      /sites\.shop\.auth\.secret is required for HS256/,
    ],
    [
      'a short HS256 secret',
      { sites: { shop: { auth: { mode: 'jwt', algorithms: ['HS256'], secret: 'short' } } } },
      /sites\.shop\.auth\.secret must be at least 32 bytes/,
    ],
    [
      'RS256 without publicKey',
      { sites: { shop: { auth: { mode: 'jwt', algorithms: ['RS256'] } } } },
      /sites\.shop\.auth\.publicKey is required for RS256 and ES256/,
    ],
    [
      'a publicKey that is not PEM',
      { sites: { shop: { auth: { mode: 'jwt', algorithms: ['ES256'], publicKey: 'nope' } } } },
      /sites\.shop\.auth\.publicKey is not a PEM public key/,
    ],
    [
      'credentials without users',
      { forwarding: [{ prefix: 'do-', auth: { mode: 'credentials' } }] },
      /forwarding\.0\.auth\.users is required for mode credentials/,
    ],
    [
      'credentials with no user',
      { forwarding: [{ prefix: 'do-', auth: { mode: 'credentials', users: {} } }] },
      /forwarding\.0\.auth\.users must list at least one user/,
    ],
    [
      'a password from an unset variable',
      { forwarding: [{ prefix: 'do-', auth: { mode: 'credentials', users: { bob: 'env:BOB' } } }] },
      /forwarding\.0\.auth\.users\.bob: environment variable BOB is not set/,
    ],
    [
      'a forwarding entry with both namespace and prefix',
      { forwarding: [{ namespace: '/x', prefix: 'do-' }] },
      /forwarding\.0 needs exactly one of namespace or prefix/,
    ],
    [
      'a forwarding namespace without a slash',
      { forwarding: [{ namespace: 'sharedsocket' }] },
      /forwarding\.0\.namespace must match pattern/,
    ],
    [
      'a forwarding namespace that is a built-in',
      { forwarding: [{ namespace: '/bus' }] },
      /forwarding\.0\.namespace '\/bus' is already a site or built-in namespace/,
    ],
    [
      'a prefix that would capture a site',
      { sites: { 'do-shop': { auth: { mode: 'none' } } }, forwarding: [{ prefix: 'do-' }] },
      /forwarding\.0\.prefix 'do-' would also match the namespace \/do-shop/,
    ],
    [
      'a jwt secret from an unset variable',
      { sites: { shop: { auth: { mode: 'jwt', algorithms: ['HS256'], secret: 'env:JWT_KEY' } } } },
      /sites\.shop\.auth\.secret: environment variable JWT_KEY is not set/,
    ],
    [
      'a timeout of 0',
      { sites: { shop: { auth: { mode: 'token-url', url: 'http://x', timeoutMs: 0 } } } },
      /sites\.shop\.auth\.timeoutMs must be >= 1/,
    ],
    [
      'presence that is not a boolean',
      { sites: { shop: { auth: { mode: 'none' }, presence: 'yes' } } },
      /sites\.shop\.presence must be boolean/,
    ],
    [
      'presence on a forwarding namespace (it has no client rooms)',
      { forwarding: [{ namespace: '/sharedsocket', presence: true }] },
      /forwarding\.0\.presence is not a known field/,
    ],
    ['a number as apiKey', { sites: { shop: { auth: { mode: 'none' }, apiKey: 54321 } } }, /sites\.shop\.apiKey must be string/],
    ['a site name that is not a namespace', { sites: { 'a/b': { auth: { mode: 'none' } } } }, /sites\.a\/b is not a valid site name/],
    ['a site named like a built-in', { sites: { lobby: { auth: { mode: 'none' } } } }, /sites\.lobby is a built-in namespace/],
    ['an unknown built-in', { namespaces: { chat: { auth: { mode: 'none' } } } }, /namespaces\.chat is not a known field/],
    [
      'a bad updateUserUrl',
      { sites: { shop: { auth: { mode: 'none' }, updateUserUrl: 'users/:id' } } },
      /sites\.shop\.updateUserUrl must be an http\(s\) URL/,
    ],
    [
      'an apiKey from an unset variable',
      { sites: { shop: { auth: { mode: 'none' }, apiKey: 'env:SHOP_KEY' } } },
      /sites\.shop\.apiKey: environment variable SHOP_KEY is not set/,
    ],
    [
      'an apiKey from a missing file',
      { sites: { shop: { auth: { mode: 'none' }, apiKey: 'file:/nonexistent/key' } } },
      /sites\.shop\.apiKey: cannot read file '\/nonexistent\/key' \(ENOENT\)/,
    ],
    [
      'a malformed hash',
      { sites: { shop: { auth: { mode: 'none' }, apiKey: 'scrypt:abc' } } },
      /sites\.shop\.apiKey: a scrypt hash must read/,
    ],
  ];
  for (const [what, raw, message] of bad) {
    it(`refuses ${what}, naming the field`, () => {
      const error = parseError(raw);
      expect(error.startsWith(`${SOURCE}: `), error).to.equal(true);
      expect(error).to.match(message);
    });
  }

  it('reads YAML and JSON files, and names the file when it is not parseable', async () => {
    const yaml = await tempFile('sites.yml', 'sites:\n  shop:\n    auth: { mode: none }\n    apiKey: env:SHOP_KEY\n');
    expect((await loadSitesFile(yaml, { SHOP_KEY: 'k' })).sites.map((site) => site.name)).to.deep.equal(['shop']);
    const json = await tempFile('sites.json', '{"sites": {"blog": {"auth": {"mode": "none"}}}}');
    expect((await loadSitesFile(json, {})).sites.map((site) => site.name)).to.deep.equal(['blog']);
    const refusal = async (file: string, message: RegExp): Promise<void> => {
      const err = await rejection(loadSitesFile(file, {}));
      expect(err).to.be.instanceOf(OptionError);
      expect((err as OptionError).message).to.match(message);
    };
    await refusal(await tempFile('x.json', '{"sites": '), /is not valid JSON/);
    await refusal(await tempFile('x.yml', 'sites:\n  a: 1\n  a: 2\n'), /is not valid YAML: Map keys must be unique/);
    await refusal('/nonexistent/sites.yml', /cannot read config file '\/nonexistent\/sites.yml' \(ENOENT\)/);
  });

  it('builds a single site from the environment, and refuses its variables without SITE_NAME', async () => {
    const access = sitesFromEnv({
      SITE_NAME: 'goodcity',
      AUTH_URL: 'https://api.example.com/rooms',
      AUTH_SCHEME: 'Token',
      AUTH_TIMEOUT_MS: '250',
      API_KEY: 'k',
      USER_ROOM_PREFIX: 'user_',
    });
    const site = access?.sites[0];
    expect(site?.auth).to.deep.equal({
      mode: 'token-url',
      url: 'https://api.example.com/rooms',
      scheme: 'Token',
      timeoutMs: 250,
      maxConnections: 16,
      maxResponseBytes: 65536,
    });
    expect(site?.apiKey && (await verifySecret(site.apiKey, 'k'))).to.equal(true);
    expect(sitesFromEnv({ SITE_NAME: 'open' })?.sites[0]?.auth).to.deep.equal({ mode: 'none' });
    expect(sitesFromEnv({})).to.equal(undefined);
    expect(() => sitesFromEnv({ API_KEY: 'k' })).to.throw(OptionError, /API_KEY is set but SITE_NAME is not/);
    expect(() => sitesFromEnv({ SITE_NAME: 's', AUTH_URL: 'x', AUTH_TIMEOUT_MS: 'soon' })).to.throw(
      OptionError,
      /sites\.s\.auth\.timeoutMs must be integer/,
    );
  });
});

describe('secrets (lib/config/secrets.ts)', () => {
  it('verifies clear, env, file and scrypt-hashed secrets, and nothing else', async () => {
    const hash = await hashSecret('s3cret');
    const file = await tempFile('key', 's3cret\n');
    for (const reference of ['s3cret', 'env:KEY', `file:${file}`, hash, 'env:HASHED']) {
      const secret = resolveSecret(reference, { KEY: 's3cret', HASHED: hash });
      expect(await verifySecret(secret, 's3cret'), reference).to.equal(true);
      expect(await verifySecret(secret, 's3crex'), reference).to.equal(false);
      expect(await verifySecret(secret, ''), reference).to.equal(false);
    }
    expect(hash).to.match(/^scrypt:[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$/);
    expect(hash).to.not.include('s3cret');
    expect(await hashSecret('s3cret')).to.not.equal(hash);
  });
});
