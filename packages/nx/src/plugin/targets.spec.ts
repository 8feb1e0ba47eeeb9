import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cargoBinaryName } from './cargo-manifest';
import { inferTargets } from './targets';

describe('cargoBinaryName', () => {
  it('takes [package] name', () => assert.equal(cargoBinaryName('[package]\nname = "asdf" # the seed\nversion = "0.1.1"\n'), 'asdf'));
  it('prefers the first [[bin]] name', () => assert.equal(cargoBinaryName('[package]\nname = "lib-x"\n[[bin]]\nname = "tool"\n'), 'tool'));
  it('ignores names in other tables', () => assert.equal(cargoBinaryName('[dependencies.x]\nname = "y"\n[package]\nname = "z"\n'), 'z'));
  it('gives nothing for a workspace-only manifest', () => assert.equal(cargoBinaryName('[workspace]\nmembers = ["a"]\n'), undefined));
});

describe('inferTargets', () => {
  const inputs = [{ externalDependencies: ['@reprokit/core', '@reprokit/nx'] }];

  it('gives a Cargo project elf, checksum and reproduce, wired and cached as they must be', () => {
    const targets = inferTargets({ root: 'apps/x', cargoBinary: 'x', hasManifest: true }, { elf: { image: 'b@sha256:' + '0'.repeat(64), envLock: 'tools/envs/b/env.lock.json' } }, inputs);
    assert.deepEqual(Object.keys(targets), ['pins', 'elf', 'checksum', 'reproduce']);
    const elf = targets.elf;
    assert.equal(elf.cache, true);
    assert.deepEqual(elf.outputs, ['{projectRoot}/dist/x', '{projectRoot}/dist/.reprokit/x.json']);
    for (const input of ['{projectRoot}/src/**/*', '{projectRoot}/Cargo.lock', '{projectRoot}/Cargo.toml', '{workspaceRoot}/tools/envs/b/env.lock.json']) {
      assert.ok(elf.inputs!.includes(input), input);
    }
    assert.ok(elf.inputs!.some((i) => typeof i === 'object' && 'runtime' in i && i.runtime.includes("':(exclude)apps/x/repro-manifest.json'")));
    assert.ok(elf.inputs!.includes(inputs[0]));
    assert.equal(elf.options.binary, 'x');
    assert.equal(elf.options.image, 'b@sha256:' + '0'.repeat(64));
    assert.deepEqual(targets.reproduce.dependsOn, ['elf']);
    assert.equal(targets.reproduce.cache, false);
    assert.equal(targets.reproduce.options.command, "reprokit reproduce {projectRoot}/repro-manifest.json --record-command 'npx nx run {projectName}:checksum --update'");
    assert.ok(targets.elf.metadata?.description);
  });

  it('wires reproduce and checksum to build targets a project declares itself', () => {
    const targets = inferTargets({ root: 'c', hasManifest: true, declaredBuildTargets: ['elf'] }, {}, inputs);
    assert.deepEqual(Object.keys(targets), ['pins', 'checksum', 'reproduce']);
    assert.deepEqual(targets.reproduce.dependsOn, ['elf']);
    assert.deepEqual(targets.checksum.dependsOn, ['elf']);
  });

  it('names targets as the plugin options say', () => {
    const targets = inferTargets({ root: 'x', cargoBinary: 'x', hasManifest: false }, { elfTargetName: 'build-elf', reproduceTargetName: 'repro' }, inputs);
    assert.deepEqual(Object.keys(targets), ['pins', 'build-elf', 'checksum', 'repro']);
    assert.deepEqual(targets.repro.dependsOn, ['build-elf']);
  });

  it('gives a project with only a manifest checksum and reproduce, and any other project the pins gate', () => {
    assert.deepEqual(Object.keys(inferTargets({ root: 'x', hasManifest: true }, {}, inputs)), ['pins', 'checksum', 'reproduce']);
    const plain = inferTargets({ root: 'x', hasManifest: false }, { pinsTargetName: 'pin-gate' }, inputs);
    assert.deepEqual(Object.keys(plain), ['pin-gate']);
    assert.equal(plain['pin-gate'].cache, true);
    assert.ok(plain['pin-gate'].inputs!.includes('{workspaceRoot}/reprokit.pins.json'));
  });

  it('gives a project with a PKGBUILD a cached arch target with complete inputs and outputs, a build target of reproduce', () => {
    const arch = { image: 'a@sha256:' + '1'.repeat(64), envLock: 'tools/envs/a/env.lock.json' };
    const targets = inferTargets({ root: 'pkgs/x', cargoBinary: 'x', hasManifest: true, hasPkgbuild: true }, { arch }, inputs);
    assert.deepEqual(Object.keys(targets), ['pins', 'elf', 'arch', 'checksum', 'reproduce']);
    const target = targets.arch;
    assert.equal(target.executor, '@reprokit/nx:arch');
    assert.equal(target.cache, true);
    assert.deepEqual(target.options, arch);
    for (const input of ['{projectRoot}/**/*', '!{projectRoot}/repro-manifest.json', '{workspaceRoot}/tools/envs/a/env.lock.json', inputs[0]]) {
      assert.ok(target.inputs!.includes(input), JSON.stringify(input));
    }
    assert.ok(target.inputs!.some((i) => typeof i === 'object' && 'runtime' in i && i.runtime === "git log -1 --format=%H:%ct -- pkgs/x ':(exclude)pkgs/x/repro-manifest.json'"));
    assert.deepEqual(target.outputs, [
      '{projectRoot}/dist/arch',
      '{projectRoot}/dist/.reprokit/*.pkg.json',
      '{projectRoot}/dist/.reprokit/*.source.json',
      '{projectRoot}/dist/.reprokit/*.db.json',
      '{projectRoot}/dist/.reprokit/*.files.json',
    ]);
    assert.deepEqual(target.configurations, { host: { environment: 'host' } });
    assert.deepEqual(targets.reproduce.dependsOn, ['elf', 'arch']);
    assert.deepEqual(targets.checksum.dependsOn, ['elf', 'arch']);
  });

  it('keeps inferring arch when project.json declares it (to add options), naming it as the plugin options say', () => {
    const targets = inferTargets({ root: 'x', hasManifest: false, hasPkgbuild: true, declaredBuildTargets: ['package'] }, { archTargetName: 'package' }, inputs);
    assert.deepEqual(Object.keys(targets), ['pins', 'package', 'checksum', 'reproduce']);
    assert.equal(targets.package.executor, '@reprokit/nx:arch');
    assert.deepEqual(targets.reproduce.dependsOn, ['package']);
  });
});
