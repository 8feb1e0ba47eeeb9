#!/usr/bin/env node
// Orchestration overhead of the elf executor's container mode: a cold asdf build through the
// executor against the same build typed by hand as one `docker run`, side by side, alternating.
// Target: <= 1.10x. The executor is called in this process with its modules loaded, as in Nx's task
// runner; a fresh `node` process per build is timed too and reported, as the price of start-up.
// Usage: tools/bench/elf-container [--runs N] [--no-fail]
import { execFileSync, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { chmodSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const root = join(import.meta.dirname, '..', '..');
const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' }, 'no-fail': { type: 'boolean', default: false } } });
const runs = Number(values.runs);
const project = join(root, 'packages', 'asdf');
const options = JSON.parse(readFileSync(join(project, 'project.json'), 'utf8')).targets.elf.options;
const imageId = options.image.split('@')[1];
const work = join(project, 'target', 'reprokit-container');
const epoch = execFileSync('git', ['log', '-1', '--format=%ct', '--', '.'], { cwd: project, encoding: 'utf8' }).trim();

// Both sides start from an empty target directory: a cold build, as every reprokit build is.
function clean() {
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  chmodSync(work, 0o777);
}

const executorScript = `
  const run = require(${JSON.stringify(join(root, 'packages/nx/dist/executors/elf/executor.js'))}).default;
  const context = { root: ${JSON.stringify(root)}, projectName: 'asdf', targetName: 'elf',
    projectsConfigurations: { projects: { asdf: { root: 'packages/asdf' } } } };
  run(${JSON.stringify({ ...options, sourceDateEpoch: Number(epoch) })}, context).then((r) => process.exit(r.success ? 0 : 1));`;

const byHand = [
  'run', '--rm', '--network', 'none', '--user', '1000:1000', '--read-only', '--tmpfs', '/tmp',
  '-v', `${project}:/src:ro`, '-v', `${work}:/out`, '-w', '/src',
  '-e', `SOURCE_DATE_EPOCH=${epoch}`, '-e', 'TZ=UTC', '-e', 'LC_ALL=C', '-e', 'HOME=/home/build',
  '-e', 'CARGO_HOME=/out/cargo-home', '-e', 'CARGO_TARGET_DIR=/out/target', '-e', 'CARGO_INCREMENTAL=0',
  '-e', 'RUSTFLAGS=-C target-feature=+crt-static', imageId,
  'cargo', 'build', '--release', '--locked', '--offline', '--target', 'x86_64-unknown-linux-gnu', '--bin', 'asdf',
];

const elfExecutor = createRequire(import.meta.url)(join(root, 'packages/nx/dist/executors/elf/executor.js')).default;
const context = { root, projectName: 'asdf', targetName: 'elf', projectsConfigurations: { projects: { asdf: { root: 'packages/asdf' } } } };
const quiet = { ...options, sourceDateEpoch: Number(epoch) };

async function timedInProcess() {
  clean();
  const write = process.stdout.write;
  process.stdout.write = () => true;
  const start = process.hrtime.bigint();
  try {
    const result = await elfExecutor(quiet, { ...context });
    if (!result.success) throw new Error('executor failed');
  } finally {
    process.stdout.write = write;
  }
  return Number(process.hrtime.bigint() - start) / 1e9;
}

function timed(command, args) {
  clean();
  const start = process.hrtime.bigint();
  const result = spawnSync(command, args, { cwd: root, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (result.status !== 0) throw new Error(`${command} failed: ${result.stderr.slice(-2000)}`);
  return seconds;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
// Warm up both: the page cache for the image and sources, and the executor's modules.
timed('docker', byHand);
const stderrWrite = process.stderr.write.bind(process.stderr);
process.stderr.write = () => true; // the executor streams cargo's log; not what is measured
await timedInProcess();
const times = { 'docker run': [], executor: [], 'fresh node': [] };
for (let i = 0; i < runs; i++) {
  times['docker run'].push(timed('docker', byHand));
  times.executor.push(await timedInProcess());
  times['fresh node'].push(timed(process.execPath, ['-e', executorScript]));
}
process.stderr.write = stderrWrite;
console.log('side            median s   min s');
for (const [name, xs] of Object.entries(times)) console.log(`${name.padEnd(14)}  ${median(xs).toFixed(3).padStart(8)}  ${Math.min(...xs).toFixed(3).padStart(6)}`);
const ratio = median(times.executor) / median(times['docker run']);
const fresh = median(times['fresh node']) / median(times['docker run']);
console.log(`ratio: executor = ${ratio.toFixed(3)}x docker run by hand (target <= 1.10x); in a fresh node process ${fresh.toFixed(3)}x; ${runs} runs each, cold builds`);
process.exit(ratio <= 1.1 || values['no-fail'] ? 0 : 1);
