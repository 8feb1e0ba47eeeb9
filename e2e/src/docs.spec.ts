// The README and docs/ as a reader meets them: every relative link leads somewhere, and every command
// the Quick start and "Adding your first project" show is one the test suite runs.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot } from './workspace';

const pages = ['README.md', ...readdirSync(join(repoRoot, 'docs')).filter((f) => f.endsWith('.md')).sort().map((f) => `docs/${f}`)];
const read = (page: string) => readFileSync(join(repoRoot, page), 'utf8');

/** The text outside fenced code blocks, line by line (a heading or link inside a fence is code). */
const proseLines = (text: string) => {
  let fence: string | undefined;
  return text.split('\n').map((line) => {
    const open = /^\s*(```+|~~~+)/.exec(line);
    if (open && (fence === undefined || open[1].startsWith(fence))) {
      fence = fence === undefined ? open[1] : undefined;
      return '';
    }
    return fence === undefined ? line : '';
  });
};

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
const anchors = (text: string) => {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const line of proseLines(text)) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!heading) continue;
    const slug = heading[1].toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    out.add(n === 0 ? slug : `${slug}-${n}`);
  }
  return out;
};

const links = (text: string) =>
  proseLines(text).flatMap((line, i) =>
    [...line.replace(/`[^`]*`/g, '').matchAll(/\]\(([^)\s]+)\)/g)].map((m) => ({ line: i + 1, target: m[1] })),
  );

describe('README.md and docs/', () => {
  it('every relative link resolves, and every #anchor names a heading of its file', () => {
    const broken: string[] = [];
    let checked = 0;
    for (const page of pages) {
      for (const { line, target } of links(read(page))) {
        if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:: not ours to check
        checked++;
        const [path, anchor] = target.split('#', 2);
        const file = path === '' ? join(repoRoot, page) : resolve(dirname(join(repoRoot, page)), path);
        const where = `${page}:${line}: ${target}`;
        if (relative(repoRoot, file).startsWith('..')) broken.push(`${where}: outside the repository`);
        else if (!existsSync(file)) broken.push(`${where}: no such file`);
        else if (anchor !== undefined) {
          if (!statSync(file).isFile() || !file.endsWith('.md')) broken.push(`${where}: an anchor into a file that is not Markdown`);
          else if (!anchors(readFileSync(file, 'utf8')).has(anchor)) broken.push(`${where}: no heading with that anchor`);
        }
      }
    }
    assert.deepEqual(broken, []);
    assert.ok(checked >= 30, `only ${checked} relative links found: is the parser still reading the pages?`);
  });

  it('the anchor rule is GitHub\'s', () => {
    const got = anchors('# A C project built with make\n```sh\n# not a heading\n```\n## `reprokit diff A B [--json]`\n## Caching\n## Caching\n');
    assert.deepEqual([...got], ['a-c-project-built-with-make', 'reprokit-diff-a-b---json', 'caching', 'caching-1']);
  });

  // Each command a newcomer copies, with the test file that runs it and what in that file's source shows
  // that it does. A command added to those sections without an entry here fails, and so does an entry
  // whose test no longer contains what it names.
  const RUN_BY: Record<string, { file: string; shows: string[] }> = {
    'bash tools/setup && npx nx run asdf:reproduce': { file: 'e2e/src/reproduce.spec.ts', shows: ["ws.nx('run', 'asdf:reproduce')"] },
    'npm test': { file: 'package.json', shows: ['"test": "npm run build && node tools/run-tests.mjs"'] },
    // The packed packages, as the registry would serve them.
    'npm install -D @reprokit/nx @reprokit/core': { file: 'e2e/src/consumer-workspace.ts', shows: ["'@reprokit/nx': `file:${tarball('nx')}`", "sh('npm', ['install'"] },
    'npx nx g @reprokit/nx:init': { file: 'e2e/src/consumer.spec.ts', shows: ["nx('g', '@reprokit/nx:init')"] },
    'git add -A && git commit -m "hello"': { file: 'e2e/src/consumer.spec.ts', shows: ["['add', '-A']", "'commit', '-qm', 'hello'"] },
    'npx nx g @reprokit/nx:configuration hello': { file: 'e2e/src/consumer.spec.ts', shows: ["nx('g', '@reprokit/nx:configuration', 'hello')"] },
    'npx nx run hello:reproduce': { file: 'e2e/src/consumer.spec.ts', shows: ["nx('run', 'hello:reproduce')"] },
    // The C example's commands are run as written, read from the README's section.
    'git add -A && git commit -m "hello-c"': { file: 'e2e/src/consumer.spec.ts', shows: ["'### A C project built with make'", "spawnSync('bash', ['-c', command]"] },
    'npx nx g @reprokit/nx:configuration hello-c': { file: 'e2e/src/consumer.spec.ts', shows: ["'### A C project built with make'", "spawnSync('bash', ['-c', command]"] },
    'git add -A && git commit -m "hello-c: record artifact hashes"': { file: 'e2e/src/consumer.spec.ts', shows: ["'### A C project built with make'", "spawnSync('bash', ['-c', command]"] },
    'npx nx run hello-c:reproduce': { file: 'e2e/src/consumer.spec.ts', shows: ["'### A C project built with make'", "spawnSync('bash', ['-c', command]"] },
    'npx nx run asdf:oci': { file: 'e2e/src/oci.spec.ts', shows: ["ws.nx('run', 'asdf:oci')"] },
    'docker run --rm --network none asdf:latest': { file: 'e2e/src/oci.spec.ts', shows: ["'{{.Id}}', 'asdf:latest'", "docker('run', '--rm', '--network', 'none', id)"] },
    'npx nx run asdf:oci --push=127.0.0.1:5000/asdf': { file: 'e2e/src/oci.spec.ts', shows: ['`127.0.0.1:5000/', "'asdf:oci', '--skip-nx-cache', `--push=${repository}`"] },
  };

  /** The commands of a `## heading` section's sh blocks, one per line, comments dropped. */
  const commandsOf = (heading: string) => {
    const readme = read('README.md');
    const start = readme.indexOf(`\n## ${heading}\n`);
    assert.ok(start >= 0, `README.md: no "## ${heading}" section`);
    const end = readme.indexOf('\n## ', start + 1);
    const section = readme.slice(start, end < 0 ? undefined : end);
    return [...section.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].flatMap((m) =>
      m[1].split('\n').map((line) => line.replace(/\s+#.*$/, '').trim()).filter(Boolean),
    );
  };

  it('each command in the Quick start and "Adding your first project" is one the test suite runs', () => {
    const commands = [...commandsOf('Quick start'), ...commandsOf('Adding your first project')];
    assert.ok(commands.length >= 10, commands.join('\n'));
    assert.deepEqual(commands.filter((c) => !(c in RUN_BY)), [], 'commands no test runs: add the test, then an entry in RUN_BY');
    assert.deepEqual(Object.keys(RUN_BY).filter((c) => !commands.includes(c)), [], 'entries for commands the README no longer shows');
    for (const [command, { file, shows }] of Object.entries(RUN_BY)) {
      const source = read(file);
      for (const s of shows) assert.ok(source.includes(s), `${command}: ${file} no longer contains ${s}`);
    }
  });

  it('the Quick start is the first fenced block after its heading, as the fresh-machine check reads it', () => {
    const readme = read('README.md');
    const block = /^## Quick start\n[\s\S]*?^```sh\n([\s\S]*?)^```$/m.exec(readme);
    assert.equal(block?.[1], 'bash tools/setup && npx nx run asdf:reproduce\nnpm test\n');
  });
});
