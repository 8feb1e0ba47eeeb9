import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { readTarEntries } from '../archive/tar-reader';
import { tempDir } from '../testing/fixtures';
import { createSourceTarball } from './source-tarball';

function git(cwd: string, date: string, ...args: string[]): string {
  const env = { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t.invalid', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t.invalid', GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date };
  const result = spawnSync('git', args, { cwd, env, encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  return result.stdout.trim();
}

/** A repository with a project in `pkg/` (a PKGBUILD, a source file, a manifest) committed at `date`. */
function repository(date: string): string {
  const root = tempDir();
  mkdirSync(join(root, 'pkg', 'src'), { recursive: true });
  writeFileSync(join(root, 'pkg', 'PKGBUILD'), 'pkgname=x\n');
  writeFileSync(join(root, 'pkg', 'src', 'main.rs'), 'fn main() {}\n');
  writeFileSync(join(root, 'pkg', 'repro-manifest.json'), '{}\n');
  writeFileSync(join(root, 'other.txt'), 'not the project\n');
  git(root, date, 'init', '-q');
  git(root, date, 'add', '-A');
  git(root, date, 'commit', '-q', '-m', 'project');
  return root;
}

const entriesOf = (file: string) => readTarEntries(gunzipSync(readFileSync(file)), file).entries;

describe('createSourceTarball', () => {
  it('archives the committed project, manifest left out, every mtime the commit date, root-owned', async () => {
    const root = repository('2026-01-01T00:00:00Z');
    writeFileSync(join(root, 'pkg', 'src', 'main.rs'), 'uncommitted\n');
    const out = join(tempDir(), 'src.tgz');
    const tarball = await createSourceTarball(join(root, 'pkg'), out, ['repro-manifest.json']);
    assert.equal(tarball.epoch, Date.parse('2026-01-01T00:00:00Z') / 1000);
    const entries = entriesOf(out);
    assert.deepEqual(entries.map((e) => e.path), ['PKGBUILD', 'src', 'src/main.rs']);
    assert.ok(entries.every((e) => e.mtime === tarball.epoch && e.uid === 0 && e.gid === 0));
    assert.deepEqual(entries.map((e) => e.mode.toString(8)), ['644', '755', '644']);
    // The committed content, not the working tree's.
    assert.equal(entries[2].size, 'fn main() {}\n'.length);
    // gzip -n: no name, no time in the header.
    assert.deepEqual([...readFileSync(out).subarray(4, 8)], [0, 0, 0, 0]);
  });

  it('gives the same bytes for the same content in another history, and the date asked for', async () => {
    const a = await createSourceTarball(join(repository('2026-01-01T00:00:00Z'), 'pkg'), join(tempDir(), 'a.tgz'), ['repro-manifest.json'], 1234);
    const b = await createSourceTarball(join(repository('2026-06-01T12:00:00Z'), 'pkg'), join(tempDir(), 'b.tgz'), ['repro-manifest.json'], 1234);
    assert.notEqual(a.commit, b.commit);
    assert.equal(a.sha256, b.sha256);
    assert.ok(entriesOf(a.file).every((e) => e.mtime === 1234));
    const c = await createSourceTarball(join(repository('2026-01-01T00:00:00Z'), 'pkg'), join(tempDir(), 'c.tgz'), ['repro-manifest.json'], 1235);
    assert.notEqual(c.sha256, a.sha256);
  });

  it('refuses a project no commit touches, naming it', async () => {
    const root = repository('2026-01-01T00:00:00Z');
    mkdirSync(join(root, 'new'));
    await assert.rejects(createSourceTarball(join(root, 'new'), join(tempDir(), 'x.tgz'), []), { name: 'UserError', message: /new: no git commit touches this project/ });
  });
});
