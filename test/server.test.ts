import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { envSetting, OPTION_ENTRIES } from '../lib/config/option-table.js';
import { SITE_ENV } from '../lib/config/sites-env.js';
import { CHILD_DEADLINE_MS, expectUsageError, repoRoot, runCli, startCli, type CliServer } from './support/cli.js';
import { SHUTDOWN_DEADLINE_MS } from './support/deadlines.js';
import { httpsGet, postSend } from './support/http.js';
import { connectV4 } from './support/server.js';
import { onTeardown } from './support/teardown.js';
import { tempDir } from './support/temp.js';
import { cachedPair } from './support/tls.js';
import { ack, next, withDeadline } from './support/wait.js';

const FLAGS = [
  '--version',
  '--port',
  '--host',
  '--https',
  '--cert',
  '--key',
  '--cert-dir',
  '--verbose',
  '--log-level',
  '--log-format',
  '--max-payload',
  '--cors-origin',
  '--max-rooms',
  '--max-id-length',
  '--config',
  '--redis',
  '--database',
  '--redis-prefix',
  '--help',
];

function packageVersion(): string {
  const parsed: unknown = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'));
  if (typeof parsed !== 'object' || parsed === null || !('version' in parsed) || typeof parsed.version !== 'string') {
    throw new Error('package.json has no version');
  }
  return parsed.version;
}

/** The entries of the Options section of `--help`, each an option's lines joined (commander wraps at 80 columns). */
function helpEntries(help: string): string[] {
  const section = help.slice(help.indexOf('Options:\n') + 'Options:\n'.length, help.indexOf('\n\n', help.indexOf('Options:\n')));
  // An entry starts with its flags two columns in; its wrapped lines are indented further.
  return section.split(/\n(?= {2}-)/).map((entry) => entry.trim().replace(/\s+/g, ' '));
}

/** Listens on 127.0.0.1, port 0, closed after the test: a port known to be taken. */
async function occupyPort(): Promise<number> {
  const server: Server = createServer();
  await withDeadline(new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve)), 'a net.Server to listen');
  onTeardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return (server.address() as AddressInfo).port;
}

/** The certificate the CLI cached in `dir`. */
async function cachedCert(dir: string): Promise<X509Certificate> {
  return new X509Certificate(await readFile((await cachedPair(dir)).certFile, 'utf8'));
}

