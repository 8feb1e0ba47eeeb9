import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { buildArtifactInContainer } from '../build/container-build';
import { tempDir } from '../testing/fixtures';
import { varyCommandBuild, type VaryResult } from './kinds/container-vary';
import { renderVaryReport } from './report';
import { VARIATION_NAMES } from './variations';

// Real builds in the pinned c-builder image (docker required: without it these tests fail).
const repo = join(__dirname, '..', '..', '..', '..');
// The pinned c-builder image hello-c builds in: the plugin's defaults for elf targets with a command.
const helloC = JSON.parse(readFileSync(join(repo, 'nx.json'), 'utf8')).plugins.find((p: { plugin: string }) => p.plugin === '@reprokit/nx').options.elfCommand;
const fixtures = join(repo, 'packages/core/test-fixtures/vary');
const log = () => {};

/** Varies a copy of a fixture (or of `source`), so that the fixtures' directories stay clean. */
async function vary(fixture: string, artifact: string, variations?: (typeof VARIATION_NAMES)[number][], source = join(fixtures, fixture)): Promise<VaryResult> {
  const dir = tempDir('reprokit-vary-');
  cpSync(source, join(dir, fixture), { recursive: true, filter: (path) => !/\/(dist|target)$/.test(path) });
  const projectDir = join(dir, fixture);
  try {
    return await varyCommandBuild(
      {
        label: fixture,
        projectDir,
        image: helloC.image,
        envLock: join(repo, helloC.envLock),
        command: ['make', 'OUT=/out'],
        artifacts: [{ name: artifact, path: artifact }],
        sourceDateEpoch: 1795564800,
        exclude: ['dist', 'target'],
        workDir: join(projectDir, 'target', 'reprokit-vary'),
      },
      { variations, logPrefix: `[${fixture}] `, log },
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('vary on real builds (docker, c-builder)', () => {
  it('hello-c reproduces under every variation the image allows, clock and locale included', async () => {
    const result = await vary('hello-c', 'hello', undefined, join(repo, 'packages/hello-c'));
    const text = renderVaryReport([result]);
    assert.deepEqual(result.artifacts.map((a) => a.reproducible), [true], text);
    const applied = result.applied.map((a) => a.name);
    for (const name of ['build-path', 'clock', 'hostname', 'user', 'home', 'umask', 'locale', 'timezone', 'environment', 'cpus', 'file-order']) {
      assert.ok(applied.includes(name as never), `${name} not applied: ${text}`);
    }
    assert.match(text, new RegExp(`^hello-c hello: REPRODUCIBLE UNDER ${applied.length} VARIATIONS$`, 'm'));
    assert.deepEqual(result.notApplied.map((n) => n.name).sort(), ['aslr', 'personality']);
    assert.equal(result.keptIn, undefined);
  });

  const cases: [fixture: string, artifact: string, variation: string, difference: RegExp][] = [
    // What `reprokit diff` names first: the ELF section (the build ID note only when nothing else differs) or tar entry.
    // The date string lives in .rodata; whether it also moves code depends on the calendar (the
    // linker's string merging), so only the section that must differ is asserted, not which comes first.
    ['clock', 'clock', 'clock', /^section \.[a-z.]+: content differs .*\bsection \.rodata: content differs\b|^section \.rodata: content differs\b/],
    // A longer string moves the code after it: .text is the first section whose bytes differ.
    ['build-path', 'build-path', 'build-path', /^section \.text: content differs .*\(\d+ differences, elf\)$/],
    ['hostname', 'hostname', 'hostname', /^section \.text: content differs .*\(\d+ differences, elf\)$/],
    ['file-order', 'file-order', 'file-order', /^section \.text: /],
    ['cpus', 'cpus', 'cpus', /^section \.text: /],
    ['umask', 'data.tar', 'umask', /^\.: mode 0755 -> 0775\b/],
  ];
  for (const [fixture, artifact, variation, difference] of cases) {
    it(`${fixture}: NOT REPRODUCIBLE, under ${variation} and nothing else`, async () => {
      const result = await vary(fixture, artifact);
      const text = renderVaryReport([result]);
      const [verdict] = result.artifacts;
      assert.equal(verdict.reproducible, false, text);
      assert.deepEqual(verdict.culprits.map((c) => c.variation), [variation], text);
      assert.match(verdict.culprits[0].difference, difference, text);
      assert.ok(verdict.allAtOnce, text);
      assert.match(text, new RegExp(`^${fixture} ${artifact.replace('.', '\\.')}: NOT REPRODUCIBLE under ${variation}$`, 'm'));
    });
  }

  it('the control build is the elf executor\'s in-tree build, byte for byte (same copy, command, image and environment), its artifact below /src', async () => {
    const dir = tempDir('reprokit-vary-control-');
    const projectDir = join(dir, 'clock');
    cpSync(join(fixtures, 'clock'), projectDir, { recursive: true });
    try {
      // The clock fixture differs under the clock, so vary keeps its builds' outputs.
      const result = await varyCommandBuild(
        { label: 'clock', projectDir, image: helloC.image, envLock: join(repo, helloC.envLock), command: ['make', 'OUT=.'], artifacts: [{ name: 'clock', path: '/src/clock' }], sourceDateEpoch: 1795564800, exclude: ['dist', 'target'], workDir: join(projectDir, 'target', 'reprokit-vary') },
        { variations: ['clock', 'build-path'], logPrefix: '', log },
      );
      // Built next to its sources, wherever the build path put them, and copied out after the build.
      assert.deepEqual(result.artifacts[0].culprits.map((c) => c.variation), ['clock'], renderVaryReport([result]));
      assert.ok(result.keptIn, renderVaryReport([result]));
      const built = await buildArtifactInContainer({
        projectDir, image: helloC.image, envLock: join(repo, helloC.envLock), command: ['make', 'OUT=.'], artifact: '/src/clock', inTree: true,
        name: 'clock', kind: 'elf', outputDir: join(projectDir, 'dist'), sourceDateEpoch: 1795564800, logPrefix: '', log,
      });
      assert.ok(readFileSync(built.file).equals(readFileSync(join(result.keptIn!, 'control', '.reprokit-src', 'clock'))), 'the executor\'s build and vary\'s control build differ');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('only the variations asked for are tried: the clock fixture reproduces when the clock is left alone', async () => {
    const result = await vary('clock', 'clock', ['build-path', 'umask', 'timezone']);
    assert.deepEqual(result.applied.map((a) => a.name), ['build-path', 'umask', 'timezone']);
    assert.equal(result.artifacts[0].reproducible, true, renderVaryReport([result]));
  });

  it('the CLI prints the report and exits 1 on a difference; --json; 2 on an unknown variation', () => {
    const cli = join(repo, 'packages/core/bin/reprokit.js');
    const dir = tempDir('reprokit-vary-cli-');
    // mkdtemp makes it 0700; the project directory is mounted as it is, for the build user to read.
    chmodSync(dir, 0o755);
    cpSync(join(fixtures, 'umask'), dir, { recursive: true });
    try {
      const args = ['vary', '--image', helloC.image, '--env-lock', join(repo, helloC.envLock), '--project-dir', dir, '--source-date-epoch', '0'];
      const run = spawnSync(process.execPath, [cli, ...args, '--variations', 'umask,timezone', '--json', '--artifact', 'data.tar', '--', 'make', 'OUT=/out'], { encoding: 'utf8' });
      assert.equal(run.status, 1, run.stderr);
      const [result] = JSON.parse(run.stdout) as VaryResult[];
      assert.deepEqual(result.artifacts[0].culprits.map((c) => c.variation), ['umask']);
      assert.ok(result.keptIn && existsSync(join(result.keptIn, 'umask', 'data.tar')), 'the differing build is kept for inspection');
      const bad = spawnSync(process.execPath, [cli, ...args, '--variations', 'moon-phase', '--artifact', 'data.tar', '--', 'make'], { encoding: 'utf8' });
      assert.equal(bad.status, 2);
      assert.match(bad.stderr, /^reprokit: --variations: unknown variation "moon-phase" \(one of build-path, /);
      assert.doesNotMatch(bad.stderr, /\n\s+at /);
      const escape = spawnSync(process.execPath, [cli, ...args, '--artifact', '../../etc/passwd', '--', 'make'], { encoding: 'utf8' });
      assert.equal(escape.status, 2);
      assert.match(escape.stderr, /artifact: "\.\.\/\.\.\/etc\/passwd" must be a relative path below \/out, or below \/src for an in-tree build/);
      const escapeSource = spawnSync(process.execPath, [cli, ...args, '--artifact', '/src/../etc/passwd', '--', 'make'], { encoding: 'utf8' });
      assert.equal(escapeSource.status, 2);
      assert.match(escapeSource.stderr, /artifact: "\/src\/\.\.\/etc\/passwd" must be a relative path/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
