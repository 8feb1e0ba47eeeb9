import { readCargoModel } from '@reprokit/core';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { cargoFacts } from './cargo-manifest';
import { inferTargets } from './targets';

describe('cargoFacts', () => {
  const root = mkdtempSync(join(tmpdir(), 'reprokit-cargo-facts-'));
  after(() => rmSync(root, { recursive: true, force: true }));
  const files: Record<string, string> = {
    'rs/Cargo.toml': '[workspace]\nmembers = ["app", "lib"]\n',
    'rs/.cargo/config.toml': '[source.crates-io]\nreplace-with = "v"\n[source.v]\ndirectory = "../third_party"\n',
    'rs/app/Cargo.toml': '[package]\nname = "app-pkg"\nversion = "0.1.0"\nbuild = "build/gen.rs"\n[[bin]]\nname = "app"\npath = "cli/main.rs"\n[dependencies]\nlib = { path = "../lib" }\n',
    'rs/app/cli/main.rs': 'fn main() {}\n',
    'rs/lib/Cargo.toml': '[package]\nname = "lib"\nversion = "0.1.0"\n',
    'rs/lib/src/lib.rs': '',
  };
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  const model = readCargoModel(root, Object.keys(files).filter((f) => f.endsWith('Cargo.toml')));

  it('builds a member at its workspace root and lists everything cargo reads for it', () => {
    const facts = cargoFacts(model, 'rs/app')!;
    assert.equal(facts.binary, 'app');
    assert.equal(facts.package, 'app-pkg');
    assert.equal(facts.buildRoot, 'rs');
    for (const input of [
      '{workspaceRoot}/rs/app/src/**/*',
      '{workspaceRoot}/rs/app/cli/**/*',
      '{workspaceRoot}/rs/app/build/**/*',
      '{workspaceRoot}/rs/app/Cargo.toml',
      '{workspaceRoot}/rs/lib/src/**/*',
      '{workspaceRoot}/rs/lib/build.rs',
      '{workspaceRoot}/rs/lib/Cargo.toml',
      '{workspaceRoot}/rs/Cargo.toml',
      '{workspaceRoot}/rs/Cargo.lock',
      '{workspaceRoot}/rs/.cargo/config.toml',
      '{workspaceRoot}/.cargo/config.toml',
      '{workspaceRoot}/rs/rust-toolchain.toml',
      '{workspaceRoot}/rust-toolchain',
      '{workspaceRoot}/third_party/**/*',
    ]) {
      assert.ok(facts.inputs.includes(input), `${input} in ${JSON.stringify(facts.inputs)}`);
    }
  });

  it('gives a library crate facts without a binary, and no elf target', () => {
    const facts = cargoFacts(model, 'rs/lib')!;
    assert.equal(facts.binary, undefined);
    const targets = inferTargets({ root: 'rs/lib', cargoBinary: facts.binary, cargo: facts, hasManifest: false }, {}, []);
    assert.deepEqual(Object.keys(targets), ['pins']);
  });

  it('gives the elf target of a member the package, the build root and the inputs', () => {
    const facts = cargoFacts(model, 'rs/app')!;
    const elf = inferTargets({ root: 'rs/app', cargoBinary: facts.binary, cargo: facts, hasManifest: false }, {}, []).elf;
    assert.deepEqual([elf.options.binary, elf.options.package, elf.options.buildRoot], ['app', 'app-pkg', 'rs']);
    assert.ok(elf.inputs!.includes('{workspaceRoot}/rs/Cargo.lock'));
    assert.deepEqual(elf.outputs!.slice(0, 2), ['{projectRoot}/dist/app', '{projectRoot}/dist/.reprokit/app.json']);
  });

  it('gives nothing for a virtual manifest', () => assert.equal(cargoFacts(model, 'rs'), undefined));
});
