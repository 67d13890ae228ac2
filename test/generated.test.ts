import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { Compile } from 'typebox/compile';
import { parse as parseYaml } from 'yaml';
import { parseSitesFile, SitesFileSchema } from '../lib/config/sites-file.js';
import { ErrorCatalog } from '../protocol/index.js';
import { GENERATE_COMMAND, generatedFiles, replaceSection, repoRoot } from '../scripts/generate.js';

function read(path: string): string {
  return readFileSync(join(repoRoot, path), 'utf8');
}

/** The README's YAML blocks that are sites files (the Traefik and compose ones are not). */
function readmeSitesFiles(): Record<string, unknown>[] {
  const blocks = [...read('README.md').matchAll(/^```yaml\n([\s\S]*?)^```$/gm)].map((match) => parseYaml(match[1] ?? '') as unknown);
  const sitesKeys = new Set(['sites', 'forwarding', 'namespaces']);
  return blocks.filter(
    (block): block is Record<string, unknown> =>
      typeof block === 'object' && block !== null && !Array.isArray(block) && Object.keys(block).every((key) => sitesKeys.has(key)),
  );
}

describe('generated files', () => {
  for (const file of generatedFiles()) {
    it(`${file.path} is up to date with its sources`, () => {
      expect(read(file.path) === file.content, `${file.path} is stale: run ${GENERATE_COMMAND} and commit the result`).to.equal(true);
    });
  }

  it('replaces only the marked section of a doc, and refuses a doc without the markers', () => {
    const doc = 'before\n<!-- generated:x by a script -->\nold\n<!-- /generated:x -->\nafter\n';
    expect(replaceSection(doc, 'x', 'new')).to.equal('before\n<!-- generated:x by a script -->\nnew\n<!-- /generated:x -->\nafter\n');
    expect(() => replaceSection('no markers', 'x', 'new')).to.throw(/generated:x/);
  });

  describe('sites.schema.json', () => {
    const published = JSON.parse(read('sites.schema.json')) as Record<string, unknown>;

    it('is SitesFileSchema as plain JSON Schema, with a header for editors', () => {
      expect(published).to.include({ $schema: 'http://json-schema.org/draft-07/schema#', $id: 'urn:realtime-rooms:sites.schema.json' });
      expect(published).to.have.property('title').that.is.a('string');
      expect(published).to.have.property('description').that.is.a('string');
      const { $schema: _schema, $id: _id, title: _title, description: _description, ...rest } = published;
      expect(rest).to.deep.equal(JSON.parse(JSON.stringify(SitesFileSchema)));
      expect(JSON.stringify(published)).not.to.match(/"~/);
    });

    it('is shipped in the package and exported by path', () => {
      const pkg = JSON.parse(read('package.json')) as { files: string[]; exports: Record<string, unknown> };
      expect(pkg.files).to.include('sites.schema.json');
      expect(pkg.exports['./sites.schema.json']).to.equal('./sites.schema.json');
    });

    it('accepts every sites file of the README, which the loader loads too, and refuses a misspelt field as the loader does', () => {
      const check = Compile(published);
      const examples = readmeSitesFiles();
      expect(examples.length, 'sites files found in the README').to.be.at.least(3);
      for (const example of examples) {
        expect(check.Check(example), JSON.stringify(check.Errors(example)[0])).to.equal(true);
        // Every `env:NAME` secret of the examples, long enough for an HS256 key.
        const env = Object.fromEntries(
          [...JSON.stringify(example).matchAll(/env:([A-Za-z_]\w*)/g)].map((match): [string, string] => [match[1] ?? '', 'x'.repeat(40)]),
        );
        expect(() => parseSitesFile(example, 'README', env)).not.to.throw();
      }
      const misspelt = { sites: { shop: { auth: { mode: 'none' }, apikey: 'k' } } };
      expect(check.Check(misspelt)).to.equal(false);
      expect(() => parseSitesFile(misspelt, 'README', {})).to.throw(/apikey is not a known field/);
    });
  });

  it('puts the error catalog, every code, into both READMEs', () => {
    for (const doc of ['README.md', 'protocol/README.md']) {
      const text = read(doc);
      for (const [code, info] of Object.entries(ErrorCatalog))
        expect(text, `${doc}: ${code}`).to.include(`| \`${code}\` | ${info.status} |`);
    }
  });
});
