import { createRequire } from 'node:module';

const load = createRequire(import.meta.url);

/**
 * A CommonJS package loaded on first use instead of at start-up. For packages only some configurations
 * use (Redis, the admin UI, pretty logs, a sites file, an auth backend): loaded by every process anyway,
 * they cost each one megabytes of code and heap, and a `--workers` machine runs one process per core.
 * Give the type with `import type * as Name from 'package'` and call `lazyPackage<typeof Name>('package')`.
 */
export function lazyPackage<T>(name: string): () => T {
  let loaded: T | undefined;
  return () => (loaded ??= load(name) as T);
}
