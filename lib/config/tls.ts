import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { OptionError } from './errors.js';
import type { TlsSource } from './options.js';

/** PEM-encoded key and certificate, as Node's `https` options take them. */
export interface TlsMaterial {
  readonly key: string;
  readonly cert: string;
}

/** A cached self-signed certificate is replaced once it has less than this left. */
const RENEW_BEFORE_MS = 30 * 24 * 3600 * 1000;
const VALIDITY_DAYS = 365;
const KEY_FILE = 'selfsigned.key.pem';
const CERT_FILE = 'selfsigned.cert.pem';

/**
 * Loads the key and certificate for HTTPS: from the given files, or a self-signed certificate cached in
 * `cacheDir` and regenerated when missing, near expiry, not covering this host name, or not matching its key.
 *
 * @throws OptionError when given files cannot be read, are not PEM, or the key does not match the certificate.
 */
export async function loadTls(source: TlsSource, log: Logger): Promise<TlsMaterial> {
  if (source.kind === 'files') {
    // One after the other: with both unreadable, the error always names the certificate (in parallel,
    // whichever read failed first won, and the CLI test of that case was flaky under load).
    const cert = await readTlsFile(source.certFile, 'certificate');
    const key = await readTlsFile(source.keyFile, 'private key');
    // Checked here so that a wrong file is a clear usage error, not a stack trace from deep inside `https`.
    const problem = mismatch({ cert, key });
    if (problem) throw new OptionError(`cannot use certificate '${source.certFile}' with key '${source.keyFile}': ${problem}`);
    return { cert, key };
  }
  const names = ['localhost', hostname()];
  const cached = source.cacheDir ? await readCached(source.cacheDir, names) : undefined;
  if (cached) {
    log.debug({ dir: source.cacheDir }, 'reusing cached self-signed certificate');
    return cached;
  }
  const material = await generateSelfSigned(names);
  if (source.cacheDir) {
    try {
      await mkdir(source.cacheDir, { recursive: true });
      await writeFile(join(source.cacheDir, KEY_FILE), material.key, { mode: 0o600 });
      await writeFile(join(source.cacheDir, CERT_FILE), material.cert);
    } catch (err) {
      log.warn({ err, dir: source.cacheDir }, 'cannot cache the self-signed certificate; a new one is made at every start');
    }
  }
  log.info({ dir: source.cacheDir, names }, 'generated a self-signed certificate (clients need rejectUnauthorized: false)');
  return material;
}

/** The oldest TLS version `--https` accepts. */
export const TLS_MIN_VERSION = 'TLSv1.2';

/**
 * The options of the HTTPS server: the material, and TLS 1.2 as the oldest version, set here rather than
 * left to Node's process-wide `tls.DEFAULT_MIN_VERSION`, which `--tls-min-v1.0` in `NODE_OPTIONS` lowers.
 * The ciphers are Node's defaults (`tls.DEFAULT_CIPHERS`: the TLS 1.3 suites, then ECDHE/DHE with AES-GCM
 * first; no RC4, DES, MD5, export, anonymous or PSK suites); see SECURITY.md.
 */
export function httpsOptions(material: TlsMaterial): TlsMaterial & { readonly minVersion: typeof TLS_MIN_VERSION } {
  return { key: material.key, cert: material.cert, minVersion: TLS_MIN_VERSION };
}

/** Makes a sha256 self-signed certificate for `names` plus 127.0.0.1 and ::1. */
export async function generateSelfSigned(names: readonly string[]): Promise<TlsMaterial> {
  const notBeforeDate = new Date();
  const notAfterDate = new Date(notBeforeDate.getTime() + VALIDITY_DAYS * 24 * 3600 * 1000);
  // Loaded here: only a server that makes its own certificate needs it.
  const { generate } = await import('selfsigned');
  const pems = await generate([{ name: 'commonName', value: names[0] ?? 'localhost' }], {
    algorithm: 'sha256',
    keySize: 2048,
    notBeforeDate,
    notAfterDate,
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          ...[...new Set(names)].map((value) => ({ type: 2 as const, value })),
          { type: 7 as const, ip: '127.0.0.1' },
          { type: 7 as const, ip: '::1' },
        ],
      },
    ],
  });
  return { key: pems.private, cert: pems.cert };
}

async function readCached(dir: string, names: readonly string[]): Promise<TlsMaterial | undefined> {
  let material: TlsMaterial;
  try {
    const [key, cert] = await Promise.all([readFile(join(dir, KEY_FILE), 'utf8'), readFile(join(dir, CERT_FILE), 'utf8')]);
    material = { key, cert };
  } catch {
    return undefined;
  }
  // A pair half-written by an interrupted start must be regenerated, not make every later start fail.
  if (mismatch(material)) return undefined;
  const x509 = new X509Certificate(material.cert);
  const fresh = Date.parse(x509.validTo) - Date.now() > RENEW_BEFORE_MS;
  const covers = names.every((name) => x509.checkHost(name) !== undefined);
  return fresh && covers ? material : undefined;
}

async function readTlsFile(file: string, what: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw new OptionError(`cannot read the ${what} file '${file}' (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

/** Why `material` cannot serve HTTPS (not PEM, or a key of another certificate), or undefined when it can. */
function mismatch(material: TlsMaterial): string | undefined {
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(material.cert);
  } catch {
    return 'the certificate is not a PEM certificate';
  }
  try {
    return x509.checkPrivateKey(createPrivateKey(material.key)) ? undefined : 'the private key does not belong to the certificate';
  } catch {
    return 'the private key is not an unencrypted PEM private key';
  }
}
