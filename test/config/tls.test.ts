import { expect } from 'chai';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { pino, type Logger } from 'pino';
import { generate } from 'selfsigned';
import { generateSelfSigned, loadTls, type TlsMaterial } from '../../lib/config/tls.js';
import { OptionError } from '../../lib/config/errors.js';
import { httpsGet } from '../support/http.js';
import { startServer } from '../support/server.js';
import { tempDir } from '../support/temp.js';
import { cachedPair } from '../support/tls.js';
import { onTeardown } from '../support/teardown.js';
import { ack, collect, settle, withDeadline } from '../support/wait.js';

const DAY_MS = 24 * 3600 * 1000;

/**
 * The TLS version a client offering at most `maxVersion` gets from 127.0.0.1:`port`, or `refused: <reason>`.
 * SECLEVEL=0 lets this process's OpenSSL offer TLS 1.0/1.1 at all, so that it is the server that refuses.
 */
function negotiated(port: number, maxVersion: tls.SecureVersion): Promise<string> {
  const attempt = new Promise<string>((resolve) => {
    const socket = tls.connect({
      host: '127.0.0.1',
      port,
      rejectUnauthorized: false,
      minVersion: 'TLSv1',
      maxVersion,
      ciphers: 'DEFAULT@SECLEVEL=0',
    });
    socket.once('secureConnect', () => {
      resolve(socket.getProtocol() ?? 'unknown');
      socket.destroy();
    });
    socket.once('error', (err: Error) => resolve(`refused: ${err.message}`));
  });
  return withDeadline(attempt, `a TLS handshake offering at most ${maxVersion}`);
}
/** DER of the sha256WithRSAEncryption OID (1.2.840.113549.1.1.11); Node 20's X509Certificate does not name the algorithm. */
const SHA256_WITH_RSA = Buffer.from('06092a864886f70d01010b', 'hex');

/** Collects what loadTls logs, so that a test can tell a reused certificate from a new one. */
function capturingLogger(): { log: Logger; messages: string[] } {
  const messages: string[] = [];
  const log = pino(
    { level: 'debug' },
    {
      write(line: string) {
        const parsed: unknown = JSON.parse(line);
        if (typeof parsed === 'object' && parsed !== null && 'msg' in parsed && typeof parsed.msg === 'string') messages.push(parsed.msg);
      },
    },
  );
  return { log, messages };
}

/** The names loadTls makes a self-signed certificate for. */
const NAMES = ['localhost', hostname()];

/** Replaces the cached pair with `material`. */
async function overwriteCache(dir: string, material: TlsMaterial): Promise<void> {
  const { certFile, keyFile } = await cachedPair(dir);
  await writeFile(certFile, material.cert);
  await writeFile(keyFile, material.key);
}

/** A cache dir holding a good certificate, made by loadTls itself. */
async function populatedCache(log: Logger): Promise<{ dir: string; material: TlsMaterial }> {
  const dir = await tempDir();
  const material = await loadTls({ kind: 'self-signed', cacheDir: dir }, log);
  return { dir, material };
}

