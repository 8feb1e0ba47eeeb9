import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { declaredCommandTarget } from './command-target';
import { inferTargets } from './targets';

describe('inferTargets', () => {
  const inputs = [{ externalDependencies: ['@reprokit/core', '@reprokit/nx'] }];

  it('gives a Cargo project elf, checksum and reproduce, wired and cached as they must be', () => {
    const targets = inferTargets({ root: 'apps/x', cargoBinary: 'x', hasManifest: true }, { elf: { image: 'b@sha256:' + '0'.repeat(64), envLock: 'tools/envs/b/env.lock.json' } }, inputs);
    assert.deepEqual(Object.keys(targets), ['pins', 'elf', 'checksum', 'reproduce', 'published', 'vary']);
    const elf = targets.elf;
    assert.equal(elf.cache, true);
    assert.deepEqual(elf.outputs, [
      '{projectRoot}/dist/x',
      '{projectRoot}/dist/.reprokit/x.json',
      '{projectRoot}/dist/.reprokit/x.intoto.json',
      '{projectRoot}/dist/.reprokit/x.intoto.times.json',
      '{projectRoot}/dist/.reprokit/x.build.log',
    ]);
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

  it('gives a project with a manifest the published check: no build, never cached, silent without locations', () => {
    const targets = inferTargets({ root: 'x', hasManifest: true, hasDockerfile: true }, { publishedTargetName: 'pub' }, inputs);
    assert.equal(targets.pub.executor, 'nx:run-commands');
    assert.equal(targets.pub.cache, false);
    assert.equal(targets.pub.dependsOn, undefined);
    assert.equal(targets.pub.options.command, 'reprokit published {projectRoot}/repro-manifest.json --if-listed');
    // A manifest's appearance changes no target: Nx hashes the project's configuration into its builds.
    assert.deepEqual(inferTargets({ root: 'x', hasManifest: false, hasDockerfile: true }, {}, inputs), inferTargets({ root: 'x', hasManifest: true, hasDockerfile: true }, {}, inputs));
    assert.equal(inferTargets({ root: 'x', hasManifest: false }, {}, inputs).published, undefined);
  });

  it('gives an npm package with a manifest the npm target: cached on every file the pack reads, outputs by npm pack\'s file name', () => {
    const targets = inferTargets({ root: 'libs/a', hasManifest: true, npmPackage: { filename: 'scope-a-1.2.3.tgz', defaultEnvLock: 'packages/core/envs/node-builder/env.lock.json' } }, {}, inputs);
    assert.deepEqual(Object.keys(targets), ['pins', 'npm', 'checksum', 'reproduce', 'published']);
    const npm = targets.npm;
    assert.equal(npm.executor, '@reprokit/nx:npm');
    assert.equal(npm.cache, true);
    assert.deepEqual(npm.outputs, [
      '{projectRoot}/dist/scope-a-1.2.3.tgz',
      '{projectRoot}/dist/.reprokit/scope-a-1.2.3.tgz.json',
      '{projectRoot}/dist/.reprokit/scope-a-1.2.3.tgz.intoto.json',
      '{projectRoot}/dist/.reprokit/scope-a-1.2.3.tgz.intoto.times.json',
      '{projectRoot}/dist/.reprokit/scope-a-1.2.3.tgz.build.log',
    ]);
    for (const input of ['{projectRoot}/**/*', '!{projectRoot}/dist/**/*', '!{projectRoot}/repro-manifest.json', '{workspaceRoot}/package-lock.json', '{workspaceRoot}/packages/core/envs/node-builder/env.lock.json']) {
      assert.ok(npm.inputs!.includes(input), input);
    }
    assert.ok(npm.inputs!.some((i) => typeof i === 'object' && 'runtime' in i && i.runtime.includes("':(exclude)libs/a/repro-manifest.json'")));
    assert.deepEqual(targets.reproduce.dependsOn, ['npm']);
    // A pinned image of the workspace's own: its lock is the input, not reprokit's.
    const own = inferTargets({ root: 'libs/a', hasManifest: true, npmPackage: { filename: 'a-1.0.0.tgz', defaultEnvLock: 'x/env.lock.json' } }, { npm: { image: 'n@sha256:' + '1'.repeat(64), envLock: 'tools/envs/node-builder/env.lock.json' } }, inputs);
    assert.ok(own.npm.inputs!.includes('{workspaceRoot}/tools/envs/node-builder/env.lock.json'));
    assert.ok(!own.npm.inputs!.includes('{workspaceRoot}/x/env.lock.json'));
    assert.equal(own.npm.options.image, 'n@sha256:' + '1'.repeat(64));
  });

  it('wires reproduce and checksum to build targets a project declares itself', () => {
    const targets = inferTargets({ root: 'c', hasManifest: true, declaredBuildTargets: ['elf'] }, {}, inputs);
    assert.deepEqual(Object.keys(targets), ['pins', 'checksum', 'reproduce', 'published', 'vary']);
    assert.deepEqual(targets.reproduce.dependsOn, ['elf']);
    assert.deepEqual(targets.checksum.dependsOn, ['elf']);
  });

  it('gives the workspace root the env-check target: the CLI over every lock, never cached', () => {
    const root = inferTargets({ root: '.', hasManifest: false, isWorkspaceRoot: true }, {}, inputs);
    assert.equal(root['env-check'].executor, 'nx:run-commands');
    assert.equal(root['env-check'].cache, false);
    assert.deepEqual(root['env-check'].options, { command: 'reprokit env check', cwd: '{workspaceRoot}' });
    assert.ok(inferTargets({ root: '.', hasManifest: false, isWorkspaceRoot: true }, { envCheckTargetName: 'debs' }, inputs).debs);
    assert.equal(inferTargets({ root: 'x', hasManifest: false }, {}, inputs)['env-check'], undefined);
  });

  it('names targets as the plugin options say', () => {
    const targets = inferTargets({ root: 'x', cargoBinary: 'x', hasManifest: false }, { elfTargetName: 'build-elf', reproduceTargetName: 'repro' }, inputs);
    assert.deepEqual(Object.keys(targets), ['pins', 'build-elf', 'checksum', 'repro', 'published', 'vary']);
    assert.deepEqual(targets.repro.dependsOn, ['build-elf']);
  });

  it('gives a project with only a manifest checksum and reproduce, and any other project the pins gate', () => {
    assert.deepEqual(Object.keys(inferTargets({ root: 'x', hasManifest: true }, {}, inputs)), ['pins', 'checksum', 'reproduce', 'published']);
    const plain = inferTargets({ root: 'x', hasManifest: false }, { pinsTargetName: 'pin-gate' }, inputs);
    assert.deepEqual(Object.keys(plain), ['pin-gate']);
    assert.equal(plain['pin-gate'].cache, true);
    assert.ok(plain['pin-gate'].inputs!.includes('{workspaceRoot}/reprokit.pins.json'));
  });

  it('gives a project with a PKGBUILD a cached arch target with complete inputs and outputs, a build target of reproduce', () => {
    const arch = { image: 'a@sha256:' + '1'.repeat(64), envLock: 'tools/envs/a/env.lock.json' };
    const targets = inferTargets({ root: 'pkgs/x', cargoBinary: 'x', hasManifest: true, hasPkgbuild: true }, { arch }, inputs);
    assert.deepEqual(Object.keys(targets), ['pins', 'elf', 'arch', 'checksum', 'reproduce', 'published', 'vary']);
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
      ...['pkg', 'source', 'db', 'files'].flatMap((kind) =>
        ['.json', '.intoto.json', '.intoto.times.json', '.build.log'].map((suffix) => `{projectRoot}/dist/.reprokit/*.${kind}${suffix}`),
      ),
    ]);
    assert.deepEqual(target.configurations, { host: { environment: 'host' } });
    assert.deepEqual(targets.reproduce.dependsOn, ['elf', 'arch']);
    assert.deepEqual(targets.checksum.dependsOn, ['elf', 'arch']);
  });

  it('keeps inferring arch when project.json declares it (to add options), naming it as the plugin options say', () => {
    const targets = inferTargets({ root: 'x', hasManifest: false, hasPkgbuild: true, declaredBuildTargets: ['package'] }, { archTargetName: 'package' }, inputs);
    assert.deepEqual(Object.keys(targets), ['pins', 'package', 'checksum', 'reproduce', 'published', 'vary']);
    assert.equal(targets.package.executor, '@reprokit/nx:arch');
    assert.deepEqual(targets.reproduce.dependsOn, ['package']);
  });

  it('gives a project with build targets a cached vary target on the union of its builds\' inputs', () => {
    const elf = { image: 'b@sha256:' + '0'.repeat(64), envLock: 'tools/envs/b/env.lock.json' };
    const targets = inferTargets({ root: 'x', cargoBinary: 'x', hasManifest: false, hasDockerfile: true, declaredBuildTargets: ['cc', 'other'], declaredBuildInputs: [['{projectRoot}/Makefile', '{workspaceRoot}/tools/envs/c/env.lock.json'], undefined] }, { elf, varyTargetName: 'variations' }, inputs);
    const vary = targets.variations;
    assert.equal(vary.executor, '@reprokit/nx:vary');
    assert.equal(vary.cache, true);
    assert.equal(vary.dependsOn, undefined);
    assert.deepEqual(vary.options, { targets: ['cc', 'other', 'elf', 'oci'] });
    // Its result files, beside the records of each build's output directory, come back from the cache.
    assert.deepEqual(vary.outputs, ['{projectRoot}/dist/.reprokit/*.vary.json']);
    const elsewhere = inferTargets({ root: 'x', cargoBinary: 'x', hasManifest: false }, { elf: { ...elf, outputDir: 'out' } }, inputs).vary;
    assert.deepEqual(elsewhere.outputs, ['{projectRoot}/dist/.reprokit/*.vary.json', '{projectRoot}/out/.reprokit/*.vary.json']);
    for (const input of [
      '{projectRoot}/src/**/*',
      '{projectRoot}/Cargo.lock',
      '{workspaceRoot}/tools/envs/b/env.lock.json',
      '!{projectRoot}/target/**/*',
      '{projectRoot}/Makefile',
      '{workspaceRoot}/tools/envs/c/env.lock.json',
      '{projectRoot}/**/*',
      '!{projectRoot}/dist/**/*',
      '!{projectRoot}/repro-manifest.json',
    ]) {
      assert.ok(vary.inputs!.includes(input), input);
    }
    assert.equal(vary.inputs!.filter((i) => JSON.stringify(i) === JSON.stringify(inputs[0])).length, 1, 'each input once');
    assert.deepEqual(Object.keys(inferTargets({ root: 'x', hasManifest: true }, {}, inputs)), ['pins', 'checksum', 'reproduce', 'published'], 'no build, no vary');
  });
});

