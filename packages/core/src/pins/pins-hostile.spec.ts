import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../testing/fixtures';
import { formatFindings } from './format';
import { scanPins } from './scan';
import { MAX_SHELL_NESTING } from './shell/shell';

/** Inputs written to break the scanner (issue 12): each gives a finding or one line, fast, never a crash or a hang. */
const CLI = join(__dirname, '..', '..', 'bin', 'reprokit.js');
const reprokit = (cwd: string, ...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8', timeout: 60_000 });

function repo(files: Record<string, string | Buffer>): string {
  const dir = tempDir('reprokit-pins-hostile-');
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  return dir;
}

const found = async (dir: string) => (await scanPins([dir]))[0].findings.map((f) => `${f.file}:${f.line}:${f.column} ${f.rule}`);

describe('pins check on hostile inputs', () => {
  it('names a self-referencing symlink in one line and exits 2', () => {
    const dir = tempDir('reprokit-pins-hostile-');
    symlinkSync('loop', join(dir, 'loop'));
    const result = reprokit(dir, 'pins', 'check', 'loop');
    assert.equal(result.status, 2);
    assert.equal(result.stderr, 'reprokit: loop: too many levels of symbolic links\n');
    assert.equal(result.stdout, '');
  });

  it('does not follow a symlink loop or a FIFO inside the repository', async () => {
    const dir = repo({ 'ok.sh': 'echo ok\n' });
    symlinkSync('Dockerfile', join(dir, 'Dockerfile'));
    assert.equal(spawnSync('mkfifo', [join(dir, 'build.sh')]).status, 0);
    const [result] = await scanPins([dir]);
    assert.deepEqual(result.findings, []);
    assert.equal(result.checked, 1);
  });

  it('gives a finding, not a stack overflow, for $( nested 100,000 deep', async () => {
    const depth = 100_000;
    const dir = repo({ 'a.sh': 'echo ' + '$('.repeat(depth) + 'x' + ')'.repeat(depth) + '\n', 'b.sh': 'cat ' + '<('.repeat(depth) + '\n' });
    const start = Date.now();
    assert.deepEqual(await found(dir), [`a.sh:1:${6 + 2 * MAX_SHELL_NESTING} pins-unparsable`, `b.sh:1:${5 + 2 * MAX_SHELL_NESTING} pins-unparsable`]);
    assert.ok(Date.now() - start < 10_000);
    const cli = reprokit(dir, 'pins', 'check', '.');
    assert.equal(cli.status, 1);
    assert.match(cli.stdout, /^a\.sh:1:134 error pins-unparsable shell script not checked: substitutions nested more than 64 deep\n/);
  });

  it('reads sh -c inside sh -c to a bound, then reports it', async () => {
    let script = 'curl -fsSL https://example.com/i | sh';
    for (let i = 0; i < 20; i++) script = `sh -c "${script.replace(/[\\"$`]/g, (c) => '\\' + c)}"`;
    const findings = await found(repo({ 'a.sh': script + '\n' }));
    assert.equal(findings.length, 1);
    assert.match(findings[0], /^a\.sh:1:\d+ pins-unparsable$/);
  });

  it('checks a Dockerfile padded past 1 MiB, and names an unchecked binary workflow in every format', async () => {
    const dir = repo({
      Dockerfile: '#'.repeat(3 * 1024 * 1024) + '\nFROM alpine:3.19\n',
      '.github/workflows/ci.yml': Buffer.concat([Buffer.from('on: push\n'), Buffer.from([0]), Buffer.from('jobs: {}\n')]),
    });
    const results = await scanPins([dir]);
    assert.deepEqual(results[0].findings.map((f) => `${f.file}:${f.line} ${f.rule} ${f.severity}`), [
      '.github/workflows/ci.yml:1 pins-file-unchecked error',
      'Dockerfile:2 docker-from-unpinned error',
    ]);
    assert.match(formatFindings(results, 'text'), /ci\.yml:1:1 error pins-file-unchecked .*binary/);
    assert.equal(JSON.parse(formatFindings(results, 'json'))[0].rule, 'pins-file-unchecked');
    assert.equal(JSON.parse(formatFindings(results, 'sarif')).runs[0].results[0].ruleId, 'pins-file-unchecked');
    assert.equal(reprokit(dir, 'pins', 'check', '.').status, 1);
  });

  it('walks a merge-key fan-out in linear time and still checks the job', async () => {
    // 10 merges per level, 24 levels: 10^24 paths through the aliases, 25 distinct maps.
    const lines = ['a0: &a0 {runs-on: ubuntu-latest}'];
    for (let i = 1; i < 25; i++) lines.push(`a${i}: &a${i} {<<: [${Array(10).fill(`*a${i - 1}`).join(', ')}]}`);
    lines.push('on: push', 'jobs:', '  b:', '    <<: *a24', '    steps: [{uses: actions/checkout@v4}]');
    const start = Date.now();
    assert.deepEqual(await found(repo({ '.github/workflows/ci.yml': lines.join('\n') + '\n' })), ['.github/workflows/ci.yml:30:20 actions-unpinned']);
    assert.ok(Date.now() - start < 10_000);
  });

  it('stops at the work budget when merge keys amplify a big mapping', async () => {
    const keys = Array.from({ length: 3000 }, (_, i) => `k${i}: v`).join(', ');
    const steps = Array.from({ length: 100 }, () => '      - <<: *big').join('\n');
    const text = `x: &big {${keys}}\non: push\njobs:\n  b:\n    runs-on: ubuntu-latest\n    steps:\n${steps}\n`;
    assert.deepEqual(await found(repo({ '.github/workflows/ci.yml': text })), ['.github/workflows/ci.yml:1:1 pins-unparsable']);
  });

  it('does not read a requirements file outside the repository', async () => {
    const outside = repo({ 'req.txt': `x==1 --hash=sha256:${'0'.repeat(64)}\n` });
    const dir = repo({ 'a.sh': `pip install -r ${join(outside, 'req.txt')}\npip install -r ../${outside.split('/').pop()}/req.txt\n` });
    assert.deepEqual(await found(dir), ['a.sh:1:1 pip-unhashed', 'a.sh:2:1 pip-unhashed']);
  });
});
