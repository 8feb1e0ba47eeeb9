#!/usr/bin/env node
// Nx overhead of reprokit, two numbers:
// 1. a fully cached `nx run asdf:reproduce` (the build restored from the cache, then re-verified)
//    against a cached no-op target in the same workspace, side by side, alternating. Target <= 1.3x.
//    Measured where users run it: a workspace with the packed @reprokit packages installed (as the
//    consumer e2e makes one). In this repository Nx loads the plugin's TypeScript sources through
//    swc-node for every executor it forks, which costs ~0.25 s more; that ratio is printed too.
// 2. the plugin's createNodes over 1,000 generated Cargo projects with manifests. Target <= 1 s.
// Usage: tools/bench/nx [--runs N] [--projects N] [--no-fail]
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' }, projects: { type: 'string', default: '1000' }, 'no-fail': { type: 'boolean', default: false } } });
const repo = join(import.meta.dirname, '..', '..');
const env = { ...process.env, NX_DAEMON: 'false', NX_TUI: 'false', NX_NO_CLOUD: 'true', CI: 'true' };
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const temps = [];
process.on('exit', () => temps.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

const nxBin = (ws) => join(ws, 'node_modules', '.bin', 'nx');
function run(cwd, command, args) {
  const result = spawnSync(command, args, { cwd, env, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed:\n${result.stdout}${result.stderr}`);
  return result.stdout;
}
function commitAll(ws) {
  const gitEnv = ['-c', 'user.name=bench', '-c', 'user.email=bench@reprokit.invalid'];
  run(ws, 'git', ['init', '-q']);
  run(ws, 'git', ['add', '-A']);
  run(ws, 'git', [...gitEnv, 'commit', '-qm', 'bench']);
}
const NOOP = JSON.stringify({ name: 'noop', targets: { noop: { executor: 'nx:run-commands', cache: true, options: { command: 'true' } } } });

/** This repository's files as git sees them, node_modules linked: reprokit as a local plugin. */
function localWorkspace() {
  const ws = mkdtempSync(join(tmpdir(), 'reprokit-bench-nx-'));
  temps.push(ws);
  const listed = spawnSync('git', ['ls-files', '-co', '--exclude-standard', '-z'], { cwd: repo, encoding: 'utf8' }).stdout.split('\0').filter(Boolean);
  for (const file of listed) {
    mkdirSync(dirname(join(ws, file)), { recursive: true });
    cpSync(join(repo, file), join(ws, file));
  }
  symlinkSync(join(repo, 'node_modules'), join(ws, 'node_modules'));
  mkdirSync(join(ws, 'packages', 'noop'));
  writeFileSync(join(ws, 'packages', 'noop', 'project.json'), NOOP);
  commitAll(ws);
  return ws;
}

/** A fresh Nx workspace with the packed packages installed and `init` run, and asdf copied in. */
function installedWorkspace() {
  const ws = mkdtempSync(join(tmpdir(), 'reprokit-bench-nx-installed-'));
  temps.push(ws);
  run(repo, 'npm', ['pack', '--silent', '-w', '@reprokit/core', '-w', '@reprokit/nx', '--pack-destination', ws]);
  const tarball = (name) => join(ws, readdirSync(ws).find((file) => file.startsWith(`reprokit-${name}-`)));
  const versions = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')).devDependencies;
  writeFileSync(join(ws, 'package.json'), JSON.stringify({ name: 'bench', private: true, devDependencies: { nx: versions.nx, '@nx/devkit': versions['@nx/devkit'], '@reprokit/core': `file:${tarball('core')}`, '@reprokit/nx': `file:${tarball('nx')}` } }));
  writeFileSync(join(ws, 'nx.json'), JSON.stringify({ analytics: false, neverConnectToCloud: true }));
  run(ws, 'npm', ['install', '--no-audit', '--no-fund', '--prefer-offline']);
  run(ws, process.execPath, [nxBin(ws), 'g', '@reprokit/nx:init']);
  for (const file of ['Cargo.toml', 'Cargo.lock', 'project.json', 'src/main.rs']) {
    mkdirSync(dirname(join(ws, 'apps/asdf', file)), { recursive: true });
    cpSync(join(repo, 'packages/asdf', file), join(ws, 'apps/asdf', file));
  }
  mkdirSync(join(ws, 'apps', 'noop'));
  writeFileSync(join(ws, 'apps', 'noop', 'project.json'), NOOP);
  commitAll(ws);
  run(ws, process.execPath, [nxBin(ws), 'run', 'asdf:checksum', '--update']);
  return ws;
}

function compare(ws) {
  const timedNx = (...args) => {
    const start = process.hrtime.bigint();
    const output = run(ws, process.execPath, [nxBin(ws), ...args]);
    return { seconds: Number(process.hrtime.bigint() - start) / 1e9, output };
  };
  timedNx('run', 'asdf:reproduce'); // fill the cache
  timedNx('run', 'noop:noop');
  const times = { reproduce: [], noop: [] };
  for (let i = 0; i < Number(values.runs); i++) {
    const reproduce = timedNx('run', 'asdf:reproduce');
    if (!/local cache|existing outputs match/.test(reproduce.output) || !/REPRODUCED asdf/.test(reproduce.output)) throw new Error('expected a cache hit that still verifies');
    times.reproduce.push(reproduce.seconds);
    times.noop.push(timedNx('run', 'noop:noop').seconds);
  }
  return { reproduce: median(times.reproduce), noop: median(times.noop), ratio: median(times.reproduce) / median(times.noop) };
}

const installed = compare(installedWorkspace());
const local = compare(localWorkspace());
console.log('workspace                 cached reproduce   cached no-op   ratio');
for (const [name, r] of [['installed plugin', installed], ['local plugin (this repo)', local]]) {
  console.log(`${name.padEnd(24)}  ${r.reproduce.toFixed(3).padStart(14)} s  ${r.noop.toFixed(3).padStart(11)} s  ${r.ratio.toFixed(2)}x`);
}
const ratio = installed.ratio;
console.log(`ratio: cached reproduce = ${ratio.toFixed(2)}x a cached no-op target with the installed plugin (target <= 1.3x); ${local.ratio.toFixed(2)}x as a local plugin; ${values.runs} runs each, no daemon`);

// 2. createNodes over generated projects, in this process (plugin time only).
const many = mkdtempSync(join(tmpdir(), 'reprokit-bench-infer-'));
temps.push(many);
const files = [];
for (let i = 0; i < Number(values.projects); i++) {
  const dir = join(many, 'apps', `p${i}`);
  mkdirSync(join(dir, 'src'), { recursive: true });
  writeFileSync(join(dir, 'Cargo.toml'), `[package]\nname = "p${i}"\nversion = "0.1.0"\n`);
  writeFileSync(join(dir, 'repro-manifest.json'), '{}');
  files.push(`apps/p${i}/Cargo.toml`, `apps/p${i}/repro-manifest.json`);
}
const { createNodes } = createRequire(import.meta.url)(join(repo, 'packages', 'nx', 'dist', 'plugin.js'));
const context = { nxJsonConfiguration: {}, workspaceRoot: many };
await createNodes[1](files.slice(0, 10), {}, context); // warm up the module
const start = process.hrtime.bigint();
const results = await createNodes[1](files, { elf: { image: 'x@sha256:' + '0'.repeat(64) } }, context);
const inferSeconds = Number(process.hrtime.bigint() - start) / 1e9;
const projects = results.filter(([, result]) => result.projects && Object.keys(result.projects).length).length;
console.log(`createNodes: ${projects} projects from ${files.length} files in ${inferSeconds.toFixed(3)} s (target <= 1 s)`);
process.exit((ratio <= 1.3 && inferSeconds <= 1) || values['no-fail'] ? 0 : 1);
