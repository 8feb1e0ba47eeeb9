#!/usr/bin/env node
// `reprokit verify` of a manifest listing 10,000 one-byte artifacts, beside `b2sum` then `sha256sum`
// over the same files (the two hashes verify computes), each timed as a whole process run, start-up
// included: wall time, and CPU time (user + system, from bash's `times`), which a machine shared with
// other jobs disturbs far less. Target: verify's CPU time <= 2x (b2sum + sha256sum)'s.
// Usage: tools/bench/verify [--files N] [--runs N] [--no-fail]
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { files: { type: 'string', default: '10000' }, runs: { type: 'string', default: '5' }, 'no-fail': { type: 'boolean', default: false } } });
const total = Number(values.files);
const cli = join(import.meta.dirname, '..', '..', 'packages', 'core', 'bin', 'reprokit.js');
const root = mkdtempSync(join(tmpdir(), 'reprokit-bench-verify-'));
process.on('exit', () => rmSync(root, { recursive: true, force: true }));

// 100 directories of 100 files, as a build with many small outputs lays them out.
const paths = [];
const artifacts = [];
for (let i = 0; i < total; i++) {
  const path = `dist/d${String(Math.floor(i / 100)).padStart(3, '0')}/f${String(i).padStart(5, '0')}`;
  const content = Buffer.from([i % 256]);
  mkdirSync(join(root, path, '..'), { recursive: true });
  writeFileSync(join(root, path), content);
  paths.push(path);
  const digest = (algorithm) => createHash(algorithm).update(content).digest('hex');
  artifacts.push({ name: `a${i}`, kind: 'file', path, size: 1, blake2b512: digest('blake2b512'), sha256: digest('sha256'), environment: { type: 'host', toolchain: 'bench' } });
}
const recorded = { commit: '0'.repeat(40), commitDate: '2026-01-01T00:00:00Z', recordedAt: '2026-01-01T00:00:00Z', reprokitVersion: '0.1.0', tools: {} };
writeFileSync(join(root, 'repro-manifest.json'), JSON.stringify({ manifestVersion: 1, project: 'bench', outputDir: 'dist', recorded, artifacts }, null, 2));
// The file list as one argument list (10,000 short names fit in ARG_MAX), so each tool is one process.

/** Runs `command` through bash, whose `times` then prints the children's user and system time. */
function timed(command, args) {
  const start = process.hrtime.bigint();
  const result = spawnSync('bash', ['-c', '"$@" >/dev/null || exit; times', 'timed', command, ...args], { cwd: root, encoding: 'utf8', maxBuffer: 256 << 20 });
  const wall = Number(process.hrtime.bigint() - start) / 1e9;
  if (result.status !== 0) throw new Error(`${command} exited ${result.status}: ${result.stderr.slice(0, 500)}`);
  const [user, system] = result.stdout.trim().split('\n').at(-1).split(/\s+/).map((time) => {
    const [, minutes, seconds] = /^(\d+)m([\d.]+)s$/.exec(time);
    return Number(minutes) * 60 + Number(seconds);
  });
  return { wall, cpu: user + system };
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const add = (a, b) => ({ wall: a.wall + b.wall, cpu: a.cpu + b.cpu });
const runs = { coreutils: [], verify: [] };
timed('cat', paths); // warm the page cache
for (let r = 0; r < Number(values.runs); r++) {
  runs.coreutils.push(add(timed('b2sum', paths), timed('sha256sum', paths)));
  runs.verify.push(timed(process.execPath, [cli, 'verify', 'repro-manifest.json']));
}
const of = (list, key) => median(list.map((run) => run[key]));
const ratio = of(runs.verify, 'cpu') / of(runs.coreutils, 'cpu');
console.log(`artifacts: ${total} of 1 byte, ${values.runs} runs each`);
console.log(`b2sum + sha256sum  median ${of(runs.coreutils, 'wall').toFixed(3)} s wall, ${of(runs.coreutils, 'cpu').toFixed(3)} s CPU`);
console.log(`reprokit verify    median ${of(runs.verify, 'wall').toFixed(3)} s wall, ${of(runs.verify, 'cpu').toFixed(3)} s CPU`);
console.log(`wall: ${(of(runs.verify, 'wall') / of(runs.coreutils, 'wall')).toFixed(2)}x`);
console.log(`result: ${ratio.toFixed(2)}x b2sum + sha256sum in CPU time (target <= 2x)`);
process.exit(ratio <= 2 || values['no-fail'] ? 0 : 1);
