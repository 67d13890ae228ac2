import { copyFile, mkdir, symlink } from 'node:fs/promises';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, join } from 'node:path';
import { expect } from 'chai';
import { GENERATE_COMMAND } from '../../scripts/generate.js';
import { exampleBlocks, fenceLanguage, withExamples } from '../../scripts/readme-examples.js';
import { repoRoot, runCli } from '../support/cli.js';
import { parseSitesFile } from '../../lib/config/sites-file.js';
import { tokenBackend } from '../support/backend.js';
import { startServer, type TestServer } from '../support/server.js';
import { tempDir } from '../support/temp.js';

/**
 * What each example prints, grouped by the first word of its lines (the peer or device that printed them):
 * the lines of one group come in this order; the groups may interleave, as the sockets of two peers do.
 */
const PRINTS: Readonly<Record<string, Readonly<Record<string, readonly string[]>>>> = {
  'examples/sdk-layout.ts': {
    tv: [
      "tv received EVENT from phone in living-room: { layout: 'split' }",
      "tv asked clients: [ 'tv', 'phone' ]",
      'tv was refused: BAD_REQUEST',
    ],
  },
  'examples/sdk-lobby.ts': { bob: ["bob received offer: alice's offer"], alice: ["alice received answer: bob's answer"] },
  'examples/sdk-site.ts': {
    phone: ['phone applied product { id: 1 }'],
  },
  'examples/layout.ts': {
    tv: [
      "tv received EVENT from phone in living-room: { layout: 'split' }",
      "tv asked CLIENTS: { ok: true, room: 'living-room', clients: [ 'tv', 'phone' ] }",
    ],
  },
  'examples/lobby.ts': {
    alice: ['alice: a peer joined', "alice received offer: bob's offer", 'alice received MESSAGE: hello everyone', 'alice: a peer left'],
    bob: ["bob received answer: alice's answer", 'bob received MESSAGE: hello everyone'],
  },
  'examples/trigger.ts': { player: ["player received EVENTS: { at: 12.5, id: 'cue-3' }"] },
  'examples/recovery.ts': {
    phone: ['phone received EVENT: sent while the phone was away', 'phone is back: recovered its id, rooms and name, nothing to redo'],
  },
  'examples/legacy-v2.cjs': { tv: ['tv received EVENT from phone in living-room: {"layout":"split"}'] },
  'examples/reliable-delivery.ts': {
    phone: [
      'phone keeps its messages 86400 s while away',
      'phone applied update_store product { id: 1 }',
      'phone keeps its messages 86400 s while away',
      'phone applied update_store product { id: 2 }',
    ],
  },
  'examples/reliable-legacy.cjs': {
    tablet: ['tablet applied update_store product {"id":1}', 'tablet applied update_store product {"id":2}'],
  },
};

/**
 * The server an example runs against, when it needs more than the defaults: the reliable-delivery examples
 * and the SDK's site example need site `shop` (userRoomPrefix `user_`, API key `shop-key`) whose auth backend
 * knows `alice-token`.
 */
async function serverFor(file: string): Promise<TestServer> {
  if (!file.startsWith('examples/reliable-') && file !== 'examples/sdk-site.ts') return startServer();
  const backend = await tokenBackend({ 'alice-token': ['user_alice'] });
  const shop = { auth: { mode: 'token-url', url: `${backend.url}/rooms` }, apiKey: 'shop-key', userRoomPrefix: 'user_' };
  return startServer({ access: parseSitesFile({ sites: { shop } }, 'test', {}) });
}

function read(path: string): string {
  return readFileSync(join(repoRoot, path), 'utf8');
}

/** The text of the README section that starts with heading `## <title>`, up to the next `## ` heading. */
function section(doc: string, title: string): string {
  const start = doc.indexOf(`\n## ${title}\n`);
  expect(start, `README section ${title}`).to.be.at.least(0);
  const end = doc.indexOf('\n## ', start + 1);
  return doc.slice(start, end < 0 ? undefined : end);
}