describe('inferTargets for elf targets declared with a command', () => {
  const inputs = [{ externalDependencies: ['@reprokit/core', '@reprokit/nx'] }];
  const elfCommand = { environment: 'container' as const, image: 'reprokit/c-builder@sha256:' + '2'.repeat(64), envLock: 'tools/envs/c-builder/env.lock.json', toolchainPackage: '^gcc-[0-9]+$' };

  it('completes the declared target: the elfCommand defaults, the whole project as input, the binary and its record as outputs', () => {
    const facts = { root: 'apps/hello-c', hasManifest: false, declaredBuildTargets: ['elf'], declaredCommandTargets: [{ name: 'elf', binary: 'hello' }] };
    const targets = inferTargets(facts, { elfCommand }, inputs);
    assert.deepEqual(Object.keys(targets), ['pins', 'elf', 'checksum', 'reproduce', 'published', 'vary']);
    const elf = targets.elf;
    assert.equal(elf.executor, '@reprokit/nx:elf');
    assert.equal(elf.cache, true);
    assert.deepEqual(elf.options, elfCommand);
    assert.deepEqual(elf.outputs, [
      '{projectRoot}/dist/hello',
      '{projectRoot}/dist/.reprokit/hello.json',
      '{projectRoot}/dist/.reprokit/hello.intoto.json',
      '{projectRoot}/dist/.reprokit/hello.intoto.times.json',
      '{projectRoot}/dist/.reprokit/hello.build.log',
    ]);
    for (const input of ['{projectRoot}/**/*', '!{projectRoot}/dist/**/*', '!{projectRoot}/target/**/*', '!{projectRoot}/repro-manifest.json', '{workspaceRoot}/tools/envs/c-builder/env.lock.json', inputs[0]]) {
      assert.ok(elf.inputs!.includes(input), JSON.stringify(input));
    }
    assert.ok(elf.inputs!.some((i) => typeof i === 'object' && 'runtime' in i && i.runtime === "git log -1 --format=%ct -- apps/hello-c ':(exclude)apps/hello-c/repro-manifest.json'"));
    assert.deepEqual(targets.reproduce.dependsOn, ['elf']);
  });

  it("takes the declared target's own outputDir and envLock over the defaults", () => {
    const facts = { root: 'c', hasManifest: true, declaredBuildTargets: ['build'], declaredCommandTargets: [{ name: 'build', binary: 'lua', outputDir: 'out', envLock: 'envs/mine/env.lock.json' }] };
    const build = inferTargets(facts, { elfCommand }, inputs).build;
    assert.deepEqual(build.outputs, [
      '{projectRoot}/out/lua',
      '{projectRoot}/out/.reprokit/lua.json',
      '{projectRoot}/out/.reprokit/lua.intoto.json',
      '{projectRoot}/out/.reprokit/lua.intoto.times.json',
      '{projectRoot}/out/.reprokit/lua.build.log',
    ]);
    assert.ok(build.inputs!.includes('!{projectRoot}/out/**/*'));
    assert.ok(build.inputs!.includes('{workspaceRoot}/envs/mine/env.lock.json'));
    assert.ok(!build.inputs!.includes('{workspaceRoot}/tools/envs/c-builder/env.lock.json'));
  });
});