describe('CLI (server.ts)', () => {
  describe('--help and --version', () => {
    it('--help exits 0 and lists every flag, the environment variables and the examples', async () => {
      const exit = await runCli(['--help']);
      expect(exit.code, exit.stderr).to.equal(0);
      expect(exit.stderr).to.equal('');
      expect(exit.stdout).to.include('Usage: realtime-rooms');
      for (const flag of FLAGS) expect(exit.stdout).to.include(flag);
      for (const variable of [
        'PORT',
        'HOST',
        'TLS_CERT',
        'TLS_KEY',
        'CERT_DIR',
        'LOG_LEVEL',
        'MAX_PAYLOAD',
        'CORS_ORIGIN',
        'HTTPS=true',
        'REDIS_URL',
        'REDIS_DB',
        'REDIS_PREFIX',
      ]) {
        // commander wraps the help text at 80 columns, so the variable may follow a line break.
        expect(exit.stdout).to.match(new RegExp(`env:\\s+${variable}`));
      }
      expect(exit.stdout).to.include('Examples (');
      expect(exit.stdout).to.include('$ realtime-rooms --https');
      // The bin is not on PATH in a clone: the help says what runs there.
      expect(exit.stdout).to.include('node dist/server.js or npm link');
      expect(exit.stdout).to.match(/Flags win over environment variables/);
    });

    it('--help shows every option of the table with its variable and its default', async () => {
      const exit = await runCli(['--help']);
      expect(exit.code, exit.stderr).to.equal(0);
      const entries = helpEntries(exit.stdout);
      for (const [name, spec] of OPTION_ENTRIES) {
        const entry = entries.find((text) => text.startsWith(`${spec.flags} `));
        expect(entry, `--help lists ${spec.flags}`).to.be.a('string');
        expect(entry, `${spec.flags}`).to.include(spec.help);
        // The one default only the running CLI knows: the certs/ folder of the package.
        const fallback = spec.kind === 'value' ? (spec.default ?? (name === 'certDir' ? join(repoRoot, 'certs') : undefined)) : undefined;
        const extra =
          fallback === undefined ? ` (env: ${envSetting(spec)})` : `default: ${JSON.stringify(fallback)}, env: ${envSetting(spec)})`;
        expect(entry?.slice(-extra.length), `${spec.flags}`).to.equal(extra);
      }
      for (const name of Object.keys(SITE_ENV)) expect(exit.stdout, `the single-site variable ${name}`).to.include(name);
    });

    for (const flag of ['-V', '--version']) {
      it(`${flag} exits 0 and prints package.json's version`, async () => {
        const exit = await runCli([flag]);
        expect(exit.code, exit.stderr).to.equal(0);
        expect(exit.stdout.trim()).to.equal(packageVersion());
      });
    }
  });

  describe('bad input: one error line on stderr and exit code 2', () => {
    const cases: { name: string; args: string[]; env?: Record<string, string>; gist: RegExp }[] = [
      { name: 'a port that is not a number', args: ['-p', 'abc'], gist: /port must be an integer from 0 to 65535, got 'abc'/ },
      { name: 'a port above 65535', args: ['--port', '70000'], gist: /port must be an integer from 0 to 65535, got '70000'/ },
      { name: 'PORT=abc in the environment', args: [], env: { PORT: 'abc' }, gist: /env 'PORT'.*got 'abc'/ },
      { name: 'an unknown log level', args: ['--log-level', 'loud'], gist: /log level must be one of .*got 'loud'/ },
      { name: 'an unknown flag', args: ['--bogus'], gist: /unknown option '--bogus'/ },
      { name: 'a stray argument', args: ['3000'], gist: /too many arguments/ },
      { name: '--cert without --key', args: ['-p', '0', '--cert', 'tls.crt'], gist: /--cert and --key must be given together/ },
      {
        name: 'a missing certificate file',
        args: ['-p', '0', '--cert', 'no-such-dir/tls.crt', '--key', 'no-such-dir/tls.key'],
        gist: /cannot read --cert file 'no-such-dir\/tls.crt' \(ENOENT\)/,
      },
      {
        name: 'a certificate file that is not PEM',
        args: ['-p', '0', '--cert', 'package.json', '--key', 'package.json'],
        gist: /not a PEM certificate/,
      },
      {
        name: 'a directory as the certificate',
        args: ['-p', '0', '--cert', 'lib', '--key', 'lib'],
        gist: /cannot read the certificate file 'lib' \(EISDIR\)/,
      },
      {
        name: 'HTTPS=maybe in the environment',
        args: ['-p', '0'],
        env: { HTTPS: 'maybe' },
        gist: /HTTPS must be true or false, got 'maybe'/,
      },
      {
        name: 'VERBOSE=sometimes in the environment',
        args: ['-p', '0'],
        env: { VERBOSE: 'sometimes' },
        gist: /VERBOSE must be true or false/,
      },
      {
        name: 'FAST_PATH=fast in the environment',
        args: ['-p', '0'],
        env: { FAST_PATH: 'fast' },
        gist: /FAST_PATH must be true or false, got 'fast'/,
      },
      { name: 'a payload size with an unknown unit', args: ['--max-payload', '12zb'], gist: /size must be a number of bytes.*got '12zb'/ },
      { name: 'a payload size of 0', args: ['--max-payload', '0'], gist: /size must be at least 1 byte/ },
      {
        name: 'an outbound bound below the largest message',
        args: ['-p', '0', '--max-payload', '2mb', '--max-outbound', '1mb'],
        gist: /--max-outbound \(1000000\) must be at least --max-payload \(2000000\): one message must fit/,
      },
      {
        name: 'MAX_OUTBOUND below MAX_PAYLOAD in the environment',
        args: ['-p', '0'],
        env: { MAX_PAYLOAD: '64kb', MAX_OUTBOUND: '32kb' },
        gist: /--max-outbound \(\d+\) must be at least --max-payload \(\d+\)/,
      },
      {
        name: 'a CORS origin that is not a URL',
        args: ['--cors-origin', 'ftp://example.com'],
        gist: /cors origin must look like https:\/\/host/,
      },
      {
        name: 'a CORS origin with a path',
        args: ['--cors-origin', 'https://a.example,https://b.example/app'],
        gist: /got 'https:\/\/b\.example\/app'/,
      },
      { name: 'an unknown log format', args: ['--log-format', 'xml'], gist: /'xml' is invalid.*json/ },
      { name: 'a non-positive room limit', args: ['--max-rooms', '0'], gist: /max rooms must be a positive integer/ },
      {
        name: 'a Redis URL of another scheme',
        args: ['-r', 'http://localhost:6379'],
        gist: /redis URL must start with redis:\/\/ or rediss:\/\/, got 'http:\/\/localhost:6379'/,
      },
      {
        name: 'REDIS_URL that is not a URL',
        args: [],
        env: { REDIS_URL: 'localhost' },
        gist: /redis must be a URL such as redis:\/\/localhost:6379, got 'localhost'/,
      },
      {
        name: 'a Redis database that is not a number',
        args: ['-r', 'redis://localhost', '-d', 'one'],
        gist: /database must be an integer of 0 or more, got 'one'/,
      },
      {
        name: '--database without --redis',
        args: ['-p', '0', '--database', '2'],
        gist: /--database \(REDIS_DB\) needs --redis \(REDIS_URL\)/,
      },
      {
        name: 'an empty Redis prefix',
        args: ['-p', '0', '-r', 'redis://localhost', '--redis-prefix', ' '],
        gist: /--redis-prefix must not be empty/,
      },
    ];
    for (const { name, args, env, gist } of cases) {
      it(`rejects ${name}`, async () => {
        expectUsageError(await runCli(args, { env }), gist);
      });
    }

    it('suggests the closest flag for a misspelt one', async () => {
      const exit = await runCli(['--prot', '0']);
      expect(exit.code, exit.stderr).to.equal(2);
      expect(exit.stderr).to.equal("error: unknown option '--prot'\n(Did you mean --port?)\n");
    });
  });

  describe('flags and environment', () => {
    it('lets flags win over environment variables', async () => {
      const taken = await occupyPort();
      // If the environment won, the service would fail on the taken port, or log nothing at all.
      const srv = await startCli(['-H', '127.0.0.1', '-p', '0', '--log-level', 'info'], {
        env: { PORT: String(taken), LOG_LEVEL: 'silent', HOST: '::1' },
      });
      expect(srv.url).to.match(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(srv.port).to.be.above(0).and.not.equal(taken);
    });

    it('reads its settings from the environment when no flag is given', async () => {
      const srv = await startCli([], { env: { HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'debug', HTTPS: 'false' } });
      expect(srv.url).to.match(/^http:\/\/127\.0\.0\.1:\d+$/);
      // LOG_LEVEL=debug took effect: a client connecting is logged at debug level (pino's 20).
      expect(srv.logs.filter((line) => line.level === 20)).to.deep.equal([]);
      await connectV4(`${srv.url}/layout`);
      await srv.waitForLog((line) => line.level === 20, 'a debug line about the connection');
    });

    // Whether the patches are installed is not visible from outside (readFlags' tests cover the switch):
    // this shows the flag and the variable are accepted and the service works without them.
    for (const [how, args, env] of [
      ['--no-fast-path', ['--no-fast-path'], {}],
      ['FAST_PATH=off', [], { FAST_PATH: 'off' }],
    ] as const) {
      it(`starts and serves rooms with ${how}`, async () => {
        const srv = await startCli(['-H', '127.0.0.1', '-p', '0', ...args], { env });
        const socket = await connectV4(`${srv.url}/layout`);
        expect(await ack(socket, 'JOIN', { room: 'r', name: 'plain' })).to.deep.equal({ ok: true });
        expect(await ack(socket, 'CLIENTS', { room: 'r' })).to.deep.equal({ ok: true, room: 'r', clients: ['plain'] });
      });
    }
  });

  describe('runtime failures', () => {
    it('reports a port already in use in one line, without a stack trace, and exits 1', async () => {
      const taken = await occupyPort();
      const exit = await runCli(['-H', '127.0.0.1', '-p', String(taken)]);
      expect(exit.code, exit.stderr).to.equal(1);
      expect(exit.stderr.trim().split('\n'), exit.stderr).to.have.lengthOf(1);
      expect(exit.stderr).to.match(new RegExp(`^error: port ${taken} is already in use.*--port`));
      expect(exit.stderr).not.to.match(/\n\s+at /);
    });
  });

  describe('--https', () => {
    it('serves HTTPS and Socket.IO with a self-signed certificate, cached and reused at the next start', async () => {
      const certDir = await tempDir();
      const first = await startCli(['-H', '127.0.0.1', '-p', '0', '--https', '--cert-dir', certDir]);
      expect(first.url).to.match(/^https:\/\/127\.0\.0\.1:\d+$/);

      const health = await httpsGet(`${first.url}/healthcheck`);
      expect(health.status).to.equal(200);
      expect(health.body).to.equal('OK');
      const cert = await cachedCert(certDir);
      expect(health.fingerprint).to.equal(cert.fingerprint256);
      expect(
        first.logs.some((line) => typeof line.msg === 'string' && line.msg.startsWith('generated a self-signed certificate')),
      ).to.equal(true);

      const socket = await connectV4(`${first.url}/layout`, { rejectUnauthorized: false });
      expect(await ack(socket, 'JOIN', { room: 'r', name: 'secure' })).to.deep.equal({ ok: true });
      expect(await ack(socket, 'CLIENTS', { room: 'r' })).to.deep.equal({ ok: true, room: 'r', clients: ['secure'] });
      socket.disconnect();

      first.child.kill('SIGTERM');
      expect((await withDeadline(first.exited, 'the first server to exit', CHILD_DEADLINE_MS)).code).to.equal(0);

      const second = await startCli(['-H', '127.0.0.1', '-p', '0', '-S', '--cert-dir', certDir]);
      expect((await httpsGet(`${second.url}/healthcheck`)).fingerprint).to.equal(cert.fingerprint256);
      expect((await cachedCert(certDir)).fingerprint256).to.equal(cert.fingerprint256);
      expect(
        second.logs.some((line) => typeof line.msg === 'string' && line.msg.startsWith('generated a self-signed certificate')),
      ).to.equal(false);
    });

    it('serves the given --cert/--key files', async () => {
      const certDir = await tempDir();
      // A first start generates a pair; the second serves exactly those files.
      const generator = await startCli(['-H', '127.0.0.1', '-p', '0', '--https', '--cert-dir', certDir]);
      generator.child.kill('SIGTERM');
      await withDeadline(generator.exited, 'the generating server to exit', CHILD_DEADLINE_MS);
      const { certFile, keyFile } = await cachedPair(certDir);
      const cert = new X509Certificate(await readFile(certFile, 'utf8'));

      const srv = await startCli(['-H', '127.0.0.1', '-p', '0', '--cert', certFile, '--key', keyFile]);
      expect(srv.url).to.match(/^https:/);
      expect((await httpsGet(`${srv.url}/healthcheck`)).fingerprint).to.equal(cert.fingerprint256);
    });
  });

  describe('signals', () => {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      it(`${signal} disconnects the clients and exits 0 within 5 s`, async () => {
        const srv: CliServer = await startCli(['-H', '127.0.0.1', '-p', '0']);
        const socket = await connectV4(`${srv.url}/layout`);
        expect(await ack(socket, 'JOIN', { room: 'r', name: 'A' })).to.deep.equal({ ok: true });
        const disconnected = next<string>(socket, 'disconnect', SHUTDOWN_DEADLINE_MS);
        srv.child.kill(signal);
        const exit = await withDeadline(srv.exited, `exit after ${signal}`, SHUTDOWN_DEADLINE_MS);
        expect(exit.code, exit.stderr).to.equal(0);
        expect(exit.signal).to.equal(null);
        expect(exit.stderr).to.equal('');
        expect(await disconnected).to.be.a('string');
        expect(srv.logs.map((line) => line.msg)).to.include.members(['shutting down: disconnecting clients', 'stopped']);
        expect(srv.logs.find((line) => line.msg === 'shutting down: disconnecting clients')?.signal).to.equal(signal);
      });
    }
  });

  describe('the built entry point', () => {
    it('node dist/server.js --help exits 0', async () => {
      if (!existsSync(join(repoRoot, 'dist', 'server.js'))) {
        throw new Error('dist/server.js does not exist: run `npm run build` first (npm test builds before mocha)');
      }
      const exit = await runCli(['--help'], { entry: 'dist/server.js' });
      expect(exit.code, exit.stderr).to.equal(0);
      expect(exit.stdout).to.include('Usage: realtime-rooms');
      expect(exit.stdout).to.include('Examples (');
    });

    it("starts without loading fastify's schema compilers (ajv and its kin): no route uses them", async () => {
      if (!existsSync(join(repoRoot, 'dist', 'server.js'))) {
        throw new Error('dist/server.js does not exist: run `npm run build` first (npm test builds before mocha)');
      }
      // A fresh process: this one has loaded ajv for the JSON Schema tests.
      const script = [
        "import { createRequire } from 'node:module';",
        `const { createApp } = await import(${JSON.stringify(join(repoRoot, 'dist/lib/app.js'))});`,
        "const app = await createApp({ port: 0, host: '127.0.0.1', logLevel: 'silent' });",
        'await app.listen();',
        `const cache = createRequire(${JSON.stringify(join(repoRoot, 'package.json'))}).cache;`,
        'const loaded = Object.keys(cache).filter((file) => /node_modules[\\/](ajv|@fastify[\\/]ajv-compiler|@fastify[\\/]fast-json-stringify-compiler)[\\/]/.test(file));',
        'await app.close();',
        'process.stdout.write(JSON.stringify(loaded));',
      ].join('\n');
      const { stdout } = await withDeadline(
        promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { cwd: repoRoot }),
        'the child service to start and stop',
        CHILD_DEADLINE_MS,
      );
      expect(JSON.parse(stdout)).to.deep.equal([]);
    });

    it('node dist/server.js -V prints the version', async () => {
      if (!existsSync(join(repoRoot, 'dist', 'server.js'))) {
        throw new Error('dist/server.js does not exist: run `npm run build` first (npm test builds before mocha)');
      }
      const exit = await runCli(['-V'], { entry: 'dist/server.js' });
      expect(exit.code, exit.stderr).to.equal(0);
      expect(exit.stdout.trim()).to.equal(packageVersion());
    });
  });

  describe('--config and the single-site environment form', () => {
    const badConfigs: [string, string, Record<string, string>, RegExp][] = [
      [
        'an unknown field',
        'sites:\n  shop:\n    auth: { mode: none }\n    apikey: k\n',
        {},
        /config file '.*sites\.yml': sites\.shop\.apikey is not a known field/,
      ],
      ['a file that is not YAML', 'sites: [\n', {}, /config file '.*sites\.yml' is not valid YAML/],
      [
        'a secret from an unset variable',
        'sites:\n  shop:\n    auth: { mode: none }\n    apiKey: env:SHOP_KEY\n',
        {},
        /sites\.shop\.apiKey: environment variable SHOP_KEY is not set/,
      ],
      ['both --config and SITE_NAME', 'sites: {}\n', { SITE_NAME: 'shop' }, /either in --config or with SITE_NAME/],
    ];
    for (const [what, text, env, gist] of badConfigs) {
      it(`exits 2 naming the field for ${what}`, async () => {
        const file = join(await tempDir(), 'sites.yml');
        await writeFile(file, text);
        expectUsageError(await runCli(['--port', '0', '--config', file], { env }), gist);
      });
    }

    it('exits 2 for a missing config file and for bad single-site variables', async () => {
      expectUsageError(
        await runCli(['--port', '0', '--config', '/nonexistent/sites.yml']),
        /cannot read config file '\/nonexistent\/sites\.yml' \(ENOENT\)/,
      );
      expectUsageError(await runCli(['--port', '0'], { env: { AUTH_URL: 'http://x' } }), /AUTH_URL is set but SITE_NAME is not/);
      expectUsageError(
        await runCli(['--port', '0'], { env: { SITE_NAME: 'shop', AUTH_URL: 'nope' } }),
        /environment \(SITE_NAME=shop\): sites\.shop\.auth\.url must be an http\(s\) URL/,
      );
    });

    it('serves the sites of a YAML file, and logs neither the API key nor a token', async () => {
      const dir = await tempDir();
      const file = join(dir, 'sites.yml');
      await writeFile(join(dir, 'key'), 'file-key-123\n');
      await writeFile(file, `sites:\n  shop:\n    auth: { mode: none }\n    apiKey: file:${join(dir, 'key')}\n`);
      const srv = await startCli(['--port', '0', '--host', '127.0.0.1', '--config', file, '--log-level', 'trace']);
      const listening = srv.logs.find((line) => typeof line.msg === 'string' && line.msg.startsWith('listening on'));
      expect(listening?.sites).to.deep.equal(['shop']);
      const socket = await connectV4(`${srv.url}/shop`, { auth: { token: 'tok-456' } });
      const res = await postSend(srv, 'site=shop&apiKey=file-key-123', { rooms: ['r'], event: 'e' }, {});
      expect(res.body).to.deep.equal({ ok: true, delivered: 0 });
      expect(await ack(socket, 'anything')).to.have.nested.property('error.code', 'BAD_REQUEST');
      await srv.waitForLog((line) => line.msg === 'request completed', 'the push request to complete');
      expect(srv.logs.length).to.be.greaterThan(3);
      const all = JSON.stringify(srv.logs) + srv.stderr();
      expect(all).to.not.include('file-key-123');
      expect(all).to.not.include('tok-456');
    });

    it('serves a single site described by environment variables', async () => {
      const srv = await startCli(['--port', '0', '--host', '127.0.0.1'], { env: { SITE_NAME: 'goodcity', API_KEY: 'env-key' } });
      const res = await postSend(srv, 'site=goodcity', '{"rooms":["r"],"event":"e"}', { authorization: 'Bearer env-key' });
      expect(res.status).to.equal(200);
    });
  });
});
