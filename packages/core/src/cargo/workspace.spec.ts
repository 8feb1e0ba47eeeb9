import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { after, describe, it } from 'node:test';
import { configsFrom, memberGlob, pathDependencyClosure, readCargoModel } from './workspace';

/** A Cargo workspace as people write them: a virtual root, members by glob, inherited package keys and path dependencies, a vendored directory. */
function writeTree(root: string, files: Record<string, string>): string[] {
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  return Object.keys(files).filter((path) => path.endsWith('Cargo.toml'));
}

const pkg = (name: string, extra = '') => `[package]\nname = "${name}"\nversion.workspace = true\nedition.workspace = true\n${extra}`;

const tree: Record<string, string> = {
  'rs/Cargo.toml': '[workspace]\nresolver = "2"\nmembers = ["crates/*", "tools/gen"]\nexclude = ["crates/scratch"]\n[workspace.package]\nversion = "0.3.0"\nedition = "2021"\n[workspace.dependencies]\nutil = { path = "libs/util" }\n',
  'rs/crates/app/Cargo.toml': pkg('app-cli', '[[bin]]\nname = "app"\npath = "src/main.rs"\n[dependencies]\ncore-lib = { path = "../core" }\n'),
  'rs/crates/app/src/main.rs': 'fn main() {}\n',
  'rs/crates/core/Cargo.toml': pkg('core-lib', "[dependencies]\nutil = { workspace = true }\n[target.'cfg(unix)'.dev-dependencies]\nhelper = { path = '../../helper' }\n"),
  'rs/crates/core/src/lib.rs': '',
  'rs/crates/scratch/Cargo.toml': '[package]\nname = "scratch"\nversion = "0.0.0"\n',
  'rs/crates/scratch/src/main.rs': 'fn main() {}\n',
  'rs/libs/util/Cargo.toml': pkg('util'),
  'rs/libs/util/src/lib.rs': '',
  'rs/helper/Cargo.toml': pkg('helper'),
  'rs/helper/src/lib.rs': '',
  'rs/tools/gen/Cargo.toml': pkg('gen', '[package.metadata.x]\nname = "not-a-bin"\n'),
  'rs/tools/gen/src/main.rs': 'fn main() {}\n',
  'rs/tools/gen/src/bin/extra.rs': 'fn main() {}\n',
  'rs/tools/gen/src/bin/multi/main.rs': 'fn main() {}\n',
  'rs/.cargo/config.toml': '[source.crates-io]\nreplace-with = "vendored"\n[source.vendored]\ndirectory = "third_party/crates"\n',
  'rs/third_party/crates/itoa/Cargo.toml': '[package]\nname = "itoa"\nversion = "1.0.1"\n',
  'rs/third_party/crates/itoa/.cargo-checksum.json': '{"files":{},"package":null}',
  'rs/vendor/left-pad/Cargo.toml': 'this is = not [valid toml',
  'solo/Cargo.toml': '[package]\nname = "solo"\nversion = "1.0.0"\nautobins = false\n[[bin]]\nname = "solo-tool"\npath = "src/main.rs"\n',
  'solo/src/main.rs': 'fn main() {}\n',
  'solo/src/bin/ignored.rs': 'fn main() {}\n',
};

