#!/usr/bin/env node
// Issue 23's measurement: for each listed package, its registry tarball is unpacked (by reprokit's tar
// reader, modes kept) and `reprokit npm check NAME@VERSION --source <that directory>` packs it again and
// compares: IDENTICAL, IDENTICAL TAR (with the deflate named), SAME FILES or DIFFERS. The registry is
// npm's configured one. Prints a JSON summary (counts, and one line per package) on stdout.
// Usage: node tools/npm-check-measurement/measure.mjs [list.json] > tools/npm-check-measurement/results.json
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gunzipSync } from 'node:zlib';

const root = join(import.meta.dirname, '..', '..');
const core = (path) => import(join(root, 'packages/core/dist', path));
const { tarEntries } = await core('archive/tar-reader.js');
const { fetchNpmTarball, parseNpmSpec, resolveNpmVersion } = await core('npm/registry-tarball.js');
const { configuredRegistry } = await core('npm/npm-config.js');
const list = JSON.parse(readFileSync(process.argv[2] ?? join(import.meta.dirname, 'list.json'), 'utf8')).packages;
const BUILD_SCRIPTS = ['prepare', 'prepack', 'prepublish', 'build'];

const results = [];
for (const spec of list) {
  const { name, version } = parseNpmSpec(spec, 'list.json');
  const { registry } = configuredRegistry({ name });
  const started = Date.now();
  const work = mkdtempSync(join(tmpdir(), 'reprokit-npm-measure-'));
  try {
    const tgz = await fetchNpmTarball(await resolveNpmVersion(name, version, registry), spec, { registry });
    let scripts = {};
    for (const entry of tarEntries(gunzipSync(readFileSync(tgz)), spec, { safe: true })) {
      if (entry.type !== 'file') continue;
      const target = join(work, entry.path);
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, entry.content());
      chmodSync(target, entry.mode & 0o777);
      if (/^[^/]+\/package\.json$/.test(entry.path)) scripts = JSON.parse(entry.content().toString('utf8')).scripts ?? {};
    }
    const build = BUILD_SCRIPTS.filter((script) => typeof scripts[script] === 'string');
    if (build.length) {
      results.push({ spec, verdict: 'SKIPPED', why: `build scripts: ${build.join(', ')}` });
      continue;
    }
    const top = spawnSync('ls', [work], { encoding: 'utf8' }).stdout.trim().split('\n')[0];
    const run = spawnSync(process.execPath, [join(root, 'packages/core/bin/reprokit.js'), 'npm', 'check', spec, '--source', join(work, top), '--json'], { encoding: 'utf8', maxBuffer: 64 << 20 });
    if (run.status === 2 || !run.stdout) {
      results.push({ spec, verdict: 'ERROR', why: run.stderr.trim().split('\n').pop() });
      continue;
    }
    const r = JSON.parse(run.stdout);
    results.push({
      spec,
      verdict: r.verdict,
      npm: r.npm.version,
      deflate: r.deflate ? `${r.deflate.implementation}, level ${r.deflate.level}, memLevel ${r.deflate.memLevels.join('/')}; ${r.deflate.header}` : undefined,
      why: r.verdict === 'IDENTICAL' || r.verdict === 'IDENTICAL TAR' ? undefined : r.evidence.join(' | '),
      seconds: Math.round((Date.now() - started) / 100) / 10,
    });
  } catch (error) {
    results.push({ spec, verdict: 'ERROR', why: String(error.message ?? error).split('\n')[0] });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  process.stderr.write(`${results.at(-1).verdict.padEnd(13)} ${spec}\n`);
}
const counts = {};
for (const r of results) counts[r.verdict] = (counts[r.verdict] ?? 0) + 1;
const checked = results.filter((r) => r.verdict !== 'SKIPPED' && r.verdict !== 'ERROR').length;
process.stdout.write(JSON.stringify({ measuredAt: new Date().toISOString(), node: process.version, checked, counts, results }, null, 2) + '\n');
