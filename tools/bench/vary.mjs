#!/usr/bin/env node
// The price of variation builds: `vary` of asdf's elf target with all variations at once (a control
// build and a varied build side by side, each from a fresh copy of the source in a fresh container,
// then the comparison) against one cold build of asdf through the elf executor's build, alternating.
// The warm-up run probes the builder image once; later runs use the facts cached by image ID, as
// every vary after the first of an image does.
// Target: <= 2.2x. Both run in this process with their modules loaded, as in Nx's task runner.
// Usage: tools/bench/vary [--runs N] [--no-fail]
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const root = join(import.meta.dirname, '..', '..');
const { values } = parseArgs({ options: { runs: { type: 'string', default: '3' }, 'no-fail': { type: 'boolean', default: false } } });
const runs = Number(values.runs);
const project = join(root, 'packages', 'asdf');
const elf = JSON.parse(readFileSync(join(root, 'nx.json'), 'utf8')).plugins.find((p) => p.plugin === '@reprokit/nx').options.elf;
const envLock = join(root, elf.envLock);
const epoch = Number(execFileSync('git', ['log', '-1', '--format=%ct', '--', '.'], { cwd: project, encoding: 'utf8' }).trim());
const core = createRequire(import.meta.url)(join(root, 'packages/core/dist/index.js'));
const target = 'x86_64-unknown-linux-gnu';
const quiet = () => {};

async function coldBuild() {
  const start = process.hrtime.bigint();
  await core.buildRustBinaryInContainer({
    projectDir: project, binary: 'asdf', image: elf.image, envLock, target, outputDir: join(project, 'target', 'bench-vary-dist'),
    sourceDateEpoch: epoch, logPrefix: '', log: quiet,
  });
  return Number(process.hrtime.bigint() - start) / 1e9;
}

async function vary() {
  const cargo = core.rustContainerCommand({ binary: 'asdf', target });
  const start = process.hrtime.bigint();
  const result = await core.varyCommandBuild(
    {
      label: 'asdf:elf', projectDir: project, image: elf.image, envLock, command: cargo.command, env: cargo.env,
      artifacts: [{ name: 'asdf', path: cargo.artifact }], sourceDateEpoch: epoch, exclude: ['dist', 'target', 'repro-manifest.json'],
      workDir: core.varyWorkDir(project, 'bench'),
    },
    { logPrefix: '', log: quiet },
  );
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (!core.varyPassed([result])) throw new Error(`asdf does not reproduce under variations:\n${core.renderVaryReport([result])}`);
  return { seconds, variations: result.applied.length };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
// Warm up both: the page cache for the image and the sources.
await coldBuild();
const { variations } = await vary();
const times = { build: [], vary: [] };
for (let i = 0; i < runs; i++) {
  times.build.push(await coldBuild());
  times.vary.push((await vary()).seconds);
  process.stderr.write(`run ${i + 1}/${runs}: build ${times.build.at(-1).toFixed(2)} s, vary ${times.vary.at(-1).toFixed(2)} s\n`);
}
const ratio = median(times.vary) / median(times.build);
console.log(`one cold asdf build (elf, container): median ${median(times.build).toFixed(2)} s`);
console.log(`vary, ${variations} variations at once:     median ${median(times.vary).toFixed(2)} s`);
console.log(`ratio ${ratio.toFixed(2)}x (target <= 2.2x)`);
process.exit(ratio <= 2.2 || values['no-fail'] ? 0 : 1);
