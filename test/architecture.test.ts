import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { expect } from 'chai';
import { repoRoot } from './support/cli.js';

/**
 * The import direction of ARCHITECTURE.md, enforced: a folder imports only folders of a lower layer (or
 * itself), interface files (`types.ts`) are the one seam any layer may import, only `cluster/index.ts`
 * imports the cluster implementations, and no file reaches itself through its imports, type imports
 * included.
 */
const LAYERS: Readonly<Record<string, number>> = {
  protocol: 0,
  // Beside lib/, not under it: the SDK may use protocol/ alone (its own test below).
  client: 0.5,
  'lib/core': 1,
  'lib/engine': 2,
  'lib/config': 2,
  'lib/cluster': 3,
  'lib/auth': 3,
  'lib/http': 3,
  'lib/runtime': 3,
  'lib/limits': 3,
  'lib/metrics': 3,
  // Above the cluster backend, whose Redis client the device queue uses; below the sites that deliver through it.
  'lib/delivery': 3.5,
  'lib/namespaces': 4,
  'lib/sites': 4,
  // A namespace like the protocol ones, behind the auth budget and the secrets.
  'lib/admin': 4,
  lib: 5,
  '.': 6,
};

/** Every TypeScript source of the service (not tests, not the benchmark). */
function sources(): string[] {
  const found = ['server.ts'];
  const walk = (dir: string): void => {
    for (const name of readdirSync(join(repoRoot, dir))) {
      const path = join(dir, name);
      if (statSync(join(repoRoot, path)).isDirectory()) walk(path);
      else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) found.push(path);
    }
  };
  walk('lib');
  walk('protocol');
  walk('client');
  return found;
}

/** The specifiers `file` imports or re-exports, `import type` included. */
function specifiersOf(file: string): string[] {
  const source = readFileSync(join(repoRoot, file), 'utf8');
  const pattern = /^\s*(?:import|export)\b[^;]*?\bfrom\s+'([^']+)'|^\s*import\s+'([^']+)'|\bimport\(\s*'([^']+)'\s*\)/gm;
  return [...source.matchAll(pattern)].map((match) => match[1] ?? match[2] ?? match[3] ?? '');
}

/** The repository-relative source an in-repo specifier of `file` names, or undefined for a package. */
function resolveLocal(file: string, specifier: string): string | undefined {
  if (!specifier.startsWith('.')) return undefined;
  return relative(repoRoot, resolve(repoRoot, dirname(file), specifier.replace(/\.js$/, '.ts')));
}

function layerOf(file: string): string {
  return dirname(file);
}

const graph = new Map(
  sources().map((file) => [
    file,
    specifiersOf(file)
      .map((s) => resolveLocal(file, s))
      .filter((t): t is string => t !== undefined),
  ]),
);