describe('declaredCommandTarget', () => {
  const elf = (options: Record<string, unknown>) => ({ executor: '@reprokit/nx:elf', options: { command: ['make'], ...options } });

  it('takes an elf target with a command and a plain binary name, with its own outputDir and envLock', () => {
    assert.deepEqual(declaredCommandTarget('elf', elf({ binary: 'lua', outputDir: 'out/bin', envLock: 'tools/envs/c/env.lock.json' })), {
      name: 'elf',
      binary: 'lua',
      outputDir: 'out/bin',
      envLock: 'tools/envs/c/env.lock.json',
    });
  });

  it('leaves out targets without a command, and names or paths that would lead outside the project', () => {
    assert.equal(declaredCommandTarget('elf', { executor: '@reprokit/nx:elf', options: { binary: 'x' } }), undefined);
    assert.equal(declaredCommandTarget('elf', { executor: 'nx:run-commands', options: { command: ['make'], binary: 'x' } }), undefined);
    for (const bad of [{ binary: '../../etc/x' }, { binary: 'x/y' }, { binary: 'x', outputDir: '../elsewhere' }, { binary: 'x', outputDir: '/tmp' }, { binary: 'x', envLock: 'a/../../b' }, { binary: 'x', outputDir: 3 }]) {
      assert.equal(declaredCommandTarget('elf', elf(bad)), undefined, JSON.stringify(bad));
    }
  });
});
