import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** The files of a self-signed certificate cache dir. */
export interface CachedPair {
  readonly certFile: string;
  readonly keyFile: string;
}

/**
 * The certificate and key files the service cached in `dir`, found by their content, so that a test does
 * not depend on their names; rejects when either is missing.
 */
export async function cachedPair(dir: string): Promise<CachedPair> {
  const files = await readdir(dir);
  let certFile: string | undefined;
  let keyFile: string | undefined;
  for (const file of files) {
    const text = await readFile(join(dir, file), 'utf8');
    if (text.includes('BEGIN CERTIFICATE')) certFile = join(dir, file);
    else if (text.includes('PRIVATE KEY')) keyFile = join(dir, file);
  }
  if (certFile === undefined || keyFile === undefined) throw new Error(`no certificate and key cached in ${dir}: ${files.join(', ')}`);
  return { certFile, keyFile };
}
