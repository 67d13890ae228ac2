import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The directory holding this package's package.json, found by walking up from this module: the same
 * code runs from sources (`lib/`) and from the build (`dist/lib/`).
 */
export const packageRoot: string = findPackageRoot(dirname(fileURLToPath(import.meta.url)));

/** What the published documents (the AsyncAPI document) say about the package: fields of package.json. */
export interface PackageManifest {
  readonly version: string;
  readonly description: string;
  readonly license: string;
}

/** The `version`, `description` and `license` of package.json (empty strings for missing ones, `0.0.0` for the version). */
export const packageManifest: PackageManifest = readManifest();

/** The `version` of package.json. */
export const packageVersion: string = packageManifest.version;

function findPackageRoot(start: string): string {
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) return start;
  }
}

function readManifest(): PackageManifest {
  const parsed: unknown = JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8'));
  const field = (name: string): string | undefined => {
    if (typeof parsed !== 'object' || parsed === null) return undefined;
    const value: unknown = Reflect.get(parsed, name);
    return typeof value === 'string' ? value : undefined;
  };
  return { version: field('version') ?? '0.0.0', description: field('description') ?? '', license: field('license') ?? '' };
}
