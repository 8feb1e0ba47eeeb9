import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { tempDir } from '../testing/fixtures';
import { includedFiles } from './included-files';

const MAIN_RS = `// include_str!("../commented-out.txt") is not read: a comment
const README: &str = include_str!("../README.md");
const LOGO: &[u8] = include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/assets/logo.svg"));
const RAW: &str = include_str!(r"data/raw.txt");
mod generated { include!("../gen/table.rs"); }
fn main() {
    println!("{} {} {} {}", README.len(), LOGO.len(), RAW.len(), generated::N);
}
`;

describe('files a crate includes at compile time', () => {
  const root = tempDir('rk-includes-');
  after(() => rmSync(root, { recursive: true, force: true }));
  const write = (path: string, text: string) => {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  };
  write('app/Cargo.toml', '[package]\nname = "app"\nversion = "0.1.0"\nedition = "2021"\n');
  write('app/src/main.rs', MAIN_RS);
  write('app/README.md', '# app\n');
  write('app/assets/logo.svg', '<svg/>\n');
  write('app/src/data/raw.txt', 'raw\n');
  write('app/gen/table.rs', 'pub const N: u32 = 7;\n');
  write('app/commented-out.txt', 'never read\n');

  it('finds literal paths relative to the source file and CARGO_MANIFEST_DIR ones, not commented ones', () => {
    assert.deepEqual(includedFiles(root, 'app', ['src']), ['app/README.md', 'app/assets/logo.svg', 'app/gen/table.rs', 'app/src/data/raw.txt']);
  });

  it('are exactly the files rustc reads besides the sources (its dep-info), as cargo builds them', () => {
    // The oracle: rustc's own dependency file lists every file the compilation read.
    const built = spawnSync('cargo', ['build', '--offline', '--quiet'], { cwd: join(root, 'app'), encoding: 'utf8', env: { ...process.env, CARGO_TARGET_DIR: join(root, 'target') } });
    assert.equal(built.status, 0, built.stderr);
    const deps = join(root, 'target', 'debug', 'deps');
    const depInfo = readdirSync(deps).find((name) => name.startsWith('app-') && name.endsWith('.d'))!;
    const [, list] = readFileSync(join(deps, depInfo), 'utf8').split('\n')[0].split(': ');
    // Paths in it are absolute or relative to the crate, where cargo runs rustc.
    const read = list.split(' ').filter(Boolean).map((file) => relative(root, resolve(root, 'app', file)));
    assert.deepEqual(read.filter((file) => !file.endsWith('src/main.rs')).sort(), includedFiles(root, 'app', ['src']));
  });

  it('leaves out absolute paths and paths that leave the workspace', () => {
    write('other/Cargo.toml', '[package]\nname = "other"\nversion = "0.1.0"\n');
    write('other/src/lib.rs', 'const A: &str = include_str!("/etc/passwd");\nconst B: &str = include_str!("../../../outside.txt");\nconst C: &str = include_str!("ok.txt");\n');
    assert.deepEqual(includedFiles(root, 'other', ['src']), ['other/src/ok.txt']);
  });
});
