import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onTeardown } from './teardown.js';

/** A new empty directory under the system's temp dir; removed, with whatever is in it, after the current test. */
export async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'realtime-rooms-test-'));
  onTeardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Writes `text` to a file called `name` in a new {@link tempDir}; resolves with the file's path. */
export async function tempFile(name: string, text: string): Promise<string> {
  const file = join(await tempDir(), name);
  await writeFile(file, text);
  return file;
}