/** The lines of `stdout` grouped by their first word. */
function byFirstWord(stdout: string): Record<string, string[]> {
  const groups: Record<string, string[]> = {};
  for (const line of stdout.split('\n').filter((l) => l !== '')) {
    const word = /^[\w-]+/.exec(line)?.[0] ?? '';
    (groups[word] ??= []).push(line);
  }
  return groups;
}

/**
 * A copy of the legacy example next to a `node_modules/socket.io-client` that is the 2.x client (installed
 * here as `socket.io-client-v2`), so that its `require('socket.io-client')` loads what a legacy app has.
 */
async function withLegacyClient(file: string): Promise<string> {
  const dir = await tempDir();
  await mkdir(join(dir, 'node_modules'));
  await symlink(join(repoRoot, 'node_modules', 'socket.io-client-v2'), join(dir, 'node_modules', 'socket.io-client'), 'dir');
  const copy = join(dir, basename(file));
  await copyFile(join(repoRoot, file), copy);
  const { version } = createRequire(copy)('socket.io-client/package.json') as { version: string };
  expect(version, 'the socket.io-client the legacy example loads').to.match(/^2\./);
  return copy;
}

describe('README client examples (examples/)', () => {
  const readme = read('README.md');

  it('shows every code snippet of the Clients and Reliable delivery sections from a file of examples/, and every file there', () => {
    const clients = section(readme, 'Clients') + section(readme, 'Reliable delivery');
    const fences = [...clients.matchAll(/^(.*)\n```(ts|js)$/gm)];
    expect(fences.length).to.be.at.least(Object.keys(PRINTS).length);
    for (const fence of fences)
      expect(fence[1], `a ${fence[2]} block of the Clients or Reliable delivery section without an example marker`).to.match(
        /^<!-- example: /,
      );
    const shown = exampleBlocks(readme).map((block) => block.file);
    const files = readdirSync(join(repoRoot, 'examples')).map((name) => `examples/${name}`);
    expect([...shown].sort()).to.deep.equal([...files].sort());
    expect(Object.keys(PRINTS).sort(), 'every example has its expected output below').to.deep.equal([...files].sort());
  });

  it('has each marked block equal to its file', () => {
    for (const block of exampleBlocks(readme)) {
      expect(block.lang, `${block.file}: the fence's language`).to.equal(fenceLanguage(block.file));
      expect(block.body === read(block.file), `README's block of ${block.file} differs from the file: run ${GENERATE_COMMAND}`).to.equal(
        true,
      );
    }
  });

  it('copies each file into its block, and refuses a marker without a block', () => {
    const doc = 'text\n<!-- example: a.ts -->\n```ts\nold\n```\nmore\n';
    expect(withExamples(doc, () => 'const a = 1;\n')).to.equal('text\n<!-- example: a.ts -->\n```ts\nconst a = 1;\n```\nmore\n');
    expect(() => exampleBlocks('<!-- example: a.ts -->\ntext\n')).to.throw(/a\.ts --> is not followed by a fenced block/);
  });

  it('keeps the examples out of the published package', () => {
    const pkg = JSON.parse(read('package.json')) as { files: string[] };
    expect(pkg.files.filter((entry) => entry.startsWith('examples'))).to.deep.equal([]);
  });

  for (const [file, prints] of Object.entries(PRINTS)) {
    it(`${file} runs against a server and prints what it received`, async () => {
      const server = await serverFor(file);
      const entry = file.endsWith('.cjs') ? await withLegacyClient(file) : file;
      const exit = await runCli([], { entry, env: { REALTIME_URL: server.url } });
      expect(exit.stderr).to.equal('');
      expect(exit.code).to.equal(0);
      expect(byFirstWord(exit.stdout)).to.deep.equal(prints);
    });
  }
});
