import assert from 'node:assert/strict';
import { cpSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { TempWorkspace } from './workspace';

// `nx run <project>:vary` through real nx, docker and git in a temp workspace.
describe('nx run asdf:vary in a temp workspace', () => {
  const ws = new TempWorkspace();
  const noStack = (output: string) => assert.doesNotMatch(output, /^\s+at .*\(.*:\d+:\d+\)$/m, 'stack trace printed');

  it('asdf and hello-c reproduce under every variation their images allow', () => {
    const { status, output } = ws.nx('run-many', '-t', 'vary', '-p', 'asdf', 'hello-c', '--output-style=static');
    assert.equal(status, 0, output);
    // rust-builder and c-builder have libfaketime and C.UTF-8, not setarch; ASLR cannot be turned off under docker's seccomp.
    assert.match(output, /^asdf:elf asdf: REPRODUCIBLE UNDER 11 VARIATIONS$/m);
    assert.match(output, /^hello-c:elf hello: REPRODUCIBLE UNDER 11 VARIATIONS$/m);
    assert.match(output, /varied: build-path, clock, hostname, user, home, umask, locale, timezone, environment, cpus, file-order \(image reprokit\/rust-builder@sha256:/);
    assert.match(output, /^ {2}not varied: aslr: docker's default seccomp profile refuses/m);
    // The image and the package too, under the variations that reach their builds; the others listed with why.
    assert.match(output, /^asdf:oci asdf-image: REPRODUCIBLE UNDER 5 VARIATIONS$/m);
    assert.match(output, /^ {2}varied: clock, hostname, home, environment, cpus \(image reprokit\/rust-builder@sha256:/m);
    assert.match(output, /^ {2}not varied: timezone: every RUN's environment sets TZ itself/m);
    for (const name of ['asdf.pkg', 'asdf.db', 'asdf.files']) assert.match(output, new RegExp(`^asdf:arch ${name.replace('.', '\\.')}: REPRODUCIBLE UNDER 9 VARIATIONS$`, 'm'));
    assert.match(output, /^asdf:arch asdf\.source: not varied: reprokit makes the source tarball from git on the host/m);
    assert.match(output, /^ {2}not varied: build-path: makepkg records BUILDDIR and the start directory in \.BUILDINFO/m);
    // One result file per artifact, beside the build records.
    for (const [name, summary] of [['asdf', 'REPRODUCIBLE UNDER 11 VARIATIONS'], ['asdf-image', 'REPRODUCIBLE UNDER 5 VARIATIONS'], ['asdf.pkg', 'REPRODUCIBLE UNDER 9 VARIATIONS'], ['asdf.source', 'not varied: reprokit makes the source tarball from git on the host before makepkg runs; no build condition reaches it']]) {
      assert.equal(JSON.parse(ws.read(`packages/asdf/dist/.reprokit/${name}.vary.json`)).summary, summary, name);
    }
    noStack(output);
    // The workspace report shows them per artifact (its Variations column); vary builds nothing into
    // dist/, so the artifacts themselves are "not built" (exit 1), which is not what is checked here.
    const report = ws.reprokit('report', '--out', 'vary-report', '--no-pins');
    assert.equal(report.status, 1, report.output);
    assert.match(report.output, /7 not built/);
    const artifacts = (JSON.parse(ws.read('vary-report/report.json')) as { projects: { name: string; artifacts: { name: string; variations?: { verdict: string; summary: string } }[] }[] }).projects.flatMap((p) => p.artifacts.map((a) => [`${p.name}/${a.name}`, a.variations?.summary]));
    assert.deepEqual(Object.fromEntries(artifacts.filter(([name]) => ['asdf/asdf', 'asdf/asdf-image', 'asdf/asdf.pkg', 'hello-c/hello'].includes(name!))), {
      'asdf/asdf': 'REPRODUCIBLE UNDER 11 VARIATIONS',
      'asdf/asdf-image': 'REPRODUCIBLE UNDER 5 VARIATIONS',
      'asdf/asdf.pkg': 'REPRODUCIBLE UNDER 9 VARIATIONS',
      'hello-c/hello': 'REPRODUCIBLE UNDER 11 VARIATIONS',
    });
  });

  it('is cached on its builds\' inputs: a second run is a cache hit, a changed source is not', () => {
    const again = ws.nx('run', 'asdf:vary', '--output-style=static');
    assert.equal(again.status, 0, again.output);
    assert.match(again.output, /nx run asdf:vary +\[(local cache|existing outputs match the cache, left as is)\]/);
    const inputs = ws.nx('show', 'target', 'inputs', 'asdf:vary', '--json');
    assert.equal(inputs.status, 0, inputs.output);
    const files = (JSON.parse(inputs.output.slice(inputs.output.indexOf('{'))) as { files: string[] }).files;
    for (const input of ['packages/asdf/src/main.rs', 'packages/asdf/Cargo.lock', 'packages/asdf/PKGBUILD', 'packages/asdf/Dockerfile', 'packages/core/envs/rust-builder/env.lock.json', 'packages/core/envs/arch-builder/env.lock.json', 'packages/core/src/vary/variations.ts']) {
      assert.ok(files.includes(input), `${input} is not an input of asdf:vary`);
    }
    assert.ok(!files.includes('packages/asdf/repro-manifest.json'), 'the manifest is not an input');
    ws.write('packages/asdf/src/main.rs', ws.read('packages/asdf/src/main.rs') + '\n// changed\n');
    const changed = ws.nx('run', 'asdf:vary', '--output-style=static', '--verbose');
    assert.equal(changed.status, 0, changed.output);
    assert.doesNotMatch(changed.output, /nx run asdf:vary +\[local cache\]/);
    assert.match(changed.output, /^asdf:elf asdf: REPRODUCIBLE UNDER 11 VARIATIONS$/m);
  });

  it('leaves a result file per artifact beside its build record, restored by a cache hit and expected by checksum', () => {
    const resultFile = 'packages/hello-c/dist/.reprokit/hello.vary.json';
    const written = JSON.parse(ws.read(resultFile));
    assert.equal(written.summary, 'REPRODUCIBLE UNDER 11 VARIATIONS');
    assert.equal(written.verdict, 'reproducible');
    assert.equal(written.artifact, 'hello');
    assert.deepEqual(written.variations, ['build-path', 'clock', 'hostname', 'user', 'home', 'umask', 'locale', 'timezone', 'environment', 'cpus', 'file-order']);
    assert.deepEqual(written.culprits, []);
    assert.match(written.image, /^sha256:[0-9a-f]{64}$/);
    // checksum builds (and verifies) beside it: a result file is expected there, not "unexpected".
    const first = ws.nx('run', 'hello-c:checksum', '--output-style=static');
    assert.equal(first.status, 0, first.output);
    assert.doesNotMatch(first.output, /UNEXPECTED/);
    // A clean output directory: the vary target's cache hit brings the result file back …
    rmSync(join(ws.root, 'packages/hello-c/dist'), { recursive: true, force: true });
    const cached = ws.nx('run', 'hello-c:vary', '--output-style=static');
    assert.equal(cached.status, 0, cached.output);
    assert.match(cached.output, /nx run hello-c:vary +\[local cache\]/);
    assert.deepEqual(JSON.parse(ws.read(resultFile)), written);
    // … and the build's cache hit (binary and record restored beside it) leaves it, and verify accepts it.
    const restored = ws.nx('run', 'hello-c:checksum', '--output-style=static');
    assert.equal(restored.status, 0, restored.output);
    assert.match(restored.output, /nx run hello-c:elf +\[local cache\]/);
    assert.doesNotMatch(restored.output, /UNEXPECTED/);
    assert.deepEqual(JSON.parse(ws.read(resultFile)), written);
  });

  it('a declared command build that embeds its build date fails, naming the clock alone', () => {
    cpSync(join(ws.root, 'packages/core/test-fixtures/vary/clock'), join(ws.root, 'packages/vary-clock'), { recursive: true });
    // Declared like hello-c: the plugin completes it with the pinned c-builder image.
    const elf = { executor: '@reprokit/nx:elf', options: { binary: 'clock', command: ['make', 'OUT=/out'], artifact: 'clock' } };
    writeFileSync(join(ws.root, 'packages/vary-clock/project.json'), JSON.stringify({ name: 'vary-clock', targets: { elf } }, null, 2));
    ws.commit('a project that is not reproducible');
    const { status, output } = ws.nx('run', 'vary-clock:vary', '--output-style=static');
    assert.equal(status, 1, output);
    assert.match(output, /^vary-clock:elf clock: NOT REPRODUCIBLE under clock$/m);
    // The embedded date is in .rodata; whether it also moves code (.text first) depends on the date itself.
    assert.match(output, /^ {2}clock \(wall clock 400 days ahead \(libfaketime; SOURCE_DATE_EPOCH unchanged\)\): section \.(?:[a-z.]+: content differs .*\bsection \.)?rodata: content differs /m);
    assert.match(output, /the builds' outputs are kept in .*packages\/vary-clock\/target\/reprokit-vary\/vary-clock_elf/);
    const result = JSON.parse(ws.read('packages/vary-clock/dist/.reprokit/clock.vary.json'));
    assert.equal(result.summary, 'NOT REPRODUCIBLE UNDER: clock');
    assert.equal(result.verdict, 'not reproducible');
    assert.deepEqual(result.culprits.map((c: { variation: string }) => c.variation), ['clock']);
    assert.match(result.culprits[0].difference, /^section \.(?:[a-z.]+: content differs .*\bsection \.)?rodata: content differs .*, elf\)$/);
    noStack(output);
  });
});