describe('architecture', () => {
  it('knows the layer of every folder of lib/, protocol/ and client/', () => {
    for (const file of graph.keys())
      expect(LAYERS, `${file} is in a folder with no layer in test/architecture.test.ts`).to.have.property(layerOf(file));
  });

  it('imports point down the layers: protocol ← core ← engine, config ← features ← app ← server.ts', () => {
    const wrong: string[] = [];
    for (const [file, targets] of graph) {
      const from = layerOf(file);
      for (const target of targets) {
        const to = layerOf(target);
        if (to === from || target.endsWith('/types.ts')) continue;
        if ((LAYERS[to] ?? Infinity) >= (LAYERS[from] ?? -Infinity)) wrong.push(`${file} → ${target}`);
      }
    }
    expect(wrong).to.deep.equal([]);
  });

  it('keeps interface files free of implementations: a types.ts imports only protocol/ and other types.ts', () => {
    const wrong: string[] = [];
    for (const [file, targets] of graph) {
      if (!file.endsWith('/types.ts')) continue;
      for (const target of targets) if (!target.endsWith('/types.ts') && !target.startsWith('protocol/')) wrong.push(`${file} → ${target}`);
    }
    expect(wrong).to.deep.equal([]);
  });

  it('keeps interface files to types: a types.ts exports no function, class or value', () => {
    const wrong: string[] = [];
    for (const file of graph.keys()) {
      if (!file.endsWith('/types.ts')) continue;
      const source = readFileSync(join(repoRoot, file), 'utf8');
      for (const match of source.matchAll(/^export\s+(?:async\s+)?(function|class|const|let|var|enum)\s+(\w+)/gm))
        wrong.push(`${file}: ${match[1]} ${match[2]}`);
    }
    expect(wrong).to.deep.equal([]);
  });

  it('reaches the cluster backends only through cluster/index.ts (the one factory) and cluster/types.ts', () => {
    const wrong: string[] = [];
    for (const [file, targets] of graph) {
      if (file.startsWith('lib/cluster/')) continue;
      for (const target of targets) {
        if (target.startsWith('lib/cluster/') && target !== 'lib/cluster/index.ts' && target !== 'lib/cluster/types.ts')
          wrong.push(`${file} → ${target}`);
      }
    }
    expect(wrong).to.deep.equal([]);
  });

  it('has no import cycles, type imports included', () => {
    const cycles: string[] = [];
    const state = new Map<string, 'visiting' | 'done'>();
    const visit = (file: string, path: string[]): void => {
      if (state.get(file) === 'done') return;
      if (state.get(file) === 'visiting') {
        cycles.push([...path.slice(path.indexOf(file)), file].join(' → '));
        return;
      }
      state.set(file, 'visiting');
      for (const target of graph.get(file) ?? []) visit(target, [...path, file]);
      state.set(file, 'done');
    };
    for (const file of graph.keys()) visit(file, []);
    expect(cycles).to.deep.equal([]);
  });

  it('keeps lib/ a house of folders: at most a handful of files at its root', () => {
    const root = readdirSync(join(repoRoot, 'lib')).filter((name) => name.endsWith('.ts'));
    expect(root.length, root.join(', ')).to.be.at.most(3);
  });

  it('keeps protocol/ free of server code: it imports only typebox and its own files', () => {
    for (const file of graph.keys()) {
      if (!file.startsWith('protocol/')) continue;
      for (const specifier of specifiersOf(file))
        expect(specifier, `${file} imports ${specifier}`).to.match(/^(typebox(\/.*)?|\.\/[a-z-]+\.js)$/);
    }
  });

  it('keeps client/ free of server code: it imports only protocol/, socket.io-client and its own files', () => {
    const clientFiles = [...graph.keys()].filter((file) => file.startsWith('client/'));
    expect(clientFiles).to.include('client/index.ts');
    for (const file of clientFiles) {
      for (const specifier of specifiersOf(file))
        expect(specifier, `${file} imports ${specifier}`).to.match(/^(socket\.io-client|\.\/[a-z-]+\.js|\.\.\/protocol\/[a-z-]+\.js)$/);
    }
  });

  it('loads the optional packages only where they are chosen: lib/ and server.ts import them as types or with import()', () => {
    // Start-up time: each is module loading that a service without its option never needs before its port opens.
    const OPTIONAL = [
      'redis',
      '@socket.io/redis-streams-adapter',
      '@socket.io/cluster-adapter',
      '@socket.io/sticky',
      '@socket.io/admin-ui',
      'selfsigned',
      'yaml',
      'jose',
      'undici',
      'pino-pretty',
    ];
    const staticValue = /^\s*(?:import|export)\s+(?!type\b)[^;]*?\bfrom\s+'([^']+)'/gm;
    const wrong = [...graph.keys()]
      .filter((file) => !file.startsWith('client/') && !file.startsWith('protocol/'))
      .flatMap((file) =>
        [...readFileSync(join(repoRoot, file), 'utf8').matchAll(staticValue)]
          .map((match) => match[1] ?? '')
          .filter((specifier) => OPTIONAL.includes(specifier))
          .map((specifier) => `${file} imports ${specifier}`),
      );
    expect(wrong).to.deep.equal([]);
  });

  it('leaves client/ out of the service: nothing in lib/ or server.ts imports it', () => {
    const wrong = [...graph].flatMap(([file, targets]) =>
      file.startsWith('client/') ? [] : targets.filter((target) => target.startsWith('client/')).map((target) => `${file} → ${target}`),
    );
    expect(wrong).to.deep.equal([]);
  });
});
