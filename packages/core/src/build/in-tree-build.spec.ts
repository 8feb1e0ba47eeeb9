import assert from 'node:assert/strict';
import { chmodSync, existsSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { buildArtifactInContainer, type ContainerBuild } from './container-build';
import { readBuildEnvLock } from '../env/build-env';
import { tempDir } from '../testing/fixtures';

const LOCK = join(__dirname, '..', '..', 'envs', 'c-builder', 'env.lock.json');
const EPOCH = 1_700_000_000;

/** A project whose makefile writes next to its sources, as most do, and lists what it was given. */
function makeProject(makefileRule = '\t$(CC) -O2 -o prog prog.c'): string {
  const dir = tempDir('reprokit-intree-');
  // mkdtemp makes it 0700: the read-only mount must be readable by the build user, as a checkout is.
  chmodSync(dir, 0o755);
  writeFileSync(join(dir, 'prog.c'), '#include <stdio.h>\nint main(void) { puts("in tree"); return 0; }\n');
  writeFileSync(join(dir, 'Makefile'), `prog: prog.c\n${makefileRule}\n\tls -ln --time-style=+%s prog.c Makefile\n`);
  // What a checkout by another user, at another time, could look like: the copy must not show it.
  chmodSync(join(dir, 'prog.c'), 0o600);
  utimesSync(join(dir, 'prog.c'), 2_000_000_000, 2_000_000_000);
  return dir;
}

async function build(dir: string, overrides: Partial<ContainerBuild> = {}): Promise<{ lines: string[]; file: string }> {
  const lock = await readBuildEnvLock(LOCK);
  const lines: string[] = [];
  const result = await buildArtifactInContainer({
    projectDir: dir,
    image: `reprokit/c-builder@${lock.imageId}`,
    envLock: LOCK,
    command: ['make'],
    artifact: '/src/prog',
    inTree: true,
    name: 'prog',
    kind: 'elf',
    outputDir: join(dir, 'dist'),
    sourceDateEpoch: EPOCH,
    logPrefix: '[t] ',
    log: (line) => lines.push(line),
    ...overrides,
  });
  return { lines, file: result.file };
}

describe('in-tree command builds (real daemon, c-builder image)', () => {
  it('builds an unmodified makefile in a writable copy: owned by the build user, modes 0644, every mtime SOURCE_DATE_EPOCH', async () => {
    const dir = makeProject();
    const { lines, file } = await build(dir);
    assert.ok(lines.includes(`[t] -rw-r--r-- 1 1000 1000 ${readFileSync(join(dir, 'prog.c')).length} ${EPOCH} prog.c`), lines.join('\n'));
    assert.ok(lines.some((line) => line.startsWith('[t] -rw-r--r-- 1 1000 1000 ') && line.endsWith(` ${EPOCH} Makefile`)), lines.join('\n'));
    assert.ok(readFileSync(file).subarray(0, 4).equals(Buffer.from('\x7fELF', 'latin1')));
    // The project itself is untouched: the object went into the copy.
    assert.equal(existsSync(join(dir, 'prog')), false);
  });

  it('gives the same binary from checkouts that differ in host mtimes and modes', async () => {
    const [a, b] = [makeProject(), makeProject()];
    chmodSync(join(b, 'prog.c'), 0o644);
    utimesSync(join(b, 'Makefile'), 1, 1);
    const [first, second] = [await build(a), await build(b)];
    assert.ok(readFileSync(first.file).equals(readFileSync(second.file)));
  });

  it('without inTree the project is read-only, which is what breaks such a makefile', async () => {
    const dir = makeProject();
    // A 0600 file is not even readable by the build user in the read-only mount: the copy normalizes modes.
    await assert.rejects(build(dir, { inTree: false, artifact: 'prog' }), { message: /cc1: fatal error: prog.c: Permission denied/ });
    chmodSync(join(dir, 'prog.c'), 0o644);
    await assert.rejects(build(dir, { inTree: false, artifact: 'prog' }), { message: /make` failed with exit 2[\s\S]*Read-only file system/ });
  });

  it('when the artifact option misses, names the file of that name the build left and the option to write', async () => {
    // `"artifact": "prog"` is below /out; the makefile wrote /src/prog, next to its sources.
    await assert.rejects(build(makeProject(), { artifact: 'prog' }), {
      message: /^artifact prog: the build reported success but left no such file in \/out; it left \/src\/prog: write "artifact": "\/src\/prog"$/,
    });
    await assert.rejects(build(makeProject('\tmkdir -p bin && $(CC) -O2 -o bin/prog prog.c'), { artifact: '/src/prog' }), {
      message: /^artifact \/src\/prog: the build reported success but left no such file in \/src; it left \/src\/bin\/prog: write "artifact": "\/src\/bin\/prog"$/,
    });
    // Nothing of that name anywhere: the error says where it looked, and no more.
    await assert.rejects(build(makeProject(), { artifact: 'other' }), { message: /^artifact other: the build reported success but left no such file in \/out$/ });
  });

  it('refuses an artifact the build left as a symbolic link, and an artifact in /src without inTree', async () => {
    await assert.rejects(build(makeProject('\tln -s /etc/passwd prog')), { message: /^artifact \/src\/prog: the build left a symbolic link/ });
    await assert.rejects(build(makeProject(), { inTree: false }), { message: /^artifact "\/src\/prog": \/src is the read-only project unless the build is in-tree/ });
    await assert.rejects(build(makeProject(), { artifact: '../../etc/passwd' }), { message: /must name a file inside \/out/ });
  });
});
