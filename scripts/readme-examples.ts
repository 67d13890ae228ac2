/**
 * The README's client snippets are files of examples/ that the tests compile and run, so that they cannot
 * drift: a block marked `<!-- example: examples/<file> -->` on the line before its fence holds that file,
 * verbatim. `npm run generate` copies each file into its block; test/docs/readme-examples.test.ts runs the
 * files and fails, naming the command, when a block differs from its file.
 */

/** A marked block of a doc: the file it shows, the fence's language and the block's text. */
export interface ExampleBlock {
  readonly file: string;
  readonly lang: string;
  readonly body: string;
}

const MARKER = /^<!-- example: (\S+) -->$/gm;
const BLOCK = /^<!-- example: (\S+) -->\n```(\w+)\n([\s\S]*?)^```$/gm;

/** The fence language of an example file: `ts`, or `js` for the CommonJS examples of the legacy client. */
export function fenceLanguage(file: string): string {
  if (file.endsWith('.ts')) return 'ts';
  if (file.endsWith('.cjs') || file.endsWith('.js')) return 'js';
  throw new Error(`${file}: an example is a .ts or .cjs file`);
}

/** Every marked block of `doc`, in order; a marker that is not followed by a fence is an error. */
export function exampleBlocks(doc: string): ExampleBlock[] {
  const blocks = [...doc.matchAll(BLOCK)].map((match) => ({ file: match[1] ?? '', lang: match[2] ?? '', body: match[3] ?? '' }));
  const markers = [...doc.matchAll(MARKER)].map((match) => match[1] ?? '');
  const stray = markers.filter((file) => !blocks.some((block) => block.file === file));
  if (stray.length > 0) throw new Error(`<!-- example: ${stray.join(', ')} --> is not followed by a fenced block`);
  return blocks;
}

/** `doc` with every marked block's text replaced by its file, read with `read`, and its fence's language set. */
export function withExamples(doc: string, read: (path: string) => string): string {
  exampleBlocks(doc);
  return doc.replace(BLOCK, (_block, file: string) => {
    const text = read(file);
    return `<!-- example: ${file} -->\n\`\`\`${fenceLanguage(file)}\n${text.endsWith('\n') ? text : `${text}\n`}\`\`\``;
  });
}
