// `nx run-many -t reproduce --parallel=4` over 12 generated projects (copies of hello-c, each printing
// its own line, built in the pinned c-builder image): every manifest is recorded, reproduced and left
// intact, byte for byte, when four tasks run at once; re-recording in parallel changes none of them.
import assert from 'node:assert/strict';
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { TempWorkspace } from './workspace';

const COUNT = 12;
const names = Array.from({ length: COUNT }, (_, i) => `many-${String(i + 1).padStart(2, '0')}`);

describe('nx run-many -t reproduce --parallel=4 over 12 projects', () => {
  const ws = new TempWorkspace();
  after(() => rmSync(ws.root, { recursive: true, force: true }));
  for (const name of names) {
    const dir = join(ws.root, 'packages', name);
    cpSync(join(ws.root, 'packages', 'hello-c'), dir, { recursive: true });
    rmSync(join(dir, 'repro-manifest.json'));
    const project = JSON.parse(readFileSync(join(dir, 'project.json'), 'utf8'));
    writeFileSync(join(dir, 'project.json'), JSON.stringify({ ...project, name, sourceRoot: `packages/${name}/src` }, null, 2));
    const source = readFileSync(join(dir, 'src', 'hello.c'), 'utf8');
    writeFileSync(join(dir, 'src', 'hello.c'), source.replace('Hello from C, reproducibly.', `Hello from ${name}.`));
  }
  ws.commit('12 generated projects');
  const manifests = () => names.map((name) => ws.read(`packages/${name}/repro-manifest.json`));

  it('records 12 manifests with four tasks at once, each a whole manifest of its own binary', () => {
    const { status, output } = ws.nx('run-many', '-t', 'checksum', '--update', '--parallel=4', '--projects=many-*', '--output-style=static');
    assert.equal(status, 0, output);
    const hashes = new Set<string>();
    for (const [i, text] of manifests().entries()) {
      const manifest = JSON.parse(text);
      assert.equal(manifest.project, names[i]);
      assert.equal(manifest.artifacts.length, 1);
      hashes.add(manifest.artifacts[0].blake2b512);
    }
    assert.equal(hashes.size, COUNT, 'the 12 binaries differ, so their hashes must');
    ws.commit('manifests');
  });

  it('reproduces all 12 with --parallel=4 and leaves every manifest as committed', () => {
    const before = manifests();
    const { status, output } = ws.nx('run-many', '-t', 'reproduce', '--parallel=4', '--projects=many-*', '--output-style=static');
    assert.equal(status, 0, output);
    for (const name of names) assert.match(output, new RegExp(`^REPRODUCED hello \\(elf\\)$[\\s\\S]*packages/${name}/dist/hello`, 'm'));
    assert.equal((output.match(/^1 of 1 artifacts REPRODUCED$/gm) ?? []).length, COUNT, output);
    assert.deepEqual(manifests(), before);
    assert.equal(ws.git('status', '--porcelain'), '');
  });

  it('re-recording all 12 in parallel changes no manifest', () => {
    const { status, output } = ws.nx('run-many', '-t', 'checksum', '--update', '--parallel=4', '--projects=many-*', '--output-style=static');
    assert.equal(status, 0, output);
    assert.equal((output.match(/repro-manifest\.json unchanged/g) ?? []).length, COUNT, output);
    assert.equal(ws.git('status', '--porcelain', '--', '*repro-manifest.json'), '');
  });
});