describe('TLS material (lib/config/tls.ts)', () => {
  const silentLog = pino({ level: 'silent' });

  describe('generateSelfSigned', () => {
    it('covers localhost, 127.0.0.1, ::1 and the host name, is signed with sha256 and valid for about a year', async () => {
      const before = Date.now();
      const { cert, key } = await generateSelfSigned(NAMES);
      const x509 = new X509Certificate(cert);
      expect(x509.subjectAltName).to.include('DNS:localhost');
      expect(x509.subjectAltName).to.include(`DNS:${hostname()}`);
      expect(x509.subjectAltName).to.include('IP Address:127.0.0.1');
      expect(x509.checkIP('127.0.0.1')).to.equal('127.0.0.1');
      expect(x509.checkIP('::1')).to.equal('::1');
      expect(x509.checkHost('localhost')).to.equal('localhost');
      expect(x509.checkHost(hostname())).to.equal(hostname());
      expect(x509.checkHost('example.com')).to.equal(undefined);
      // The OID appears in the certificate body and in its outer signature algorithm.
      expect(x509.raw.indexOf(SHA256_WITH_RSA)).to.be.at.least(0);
      expect(x509.raw.lastIndexOf(SHA256_WITH_RSA)).to.be.above(x509.raw.indexOf(SHA256_WITH_RSA));
      const validFrom = Date.parse(x509.validFrom);
      const validTo = Date.parse(x509.validTo);
      // validFrom has a resolution of one second.
      expect(validFrom).to.be.within(before - 1000, Date.now());
      expect(validTo - validFrom).to.be.within(364 * DAY_MS, 366 * DAY_MS);
      expect(x509.ca).to.equal(false);
      expect(key).to.include('PRIVATE KEY');
      expect(x509.checkPrivateKey(createPrivateKey(key))).to.equal(true);
    });
  });

  describe('loadTls, self-signed', () => {
    it('writes the certificate to the cache dir, then reuses it', async () => {
      const { log, messages } = capturingLogger();
      const dir = await tempDir();
      const first = await loadTls({ kind: 'self-signed', cacheDir: dir }, log);
      const { certFile, keyFile } = await cachedPair(dir);
      expect(await readFile(certFile, 'utf8')).to.equal(first.cert);
      expect(await readFile(keyFile, 'utf8')).to.equal(first.key);
      expect(messages.some((msg) => msg.startsWith('generated a self-signed certificate'))).to.equal(true);

      messages.length = 0;
      const second = await loadTls({ kind: 'self-signed', cacheDir: dir }, log);
      expect(second).to.deep.equal(first);
      expect(messages).to.deep.equal(['reusing cached self-signed certificate']);
    });

    it('creates a missing cache dir', async () => {
      const dir = join(await tempDir(), 'nested', 'certs');
      const material = await loadTls({ kind: 'self-signed', cacheDir: dir }, silentLog);
      expect(await readFile((await cachedPair(dir)).certFile, 'utf8')).to.equal(material.cert);
    });

    it('replaces a cached certificate that expires within 30 days', async () => {
      const { dir, material: good } = await populatedCache(silentLog);
      const now = new Date();
      const expiring = await generate([{ name: 'commonName', value: 'localhost' }], {
        algorithm: 'sha256',
        notBeforeDate: now,
        notAfterDate: new Date(now.getTime() + 10 * DAY_MS),
        extensions: [
          {
            name: 'subjectAltName',
            altNames: [...NAMES.map((value) => ({ type: 2 as const, value })), { type: 7 as const, ip: '127.0.0.1' }],
          },
        ],
      });
      await overwriteCache(dir, { cert: expiring.cert, key: expiring.private });

      const renewed = await loadTls({ kind: 'self-signed', cacheDir: dir }, silentLog);
      expect(renewed.cert).not.to.equal(expiring.cert);
      expect(renewed.cert).not.to.equal(good.cert);
      expect(Date.parse(new X509Certificate(renewed.cert).validTo) - Date.now()).to.be.above(360 * DAY_MS);
      expect(await readFile((await cachedPair(dir)).certFile, 'utf8')).to.equal(renewed.cert);
    });

    it('replaces a cached certificate made for another host', async () => {
      const { dir } = await populatedCache(silentLog);
      const foreign = await generate([{ name: 'commonName', value: 'example.com' }], {
        algorithm: 'sha256',
        extensions: [{ name: 'subjectAltName', altNames: [{ type: 2, value: 'example.com' }] }],
      });
      await overwriteCache(dir, { cert: foreign.cert, key: foreign.private });

      const replaced = await loadTls({ kind: 'self-signed', cacheDir: dir }, silentLog);
      expect(replaced.cert).not.to.equal(foreign.cert);
      const x509 = new X509Certificate(replaced.cert);
      for (const name of NAMES) expect(x509.checkHost(name)).to.equal(name);
    });

    it('replaces a cached pair whose key does not belong to the certificate, or that is not PEM', async () => {
      const { dir, material } = await populatedCache(silentLog);
      const other = await generateSelfSigned(NAMES);
      await overwriteCache(dir, { cert: material.cert, key: other.key });
      const repaired = await loadTls({ kind: 'self-signed', cacheDir: dir }, silentLog);
      expect(repaired.cert).not.to.equal(material.cert);
      expect(new X509Certificate(repaired.cert).checkPrivateKey(createPrivateKey(repaired.key))).to.equal(true);

      await overwriteCache(dir, { cert: 'not a certificate\n-----BEGIN CERTIFICATE-----\n', key: 'PRIVATE KEY garbage' });
      const regenerated = await loadTls({ kind: 'self-signed', cacheDir: dir }, silentLog);
      expect(() => new X509Certificate(regenerated.cert)).not.to.throw();
    });

    it('still returns a certificate when the cache dir cannot be written, and warns', async () => {
      // A path below a regular file cannot be created, even by root.
      const blocker = join(await tempDir(), 'a-file');
      await writeFile(blocker, 'not a directory');
      const { log, messages } = capturingLogger();
      const material = await loadTls({ kind: 'self-signed', cacheDir: join(blocker, 'certs') }, log);
      expect(new X509Certificate(material.cert).checkHost('localhost')).to.equal('localhost');
      expect(messages.some((msg) => msg.startsWith('cannot cache the self-signed certificate'))).to.equal(true);
    });

    it('makes a new certificate every time without a cache dir', async () => {
      const first = await loadTls({ kind: 'self-signed', cacheDir: undefined }, silentLog);
      const second = await loadTls({ kind: 'self-signed', cacheDir: undefined }, silentLog);
      expect(second.cert).not.to.equal(first.cert);
    });
  });

  describe('loadTls, files', () => {
    it('reads the given certificate and key files', async () => {
      const dir = await tempDir();
      const material = await generateSelfSigned(['files.test']);
      const certFile = join(dir, 'tls.crt');
      const keyFile = join(dir, 'tls.key');
      await writeFile(certFile, material.cert);
      await writeFile(keyFile, material.key);
      expect(await loadTls({ kind: 'files', certFile, keyFile }, silentLog)).to.deep.equal(material);
    });

    it("rejects with an OptionError naming the file when a file is missing, not PEM, or the key is not the certificate's", async () => {
      const dir = await tempDir();
      const material = await generateSelfSigned(['files.test']);
      const other = await generateSelfSigned(['other.test']);
      const certFile = join(dir, 'tls.crt');
      const keyFile = join(dir, 'tls.key');
      const otherKey = join(dir, 'other.key');
      await writeFile(certFile, material.cert);
      await writeFile(keyFile, material.key);
      await writeFile(otherKey, other.key);
      const cases: [string, string, RegExp][] = [
        [join(dir, 'missing.crt'), keyFile, /cannot read the certificate file '.*missing\.crt' \(ENOENT\)/],
        [certFile, join(dir, 'missing.key'), /cannot read the private key file '.*missing\.key' \(ENOENT\)/],
        [keyFile, keyFile, /not a PEM certificate/],
        [certFile, certFile, /not an unencrypted PEM private key/],
        [certFile, otherKey, /the private key does not belong to the certificate/],
      ];
      for (const [cert, key, gist] of cases) {
        const failure = await loadTls({ kind: 'files', certFile: cert, keyFile: key }, silentLog).then(
          () => undefined,
          (err: unknown) => err,
        );
        expect(failure, `${cert} + ${key}`).to.be.instanceOf(OptionError);
        expect((failure as OptionError).message).to.match(gist);
      }
    });
  });

  describe('createApp with a self-signed certificate', () => {
    it('serves HTTPS and Socket.IO to clients that accept the certificate', async () => {
      const cacheDir = await tempDir();
      const srv = await startServer({ tls: { kind: 'self-signed', cacheDir } });
      expect(srv.url).to.match(/^https:\/\/127\.0\.0\.1:\d+$/);

      const socket = await srv.connect('/layout', { rejectUnauthorized: false });
      expect(await ack(socket, 'JOIN', { room: 'r', name: 'tls' })).to.deep.equal({ ok: true });
      expect(await ack(socket, 'CLIENTS', { room: 'r' })).to.deep.equal({ ok: true, room: 'r', clients: ['tls'] });

      const served = await httpsGet(`${srv.url}/healthcheck`);
      expect(served.status).to.equal(200);
      const cached = new X509Certificate(await readFile((await cachedPair(cacheDir)).certFile, 'utf8'));
      expect(served.fingerprint).to.equal(cached.fingerprint256);
    });

    it('delivers broadcasts over TLS to WebSocket, upgraded and legacy clients, in order', async () => {
      const srv = await startServer({ tls: { kind: 'self-signed', cacheDir: await tempDir() } });
      const clients = await Promise.all([
        srv.connect('/layout', { rejectUnauthorized: false, transports: ['websocket'] }),
        srv.connect('/layout', { rejectUnauthorized: false }),
        srv.connectLegacy('/layout', { rejectUnauthorized: false, transports: ['websocket'] }),
      ]);
      const sender = await srv.connect('/layout', { rejectUnauthorized: false, transports: ['websocket'] });
      for (const [i, client] of clients.entries()) await ack(client, 'JOIN', { room: 'r', name: `c${i}` });
      await ack(sender, 'JOIN', { room: 'r', name: 'sender' });
      const seen = clients.map((client) => collect(client, 'EVENT'));
      for (let message = 0; message < 3; message++) await ack(sender, 'NOTIFY', { room: 'r', message });
      await settle(...clients);
      for (const events of seen) expect(events.map((event) => (event as { message: unknown }).message)).to.deep.equal([0, 1, 2]);
    });

    it("accepts TLS 1.2 and 1.3 and refuses TLS 1.1 and older, whatever Node's process-wide default says", async () => {
      const lowered = tls.DEFAULT_MIN_VERSION;
      // What `--tls-min-v1.0` in NODE_OPTIONS does; the server's own minimum must not follow it.
      tls.DEFAULT_MIN_VERSION = 'TLSv1';
      onTeardown(() => {
        tls.DEFAULT_MIN_VERSION = lowered;
      });
      const srv = await startServer({ tls: { kind: 'self-signed', cacheDir: await tempDir() } });
      const { port } = new URL(srv.url);
      expect(await negotiated(Number(port), 'TLSv1.3')).to.equal('TLSv1.3');
      expect(await negotiated(Number(port), 'TLSv1.2')).to.equal('TLSv1.2');
      for (const old of ['TLSv1.1', 'TLSv1'] as const) {
        expect(await negotiated(Number(port), old)).to.match(/^refused: .*alert protocol version/);
      }
    });

    it('refuses an untrusted self-signed certificate by default', async () => {
      const srv = await startServer({ tls: { kind: 'self-signed', cacheDir: await tempDir() } });
      const failure = await srv.connect('/layout', { transports: ['websocket'] }).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(failure).to.be.instanceOf(Error);
      expect((failure as Error).message).to.match(/cannot connect to https:/);
    });
  });
});
