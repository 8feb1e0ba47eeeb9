// `reprokit diff A B --diffoscope DIR`: Debian's diffoscope (diffoscope-minimal, installed by
// tools/setup) writes its HTML report beside reprokit's own explanation.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { tempDir } from '../testing/fixtures';
import { CLI } from '../testing/run-cli';

const dir = tempDir('rk-diffoscope-');
after(() => rmSync(dir, { recursive: true, force: true }));

test('--diffoscope DIR writes diffoscope\'s HTML report of the two files (exit 1: they differ)', () => {
  const a = join(dir, 'true');
  const b = join(dir, 'true.tampered');
  const elf = readFileSync('/usr/bin/true');
  writeFileSync(a, elf);
  const out = execFileSync('readelf', ['-S', '-W', a], { encoding: 'utf8' });
  const rodata = parseInt(/\.rodata\s+PROGBITS\s+[0-9a-f]+\s+([0-9a-f]+)/.exec(out)![1], 16);
  const tampered = Buffer.from(elf);
  tampered[rodata + 3] ^= 0x20;
  writeFileSync(b, tampered);
  const report = join(dir, 'report');
  const run = spawnSync(process.execPath, [CLI, 'diff', a, b, '--diffoscope', report], { encoding: 'utf8' });
  assert.equal(run.status, 1, run.stderr);
  // reprokit's own explanation first, then where diffoscope's report is.
  assert.match(run.stdout, /^section \.rodata: /m);
  assert.ok(run.stdout.trimEnd().endsWith(`diffoscope report: ${join(report, 'index.html')}`), run.stdout);
  assert.ok(existsSync(join(report, 'index.html')));
  const html = readFileSync(join(report, 'index.html'), 'utf8');
  assert.match(html, /<html/i);
  assert.match(html, /diffoscope/);
  // diffoscope compared these two files and found the section reprokit names.
  assert.ok(html.includes('true.tampered'), 'the report names the second file');
  assert.ok(html.includes('.rodata'), 'the report shows the .rodata section');
  // The same files: no report is written (nothing to explain), exit 0.
  const same = spawnSync(process.execPath, [CLI, 'diff', a, a, '--diffoscope', join(dir, 'none')], { encoding: 'utf8' });
  assert.equal(same.status, 0, same.stderr);
  assert.equal(existsSync(join(dir, 'none')), false);
});
