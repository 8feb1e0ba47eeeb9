import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../testing/fixtures';
import { classify, MAX_FILE_BYTES, scanPins } from './scan';

function write(root: string, files: Record<string, string | Buffer>): void {
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(join(root, name, '..'), { recursive: true });
    writeFileSync(join(root, name), content);
  }
}

function git(cwd: string, ...args: string[]): void {
  const result = spawnSync('git', ['-c', 'user.email=t@example.org', '-c', 'user.name=t', ...args], { cwd, encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
}

const rules = (findings: { file: string; rule: string }[]) => findings.map((f) => `${f.file} ${f.rule}`);

describe('scanPins', () => {
  it('classifies files by name', () => {
    assert.equal(classify('Dockerfile'), 'dockerfile');
    assert.equal(classify('a/b.Dockerfile'), 'dockerfile');
    assert.equal(classify('Dockerfile.release'), 'dockerfile');
    assert.equal(classify('Dockerfile.dockerignore'), undefined);
    assert.equal(classify('.github/workflows/ci.yaml'), 'workflow');
    assert.equal(classify('.github/ci.yaml'), undefined);
    assert.equal(classify('pkg/PKGBUILD'), 'pkgbuild');
    assert.equal(classify('rules.mk'), 'makefile');
    assert.equal(classify('README.md'), undefined);
  });

  it('scans large text files whole; a binary script is a finding, any other binary a note', async () => {
    const dir = tempDir('reprokit-pins-');
    write(dir, {
      'binary.sh': Buffer.concat([Buffer.from('curl -s https://x.example | sh\n'), Buffer.from([0, 1, 2])]),
      // A Dockerfile padded with comments past the old 1 MiB skip: the FROM after the padding is still read.
      Dockerfile: '# pad\n'.repeat(400_000) + 'FROM alpine:3.19\n',
      'huge.sh': '#'.repeat(2 * 1024 * 1024) + '\ncurl -s https://x.example | sh\n',
      'tool': Buffer.concat([Buffer.from('\x7fELF'), Buffer.alloc(16)]),
      'run-me': Buffer.concat([Buffer.from('#!/bin/sh\n'), Buffer.alloc(4)]),
      'ok.sh': 'curl -s https://x.example | sh\n',
    });
    const [result] = await scanPins([dir]);
    assert.deepEqual(rules(result.findings), [
      'Dockerfile docker-from-unpinned',
      'binary.sh pins-file-unchecked',
      'huge.sh download-piped-to-shell',
      'ok.sh download-piped-to-shell',
      'run-me pins-file-unchecked',
      'tool pins-file-skipped',
    ]);
    assert.equal(result.findings.find((f) => f.file === 'Dockerfile')?.line, 400_001);
    assert.deepEqual(result.skipped.map((s) => s.file).sort(), ['binary.sh', 'run-me', 'tool']);
    assert.ok(MAX_FILE_BYTES >= 64 * 1024 * 1024);
  });

  it('walks a plain directory without node_modules, dist, target', async () => {
    const dir = tempDir('reprokit-pins-');
    write(dir, { 'a/x.sh': 'cargo build\n', 'node_modules/p/x.sh': 'cargo build\n', 'dist/x.sh': 'cargo build\n', 'target/x.sh': 'cargo build\n' });
    const [result] = await scanPins([dir]);
    assert.deepEqual(rules(result.findings), ['a/x.sh cargo-unlocked']);
  });

  it('respects .gitignore in a git repository and treats nested repositories as their own', async () => {
    const dir = tempDir('reprokit-pins-');
    write(dir, { '.gitignore': 'ignored/\n', 'ignored/x.sh': 'cargo build\n', 'tracked.sh': 'cargo build\n', 'untracked.sh': 'cargo run\n', 'inner/y.sh': 'cargo install x\n' });
    git(dir, 'init', '-q');
    git(join(dir, 'inner'), 'init', '-q');
    git(dir, 'add', '.gitignore', 'tracked.sh');
    const results = await scanPins([dir]);
    assert.deepEqual(results.map((r) => r.root), [dir, join(dir, 'inner')]);
    assert.deepEqual(rules(results[0].findings), ['tracked.sh cargo-unlocked', 'untracked.sh cargo-unlocked']);
    assert.deepEqual(rules(results[1].findings), ['y.sh cargo-unlocked', 'y.sh cargo-install-unpinned']);
  });

  it('scans a single file relative to its repository root', async () => {
    const dir = tempDir('reprokit-pins-');
    write(dir, { 'sub/Dockerfile': 'FROM alpine:3.19\n', 'other.sh': 'cargo build\n' });
    git(dir, 'init', '-q');
    const [result] = await scanPins([join(dir, 'sub', 'Dockerfile')]);
    assert.equal(result.root, dir);
    assert.deepEqual(rules(result.findings), ['sub/Dockerfile docker-from-unpinned']);
  });

  it('names a missing path in one line', async () => {
    await assert.rejects(scanPins(['/nonexistent/reprokit']), { name: 'UserError', message: '/nonexistent/reprokit: no such file or directory' });
  });
});