describe('readCargoModel', () => {
  const root = mkdtempSync(join(tmpdir(), 'reprokit-cargo-model-'));
  after(() => rmSync(root, { recursive: true, force: true }));
  const manifests = writeTree(root, tree);
  const model = readCargoModel(root, manifests);

  it('leaves out vendored crates without reading them (a vendor/ directory, a source replacement)', () => {
    assert.deepEqual([...model.vendored].sort(), ['rs/third_party/crates/itoa', 'rs/vendor/left-pad']);
    assert.ok(!model.packages.has('rs/third_party/crates/itoa'));
  });

  it('puts members, inherited and nested path dependencies in the workspace, excluded crates on their own', () => {
    const roots = Object.fromEntries([...model.packages.values()].map((p) => [p.dir, p.buildRoot]));
    assert.deepEqual(roots, {
      'rs/crates/app': 'rs',
      'rs/crates/core': 'rs',
      'rs/crates/scratch': 'rs/crates/scratch',
      'rs/libs/util': 'rs',
      'rs/helper': 'rs',
      'rs/tools/gen': 'rs',
      solo: 'solo',
    });
  });

  it('finds binaries as cargo does: [[bin]] first, src/main.rs, src/bin/, none for a library or with autobins = false', () => {
    assert.deepEqual(model.packages.get('rs/crates/app')!.bins, ['app']);
    assert.deepEqual(model.packages.get('rs/tools/gen')!.bins, ['gen', 'extra', 'multi']);
    assert.deepEqual(model.packages.get('rs/crates/core')!.bins, []);
    assert.deepEqual(model.packages.get('solo')!.bins, ['solo-tool']);
  });

  it('follows path dependencies transitively, workspace-inherited and per-target ones too', () => {
    assert.deepEqual(pathDependencyClosure(model, 'rs/crates/app'), ['rs/crates/app', 'rs/crates/core', 'rs/helper', 'rs/libs/util']);
  });

  it('reads the source replacement of the configs from a directory up', () => {
    assert.deepEqual(configsFrom(model, 'rs'), { files: ['rs/.cargo/config.toml'], sourceDirectories: ['rs/third_party/crates'] });
    assert.deepEqual(configsFrom(model, 'solo'), { files: [], sourceDirectories: [] });
  });

  it('agrees with `cargo metadata` on members, workspace roots and binaries', () => {
    for (const dir of ['rs', 'solo']) {
      const run = spawnSync('cargo', ['metadata', '--no-deps', '--offline', '--format-version', '1'], { cwd: join(root, dir), encoding: 'utf8' });
      assert.equal(run.status, 0, run.stderr);
      const metadata = JSON.parse(run.stdout) as { workspace_root: string; workspace_members: string[]; packages: { id: string; manifest_path: string; targets: { kind: string[]; name: string }[] }[] };
      for (const p of metadata.packages.filter((p) => metadata.workspace_members.includes(p.id))) {
        const pkgDir = relative(root, dirname(p.manifest_path));
        const ours = model.packages.get(pkgDir);
        assert.ok(ours, pkgDir);
        assert.equal(ours.buildRoot, relative(root, metadata.workspace_root), pkgDir);
        assert.deepEqual([...ours.bins].sort(), p.targets.filter((t) => t.kind.includes('bin')).map((t) => t.name).sort(), pkgDir);
      }
      const ourMembers = [...model.packages.values()].filter((p) => p.buildRoot === relative(root, metadata.workspace_root)).length;
      assert.equal(ourMembers, metadata.workspace_members.length, dir);
    }
  });

  it('names a broken manifest with line and column', () => {
    const broken = mkdtempSync(join(tmpdir(), 'reprokit-cargo-broken-'));
    try {
      writeTree(broken, { 'x/Cargo.toml': '[package]\nname = "x"\nversion = \n' });
      assert.throws(() => readCargoModel(broken, ['x/Cargo.toml']), /^Error: x\/Cargo\.toml:3:\d+: invalid TOML|x\/Cargo\.toml:3:\d+: invalid TOML/);
      writeTree(broken, { 'y/Cargo.toml': '[package]\nname = 3\n' });
      assert.throws(() => readCargoModel(broken, ['y/Cargo.toml']), /y\/Cargo\.toml: package\.name/);
    } finally {
      rmSync(broken, { recursive: true, force: true });
    }
  });
});

describe('memberGlob', () => {
  it('matches like the glob crate', () => {
    assert.ok(memberGlob('crates/*').test('crates/a'));
    assert.ok(!memberGlob('crates/*').test('crates/a/b'));
    assert.ok(memberGlob('crates/**').test('crates/a/b'));
    assert.ok(memberGlob('x?').test('x1'));
    assert.ok(memberGlob('[ab]c').test('bc'));
    assert.ok(!memberGlob('[!ab]c').test('bc'));
    assert.ok(memberGlob('a.b').test('a.b') && !memberGlob('a.b').test('axb'));
  });
});
