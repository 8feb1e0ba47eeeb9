#!/usr/bin/env node
// `reprokit pins check` over a generated repository of 10,000 files (a mix of Dockerfiles, shell
// scripts, Makefiles, workflows, PKGBUILDs, Cargo and npm manifests, and plain sources), timed as
// a whole CLI run (start-up included) beside `grep -rn FROM` over the same tree as a floor.
// Target: <= 3 s. Usage: tools/bench/pins [--files N] [--runs N] [--no-fail]
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { files: { type: 'string', default: '10000' }, runs: { type: 'string', default: '3' }, 'no-fail': { type: 'boolean', default: false } } });
const total = Number(values.files);
const cli = join(import.meta.dirname, '..', '..', 'packages', 'core', 'bin', 'reprokit.js');
const root = mkdtempSync(join(tmpdir(), 'reprokit-bench-pins-'));
process.on('exit', () => rmSync(root, { recursive: true, force: true }));

// One in ten files is something the rules parse; one in fifty of those has a problem.
const kinds = [
  (i) => ['Dockerfile', `ARG BASE=debian:12@sha256:${'a'.repeat(64)}\nFROM $BASE AS build\nRUN cargo build --locked \\\n    --release\nFROM ${i % 50 ? `alpine@sha256:${'b'.repeat(64)}` : 'alpine:3.19'}\nCOPY --from=build /x /x\n`],
  (i) => ['build.sh', `#!/bin/sh\nset -eu\n# fetch\ncurl -fsSL https://example.invalid/x.tgz -o x.tgz\n${i % 50 ? 'docker run --rm img@sha256:' + 'c'.repeat(64) : 'docker run --rm img:latest'} make\n`],
  () => ['Makefile', `IMAGE := rust@sha256:${'d'.repeat(64)}\nall:\n\tdocker run --rm $(IMAGE) cargo build --locked\n`],
  (i) => [join('.github', 'workflows', 'ci.yml'), `on: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@${i % 50 ? 'e'.repeat(40) : 'v4'}\n      - run: npm ci\n`],
  () => ['PKGBUILD', `pkgname=x\npkgver=1\nsource=("https://example.invalid/x-$pkgver.tar.gz")\nsha256sums=('${'f'.repeat(64)}')\nbuild() {\n  cargo build --locked\n}\n`],
  () => ['Cargo.toml', '[package]\nname = "x"\nversion = "0.1.0"\n'],
  () => ['Cargo.lock', 'version = 4\n'],
  () => ['package.json', '{"name":"x","dependencies":{"a":"1"}}\n'],
  () => ['package-lock.json', '{"lockfileVersion":3}\n'],
];
for (let i = 0; i < total; i++) {
  const dir = join(root, `p${Math.floor(i / 10)}`);
  mkdirSync(dir, { recursive: true });
  if (i % 10 < kinds.length && i % 10 !== 9) {
    const [name, text] = kinds[i % 10](i);
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  } else {
    writeFileSync(join(dir, `src${i}.rs`), `fn f${i}() -> u32 { ${i} }\n`.repeat(20));
  }
}

// The child reports its own CPU time on exit: on a shared, loaded machine wall time measures the
// neighbours as much as the scan, CPU time does not.
const CPU_REPORT = 'data:text/javascript,process.on("exit",()=>{const u=process.cpuUsage();process.stderr.write("\\ncpu-seconds "+(u.user+u.system)/1e6+"\\n")})';
const cpuSeconds = (stderr) => Number(/cpu-seconds ([0-9.]+)/.exec(stderr)?.[1] ?? NaN);

function timed(command, args) {
  const start = process.hrtime.bigint();
  const result = spawnSync(command, args, { cwd: root, encoding: 'utf8', maxBuffer: 64 << 20 });
  return { seconds: Number(process.hrtime.bigint() - start) / 1e9, result };
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const runs = { pins: [], grep: [], cpu: [] };
let findings = 0;
for (let r = 0; r < Number(values.runs); r++) {
  runs.grep.push(timed('grep', ['-rn', 'FROM', '.']).seconds);
  const { seconds, result } = timed(process.execPath, ['--import', CPU_REPORT, cli, 'pins', 'check', '.', '--format', 'json']);
  if (result.status !== 1) throw new Error(`pins check exited ${result.status}: ${result.stderr}`);
  findings = JSON.parse(result.stdout).length;
  runs.pins.push(seconds);
  runs.cpu.push(cpuSeconds(result.stderr));
}
const seconds = median(runs.pins);
console.log(`files: ${total}, findings: ${findings}`);
console.log(`grep -rn FROM  median ${median(runs.grep).toFixed(3)} s`);
console.log(`pins check     median ${seconds.toFixed(3)} s (${(total / seconds).toFixed(0)} files/s; ${(seconds / median(runs.grep)).toFixed(1)}x grep)`);
console.log(`pins check     median ${median(runs.cpu).toFixed(3)} s of CPU (user + system)`);
console.log(`result: ${seconds.toFixed(2)} s for ${total} files (target <= 3 s)`);
process.exit(seconds <= 3 || values['no-fail'] ? 0 : 1);
