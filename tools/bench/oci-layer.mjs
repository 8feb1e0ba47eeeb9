#!/usr/bin/env node
// reprokit's layer writer against GNU tar on one generated tree (~100 MiB in ~3,000 files of mixed
// sizes, nested directories, half text-like and half random content, a few symlinks): (a) ours, the
// deterministic uncompressed tar an image layer is, in a fresh node process; (b) `tar --sort=name
// --mtime=@0 --owner=0 --group=0 --numeric-owner -cf - -C root . | gzip -n`, what a reproducible
// gzipped layer costs with the usual tools; (c) the same tar without gzip, the floor. N runs each,
// interleaved; medians and ours / baseline. Target: ours <= 1.3x (b). Also checks that GNU tar lists
// the same entries in our archive as in its own.
// Usage: tools/bench/oci-layer [--runs N] [--mib N] [--files N] [--no-fail]
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    mib: { type: 'string', default: '100' },
    files: { type: 'string', default: '3000' },
    'no-fail': { type: 'boolean', default: false },
  },
});
const [runs, mib, fileCount] = [values.runs, values.mib, values.files].map(Number);
if (![runs, mib, fileCount].every((n) => Number.isInteger(n) && n > 0)) {
  console.error('usage: tools/bench/oci-layer [--runs N] [--mib N] [--files N] [--no-fail]');
  process.exit(2);
}
const dist = join(import.meta.dirname, '..', '..', 'packages', 'core', 'dist');
try {
  statSync(join(dist, 'archive', 'tar-writer.js'));
} catch {
  console.error("bench: packages/core not built; run 'npm run build' first");
  process.exit(1);
}
// The one place that names reprokit's layer writer: a script run as `node -e SCRIPT ROOT OUT`.
const OURS = `require(${JSON.stringify(join(dist, 'archive', 'tar-writer.js'))}).writeDirectoryTar(process.argv[1], process.argv[2], 0)`;

const tmp = mkdtempSync(join(tmpdir(), 'reprokit-bench-oci-layer-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(130));
const root = join(tmp, 'root');

// Deterministic content: xorshift32 from a fixed seed.
let state = 0x9e3779b9;
const next = () => {
  state ^= state << 13;
  state ^= state >>> 17;
  state ^= state << 5;
  return state >>> 0;
};
const WORDS = ['layer', 'image', 'digest', 'manifest', 'config', 'tar', 'reproducible', 'build', 'sha256', 'blob', 'index', '\n'];
function content(size, text) {
  const buffer = Buffer.allocUnsafe(size);
  if (text) {
    let at = 0;
    while (at < size) at += buffer.write(WORDS[next() % WORDS.length] + ' ', at);
  } else {
    let at = 0;
    for (; at + 4 <= size; at += 4) buffer.writeUInt32LE(next(), at);
    for (; at < size; at++) buffer[at] = next() & 0xff;
  }
  return buffer;
}
// Sizes: 70% small (< 8 KiB), 25% medium (< 128 KiB), 5% large; then scaled to the total asked for.
const raw = Array.from({ length: fileCount }, (_, i) => {
  const r = next() % 100;
  return r < 70 ? next() % 8192 : r < 95 ? 8192 + (next() % 122880) : 1 << 20 | next() % (4 << 20);
});
const scale = (mib * 1024 * 1024) / raw.reduce((a, b) => a + b, 0);
let bytes = 0;
for (const [i, size] of raw.entries()) {
  const dir = join(root, `d${i % 7}`, `e${i % 13}`, `f${i % 5}`);
  mkdirSync(dir, { recursive: true });
  const scaled = Math.floor(size * scale);
  writeFileSync(join(dir, `file-${i}.${i % 2 ? 'bin' : 'txt'}`), content(scaled, i % 2 === 0));
  bytes += scaled;
  if (i % 500 === 0) symlinkSync(`../e${(i + 1) % 13}`, join(root, `d${i % 7}`, `e${i % 13}`, `link-${i}`));
}
mkdirSync(join(root, 'empty', 'dir'), { recursive: true });

const gnuTar = `tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -cf - -C "$1" .`;
const tools = {
  ours: [process.execPath, ['-e', OURS, root, join(tmp, 'ours.tar')]],
  'tar|gzip -n': ['bash', ['-c', `set -o pipefail; ${gnuTar} | gzip -n > "$2"`, 'bench', root, join(tmp, 'gnu.tar.gz')]],
  tar: ['bash', ['-c', `${gnuTar} > "$2"`, 'bench', root, join(tmp, 'gnu.tar')]],
};
const times = Object.fromEntries(Object.keys(tools).map((name) => [name, []]));
function run(name) {
  const [command, args] = tools[name];
  const start = process.hrtime.bigint();
  const result = spawnSync(command, args, { encoding: 'utf8' });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (result.status !== 0) throw new Error(`${name} failed (${result.status}): ${result.stderr}`);
  times[name].push(seconds);
}
// Warm the page cache once, then interleave so drift hits every tool alike.
run('tar');
times.tar.length = 0;
for (let r = 0; r < runs; r++) for (const name of Object.keys(tools)) run(name);

// GNU tar must read our archive and find what it archived itself (less its `./` entry).
const list = (archive) => {
  const result = spawnSync('tar', ['-tf', archive], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (result.status !== 0) throw new Error(`tar -tf ${archive}: ${result.stderr}`);
  return result.stdout.split('\n').map((name) => name.replace(/^\.\//, '').replace(/\/$/, '')).filter((name) => name !== '' && name !== '.').sort();
};
const [ourNames, gnuNames] = [list(join(tmp, 'ours.tar')), list(join(tmp, 'gnu.tar'))];
const sameEntries = ourNames.length === gnuNames.length && ourNames.every((name, i) => name === gnuNames[i]);

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const size = (file) => statSync(join(tmp, file)).size / 2 ** 20;
console.log(`oci-layer benchmark: ${fileCount} files, ${(bytes / 2 ** 20).toFixed(1)} MiB, ${runs} runs each`);
console.log(`${'tool'.padEnd(13)} ${'median s'.padStart(9)} ${'min s'.padStart(8)} ${'output MiB'.padStart(11)} ${'ours / it'.padStart(10)}`);
const ours = median(times.ours);
for (const [name, file] of [['ours', 'ours.tar'], ['tar|gzip -n', 'gnu.tar.gz'], ['tar', 'gnu.tar']]) {
  const m = median(times[name]);
  console.log(`${name.padEnd(13)} ${m.toFixed(3).padStart(9)} ${Math.min(...times[name]).toFixed(3).padStart(8)} ${size(file).toFixed(1).padStart(11)} ${(ours / m).toFixed(2).padStart(9)}x`);
}
console.log(`entries: GNU tar lists ${ourNames.length} in ours, ${gnuNames.length} in its own${sameEntries ? ', the same names' : ' -- DIFFERENT'}`);
const ratio = ours / median(times['tar|gzip -n']);
const ok = ratio <= 1.3 && sameEntries;
console.log(`result: ours = ${ratio.toFixed(2)}x tar|gzip -n (target <= 1.3x)${ok ? '' : ' -- FAIL'}`);
process.exit(sameEntries && (ok || values['no-fail']) ? 0 : 1);
