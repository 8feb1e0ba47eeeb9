import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type CrateRegistry, DEBIAN_CRATES, startCrateRegistry } from './crate-registry';
import { TempWorkspace } from './workspace';

// Rust projects as people write them, through real nx, docker and cargo: a Cargo workspace whose
// binary member uses a library member and a crate from a sparse registry on 127.0.0.1, and two
// projects that vendor the same crate.
// The itoa Debian ships (librust-itoa-dev, installed by tools/setup).
const ITOA = readdirSync(DEBIAN_CRATES).find((dir) => /^itoa-\d/.test(dir)) ?? 'itoa-(librust-itoa-dev is not installed: run tools/setup)';
const ITOA_VERSION = ITOA.slice('itoa-'.length);

describe('a Cargo workspace with path and registry dependencies', () => {
  const ws = new TempWorkspace();
  const cacheHome = mkdtempSync(join(tmpdir(), 'reprokit-e2e-crates-'));
  let registry: CrateRegistry;
  const savedCache = process.env.XDG_CACHE_HOME;
  const FROM_CACHE = (task: string) => new RegExp(`nx run ${task}[^\\n]*  \\[(local cache|existing outputs match the cache, left as is)\\]`);

  function write(files: Record<string, string>) {
    for (const [path, content] of Object.entries(files)) {
      mkdirSync(dirname(join(ws.root, path)), { recursive: true });
      ws.write(path, content);
    }
  }

  function cargo(dir: string, ...args: string[]) {
    const run = spawnSync('cargo', args, { cwd: join(ws.root, dir), encoding: 'utf8', env: { ...process.env, CARGO_HOME: join(cacheHome, 'host-cargo') } });
    assert.equal(run.status, 0, run.stderr);
  }

  before(async () => {
    // The fetched-crate caches of this test, not the user's.
    process.env.XDG_CACHE_HOME = cacheHome;
    registry = await startCrateRegistry([{ name: 'itoa', version: ITOA_VERSION }]);
    const member = (name: string, extra: string) => `[package]\nname = "${name}"\nversion.workspace = true\nedition.workspace = true\n${extra}`;
    write({
      'rust/Cargo.toml': '[workspace]\nresolver = "2"\nmembers = ["app", "greet"]\n\n[workspace.package]\nversion = "0.2.0"\nedition = "2021"\n\n[workspace.dependencies]\ngreet = { path = "greet" }\n',
      'rust/.cargo/config.toml': `[source.crates-io]\nreplace-with = "local"\n\n[source.local]\nregistry = "${registry.index}"\n`,
      'rust/app/Cargo.toml': member('app', '\n[dependencies]\ngreet.workspace = true\nitoa = "1"\n'),
      'rust/app/src/main.rs': 'fn main() {\n    let mut buffer = itoa::Buffer::new();\n    println!("{} {}", greet::greeting(), buffer.format(greet::ANSWER));\n}\n',
      'rust/greet/Cargo.toml': member('greet', ''),
      'rust/greet/src/lib.rs': 'pub const ANSWER: u32 = 42;\n\npub fn greeting() -> &\'static str {\n    "hello from greet"\n}\n',
    });
    cargo('rust', 'generate-lockfile');
    // Two projects vendoring the same crate (cargo vendor's layout: the crate with its .cargo-checksum.json).
    for (const name of ['vend', 'vend2']) {
      write({
        [`${name}/Cargo.toml`]: `[package]\nname = "${name}"\nversion = "0.1.0"\nedition = "2021"\n\n[dependencies]\nitoa = "1"\n`,
        [`${name}/.cargo/config.toml`]: '[source.crates-io]\nreplace-with = "vendored"\n\n[source.vendored]\ndirectory = "vendor"\n',
        [`${name}/src/main.rs`]: 'fn main() {\n    println!("{}", itoa::Buffer::new().format(7));\n}\n',
      });
      cpSync(join(DEBIAN_CRATES, ITOA), join(ws.root, name, 'vendor', 'itoa'), { recursive: true });
      rmSync(join(ws.root, name, 'vendor', 'itoa', 'debian'), { recursive: true, force: true });
      cargo(name, 'generate-lockfile', '--offline');
    }
    ws.commit('rust projects');
  });

  after(async () => {
    await registry?.close();
    if (savedCache === undefined) delete process.env.XDG_CACHE_HOME;
    else process.env.XDG_CACHE_HOME = savedCache;
    rmSync(cacheHome, { recursive: true, force: true });
  });

  it('makes projects of packages as cargo sees them: binaries build at the workspace root, libraries and vendored crates do not', () => {
    const listed = ws.nx('show', 'projects', '--json');
    assert.equal(listed.status, 0, listed.output);
    const projects = JSON.parse(listed.output.slice(listed.output.indexOf('['))) as string[];
    for (const name of ['app', 'greet', 'vend', 'vend2']) assert.ok(projects.includes(name), `${name} in ${projects.join(', ')}`);
    assert.ok(!projects.includes('itoa'), 'a vendored crate is not a project');
    const show = (name: string) => {
      const run = ws.nx('show', 'project', name, '--json');
      assert.equal(run.status, 0, run.output);
      return JSON.parse(run.output.slice(run.output.indexOf('{'))) as { root: string; targets: Record<string, { options?: Record<string, unknown> }> };
    };
    const app = show('app');
    assert.equal(app.root, 'rust/app');
    assert.deepEqual([app.targets.elf.options?.binary, app.targets.elf.options?.package, app.targets.elf.options?.buildRoot], ['app', 'app', 'rust']);
    const greet = show('greet');
    assert.ok(!('elf' in greet.targets), 'a library crate has no elf target');
    assert.ok('pins' in greet.targets);
  });

  it('makes path dependencies edges of the project graph: affected follows them', () => {
    const graphFile = join(cacheHome, 'graph.json');
    const graph = ws.nx('graph', `--file=${graphFile}`);
    assert.equal(graph.status, 0, graph.output);
    const deps = JSON.parse(readFileSync(graphFile, 'utf8')).graph.dependencies as Record<string, { target: string }[]>;
    assert.deepEqual(deps.app.map((d) => d.target), ['greet']);
    assert.deepEqual(deps.vend, []);
    ws.write('rust/greet/src/lib.rs', ws.read('rust/greet/src/lib.rs') + '// changed\n');
    const affected = ws.nx('show', 'projects', '--affected', '--base=HEAD', '--json');
    assert.equal(affected.status, 0, affected.output);
    const names = JSON.parse(affected.output.slice(affected.output.indexOf('['))) as string[];
    assert.deepEqual(names.filter((n) => ['app', 'greet', 'vend', 'vend2'].includes(n)).sort(), ['app', 'greet']);
    ws.git('checkout', '--', 'rust/greet/src/lib.rs');
  });

  it('builds the binary member with its library and a fetched crate, the build offline, the fetch cached by Cargo.lock', () => {
    const build = ws.nx('run', 'app:elf');
    assert.equal(build.status, 0, build.output);
    assert.match(build.output, /crates: fetching 1 \(cargo fetch --locked, network host\)/);
    assert.ok(registry.requests().some((r) => r === `GET /dl/itoa/${ITOA_VERSION}/download`), registry.requests().join(', '));
    const run = spawnSync(join(ws.root, 'rust/app/dist/app'), { encoding: 'utf8' });
    assert.equal(run.stdout, 'hello from greet 42\n');
    const caches = readdirSync(join(cacheHome, 'reprokit', 'crates'));
    assert.equal(caches.length, 1, caches.join(', '));
    assert.match(caches[0], /^[0-9a-f]{64}-[0-9a-f]{16}$/);
    assert.ok(existsSync(join(cacheHome, 'reprokit', 'crates', caches[0], '.reprokit-fetched')));
    // The same lock again: the cache is reused, no request reaches the registry.
    const seen = registry.requests().length;
    const again = ws.nx('run', 'app:elf', '--skip-nx-cache');
    assert.equal(again.status, 0, again.output);
    assert.match(again.output, /crates: 1 from the cache/);
    assert.equal(registry.requests().length, seen);
  });

  it('builds vendored crates as they are, with nothing fetched', () => {
    const build = ws.nx('run', 'vend:elf');
    assert.equal(build.status, 0, build.output);
    assert.doesNotMatch(build.output, /crates: /);
    assert.equal(spawnSync(join(ws.root, 'vend/dist/vend'), { encoding: 'utf8' }).stdout, '7\n');
  });

  it('misses the cache when anything cargo reads changes', () => {
    const changes: [string, string, () => void][] = [
      ['app', 'the member source', () => ws.write('rust/app/src/main.rs', ws.read('rust/app/src/main.rs') + '// a\n')],
      ['app', 'a path dependency source', () => ws.write('rust/greet/src/lib.rs', ws.read('rust/greet/src/lib.rs') + '// b\n')],
      ['app', "a path dependency's Cargo.toml", () => ws.write('rust/greet/Cargo.toml', ws.read('rust/greet/Cargo.toml') + '# c\n')],
      ['app', "the member's Cargo.toml", () => ws.write('rust/app/Cargo.toml', ws.read('rust/app/Cargo.toml') + '# d\n')],
      ['app', 'the workspace root Cargo.toml', () => ws.write('rust/Cargo.toml', ws.read('rust/Cargo.toml') + '# e\n')],
      ['app', 'the build root .cargo/config.toml (and the fetched-crate cache key)', () => ws.write('rust/.cargo/config.toml', ws.read('rust/.cargo/config.toml') + '# f\n')],
      ['app', 'a .cargo/config.toml above the build root', () => write({ '.cargo/config.toml': '# g\n' })],
      ['app', 'a new build.rs', () => ws.write('rust/app/build.rs', 'fn main() {}\n')],
      ['app', 'a rust-toolchain.toml', () => ws.write('rust/rust-toolchain.toml', '[toolchain]\nchannel = "1.96"\n')],
      ['vend', 'a vendored source', () => ws.write('vend/vendor/itoa/README.md', ws.read('vend/vendor/itoa/README.md') + '\nchanged\n')],
    ];
    for (const [project, what, change] of changes) {
      change();
      const run = ws.nx('run', `${project}:elf`);
      assert.equal(run.status, 0, `${what}: ${run.output}`);
      assert.doesNotMatch(run.output, FROM_CACHE(`${project}:elf`), `${what} should miss the cache`);
    }
    assert.match(ws.nx('run', 'app:elf').output, FROM_CACHE('app:elf'), 'unchanged, it hits');
    // Cargo.lock: a changed lock misses (and cargo --locked refuses a lock it would rewrite).
    ws.write('rust/Cargo.lock', ws.read('rust/Cargo.lock') + '\n# h\n');
    const lockRun = ws.nx('run', 'app:elf');
    assert.doesNotMatch(lockRun.output, FROM_CACHE('app:elf'), 'Cargo.lock should miss the cache');
    ws.git('checkout', '--', 'rust/Cargo.lock');
  });

  it('refuses a crate whose bytes differ from Cargo.lock, naming it', () => {
    const original = registry.crate('itoa', ITOA_VERSION);
    const tampered = Buffer.from(original);
    tampered[tampered.length - 10] ^= 0xff;
    registry.replaceCrate('itoa', ITOA_VERSION, tampered);
    process.env.XDG_CACHE_HOME = join(cacheHome, 'fresh');
    try {
      const run = ws.nx('run', 'app:elf', '--skip-nx-cache');
      assert.notEqual(run.status, 0, run.output);
      assert.match(run.output, new RegExp(`error: .*Cargo\\.lock: the crate itoa v${ITOA_VERSION.replace(/\./g, '\\.')} downloaded has other bytes than the lock's checksum`));
      assert.ok(!existsSync(join(cacheHome, 'fresh', 'reprokit', 'crates')) || readdirSync(join(cacheHome, 'fresh', 'reprokit', 'crates')).length === 0, 'nothing is cached');
    } finally {
      process.env.XDG_CACHE_HOME = cacheHome;
      registry.replaceCrate('itoa', ITOA_VERSION, original);
    }
  });

  it('reproduces with the registry gone and the network off', async () => {
    ws.git('checkout', '--', '.');
    ws.git('clean', '-fdq', '--', 'rust', 'vend', '.cargo');
    const record = ws.nx('run', 'app:checksum', '--update');
    assert.equal(record.status, 0, record.output);
    ws.commit('record app');
    await registry.close();
    rmSync(join(ws.root, 'rust/app/dist'), { recursive: true, force: true });
    const reproduce = ws.nx('run', 'app:reproduce', '--skip-nx-cache');
    assert.equal(reproduce.status, 0, reproduce.output);
    assert.match(reproduce.output, /crates: 1 from the cache/);
    assert.match(reproduce.output, /REPRODUCED app/);
  });
});
