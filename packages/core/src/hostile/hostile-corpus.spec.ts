// The hostile-input corpus: malformed and hostile manifests, locks, packages, OCI layouts, Dockerfiles,
// PKGBUILD-derived names and CLI arguments. Every case runs the real CLI (or, for readers the CLI does
// not reach, the real function behind the CLI's own error handling) in a child process with a time
// limit, and asserts the exit status, the one line, and that nothing outside its temporary root changed.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { assertNoSecret, cliHarness, DECOY_SECRET, hostileProject, ociLayout, packageTar, paxRecord, rawTar, snapshot, writeGzipPackage } from './hostile-fixtures';

const DIST = join(__dirname, '..');
const BIN = join(DIST, '..', 'bin', 'reprokit.js');
const C_BUILDER_LOCK = join(DIST, '..', 'envs', 'c-builder', 'env.lock.json');

interface Ctx {
  /** The temporary root: the case's inputs, its cwd, HOME and TMPDIR. */
  root: string;
  /** Beside the root: what hostile inputs aim at. It must be unchanged afterwards. */
  victim: string;
}

/** The CLI with arguments, or a script calling a core function, its errors ending like the CLI's. */
type Run = { args: string[]; uid?: number } | { script: string };

interface Case {
  name: string;
  setup(ctx: Ctx): Run | Promise<Run>;
  status: number;
  /** Exit 2: the one line on stderr. Otherwise: a line of stdout or stderr that says what happened. */
  line: RegExp;
  /** Also expected on stdout (e.g. the other files `hash` went on with). */
  stdout?: RegExp;
}

const mkfifo = (path: string) => spawnSync('mkfifo', [path], { stdio: 'inherit' });
const editJson = (path: string, edit: (value: any) => void) => {
  const value = JSON.parse(readFileSync(path, 'utf8'));
  edit(value);
  writeFileSync(path, JSON.stringify(value, null, 2));
};
const project = async (ctx: Ctx) => hostileProject(ctx.root);
const verify = async (ctx: Ctx, edit?: (manifest: any, ctx: Ctx) => void): Promise<Run> => {
  const { manifestPath } = await project(ctx);
  if (edit) editJson(manifestPath, (m) => edit(m, ctx));
  return { args: ['verify', manifestPath] };
};
const script = (body: string): Run => ({ script: body });
const lockWith = (ctx: Ctx, edit: (lock: any) => void): Run => {
  const path = join(ctx.root, 'env.lock.json');
  copyFileSync(C_BUILDER_LOCK, path);
  editJson(path, edit);
  return { args: ['env', 'build', path] };
};
const archInfo = (ctx: Ctx, tar: Buffer): Run => ({ args: ['arch', 'info', writeGzipPackage(join(ctx.root, 'x-1.0-1-x86_64.pkg.tar.gz'), tar)] });
const layoutCase = (ctx: Ctx, edit: (dir: string, digests: ReturnType<typeof ociLayout>) => void): Run => {
  const dir = join(ctx.root, 'image.oci');
  const digests = ociLayout(dir, join(ctx.root, 'scratch'));
  edit(dir, digests);
  return script(`await core('oci/layout/validate-layout.js').validateOciLayout(${JSON.stringify(dir)})`);
};
const blob = (dir: string, digest: string) => join(dir, 'blobs', 'sha256', digest.slice(7));
const copyCase = (ctx: Ctx, source: string, prepare?: (context: string) => void): Run => {
  const context = join(ctx.root, 'context');
  mkdirSync(context, { recursive: true });
  writeFileSync(join(context, 'ok'), 'ok\n');
  prepare?.(context);
  return script(`new (core('oci/dockerfile/build-context.js').BuildContext)(${JSON.stringify(context)}).copyEntries(${JSON.stringify(source)}, '/dst/', undefined, undefined, 'Dockerfile:2')`);
};
/** A zstd frame of RLE blocks (4 bytes per 128 KiB of zeros): 600 MiB from 19 KB, valid for `zstd -t`. */
const zstdBomb = (): Buffer => {
  const blocks = 4800;
  const parts = [Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x58])];
  for (let i = 0; i < blocks; i++) {
    const value = (131072 << 3) | (1 << 1) | (i === blocks - 1 ? 1 : 0);
    parts.push(Buffer.from([value & 255, (value >> 8) & 255, (value >> 16) & 255, 0]));
  }
  return Buffer.concat(parts);
};

/** A workflow with an unpinned action, then a mapping (block) or a flow sequence nested `depth` deep. */
const deepWorkflow = (ctx: Ctx, depth: number, style: 'block' | 'flow'): string => {
  const dir = join(ctx.root, '.github', 'workflows');
  mkdirSync(dir, { recursive: true });
  let text = 'on: push\njobs:\n  b:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n    x:';
  if (style === 'flow') text += ` ${'['.repeat(depth)}1${']'.repeat(depth)}\n`;
  else {
    text += '\n';
    for (let i = 0; i < depth; i++) text += `${' '.repeat(6 + 2 * i)}a:\n`;
    text += `${' '.repeat(6 + 2 * depth)}x: 1\n`;
  }
  writeFileSync(join(dir, 'deep.yml'), text);
  return join(dir, 'deep.yml');
};

const CASES: Case[] = [
  // ---- manifests (verify, reproduce, records) ----
  { name: 'manifest: artifact path ../ out of the project', setup: (c) => verify(c, (m) => (m.artifacts[0].path = '../victim/secret')), status: 2, line: /\$\.artifacts\[0\]\.path: "\.\.\/victim\/secret" leads out of its root with \.\.$/ },
  { name: 'manifest: absolute artifact path', setup: (c) => verify(c, (m) => (m.artifacts[0].path = '/etc/passwd')), status: 2, line: /\$\.artifacts\[0\]\.path: "\/etc\/passwd" is absolute/ },
  { name: 'manifest: artifact path through dist/.. and back out', setup: (c) => verify(c, (m) => (m.artifacts[0].path = 'dist/../../victim/secret')), status: 2, line: /leads out of its root with \.\.$/ },
  {
    name: 'manifest: the artifact is a symlink out of the project',
    setup: async (c) => {
      const run = await verify(c);
      rmSync(join(c.root, 'dist', 'hello'));
      symlinkSync(join(c.victim, 'secret'), join(c.root, 'dist', 'hello'));
      return run;
    },
    status: 2,
    line: /\$\.artifacts\[0\]\.path: "dist\/hello" is a symlink; it must be a regular file/,
  },
  {
    name: 'manifest: a directory on the way is a symlink out of the project',
    setup: async (c) => {
      const run = await verify(c);
      rmSync(join(c.root, 'dist', 'sub'), { recursive: true });
      writeFileSync(join(c.victim, 'world'), 'world\n');
      symlinkSync(c.victim, join(c.root, 'dist', 'sub'));
      return run;
    },
    status: 2,
    line: /\$\.artifacts\[1\]\.path: "dist\/sub\/world" leads out of .* through a symlink/,
  },
  {
    name: 'manifest: the output directory is a symlink out of the project',
    setup: async (c) => {
      const run = await verify(c);
      renameSync(join(c.root, 'dist'), join(c.root, 'real-dist'));
      symlinkSync(c.victim, join(c.root, 'dist'));
      return run;
    },
    status: 2,
    line: /leads out of .* through a symlink|\$\.outputDir: "dist" is a symlink/,
  },
  { name: 'manifest: outputDir ..', setup: (c) => verify(c, (m) => (m.outputDir = '..')), status: 2, line: /\$\.outputDir: "\.\." leads out of its root with \.\.$/ },
  { name: 'manifest: outputDir /', setup: (c) => verify(c, (m) => (m.outputDir = '/')), status: 2, line: /\$\.outputDir: "\/" is absolute/ },
  { name: 'manifest: outputDir . (the whole project)', setup: (c) => verify(c, (m) => (m.outputDir = '.')), status: 2, line: /\$\.outputDir: must be a directory below the project/ },
  { name: 'manifest: a NUL byte in a path', setup: (c) => verify(c, (m) => (m.artifacts[0].path = 'dist/hel\u0000lo')), status: 2, line: /\$\.artifacts\[0\]\.path: the path holds a NUL byte$/ },
  {
    name: 'manifest: image layout out of the project',
    setup: (c) =>
      verify(c, (m) => {
        const digest = `sha256:${'a'.repeat(64)}`;
        m.artifacts[0].kind = 'oci';
        m.artifacts[0].image = { id: digest, manifestDigest: digest, diffIds: [digest], layout: '../victim' };
      }),
    status: 2,
    line: /\$\.artifacts\[0\]\.image\.layout: "\.\.\/victim" leads out of its root/,
  },
  {
    name: 'manifest: the artifact is a FIFO (no hang)',
    setup: async (c) => {
      const run = await verify(c);
      rmSync(join(c.root, 'dist', 'hello'));
      mkfifo(join(c.root, 'dist', 'hello'));
      return run;
    },
    status: 2,
    line: /\$\.artifacts\[0\]\.path: dist\/hello: is a FIFO, expected a regular file$/,
  },
  {
    name: 'manifest: the artifact is a character device like /dev/zero (no hang)',
    setup: async (c) => {
      const run = await verify(c);
      rmSync(join(c.root, 'dist', 'hello'));
      spawnSync('mknod', [join(c.root, 'dist', 'hello'), 'c', '1', '5']);
      return run;
    },
    status: 2,
    line: /\$\.artifacts\[0\]\.path: dist\/hello: is a character device, expected a regular file$/,
  },
  {
    name: 'manifest: the artifact is a directory',
    setup: async (c) => {
      const run = await verify(c);
      rmSync(join(c.root, 'dist', 'hello'));
      mkdirSync(join(c.root, 'dist', 'hello'));
      return run;
    },
    status: 2,
    line: /dist\/hello: is a directory, expected a regular file$/,
  },
  {
    name: 'manifest: the manifest is a directory',
    setup: (c) => (mkdirSync(join(c.root, 'repro-manifest.json')), { args: ['verify', join(c.root, 'repro-manifest.json')] }),
    status: 2,
    line: /repro-manifest\.json: is a directory/,
  },
  { name: 'manifest: the manifest is a FIFO (no hang)', setup: (c) => (mkfifo(join(c.root, 'm.json')), { args: ['verify', join(c.root, 'm.json')] }), status: 2, line: /m\.json: is a FIFO, expected a regular file$/ },
  {
    name: 'manifest: the manifest is a symlink to /dev/zero (no hang)',
    setup: (c) => (symlinkSync('/dev/zero', join(c.root, 'm.json')), { args: ['verify', join(c.root, 'm.json')] }),
    status: 2,
    line: /m\.json: is a character device, expected a regular file$/,
  },
  {
    name: 'manifest: a symlink loop',
    setup: (c) => (symlinkSync('m.json', join(c.root, 'm.json')), { args: ['verify', join(c.root, 'm.json')] }),
    status: 2,
    line: /m\.json: too many levels of symbolic links/,
  },
  { name: 'manifest: a name too long', setup: (c) => ({ args: ['verify', join(c.root, 'm'.repeat(300) + '.json')] }), status: 2, line: /m{300}\.json: file name too long$/ },
  {
    name: 'manifest: a path through a regular file',
    setup: async (c) => {
      await project(c);
      return { args: ['verify', join(c.root, 'dist', 'hello', 'repro-manifest.json')] };
    },
    status: 2,
    line: /dist\/hello\/repro-manifest\.json: a component of the path is not a directory$/,
  },
  {
    name: 'manifest: unreadable (run as nobody)',
    setup: async (c) => {
      const { manifestPath } = await project(c);
      chmodSync(manifestPath, 0o000);
      return { args: ['verify', manifestPath], uid: 65534 };
    },
    status: 2,
    line: /repro-manifest\.json: permission denied$/,
  },
  {
    name: 'manifest: a byte order mark is accepted',
    setup: async (c) => {
      const { manifestPath } = await project(c);
      writeFileSync(manifestPath, '\uFEFF' + readFileSync(manifestPath, 'utf8'));
      return { args: ['verify', manifestPath] };
    },
    status: 0,
    line: /: 2 match, 0 mismatch, 0 missing, 0 unexpected$/,
  },
  {
    name: 'manifest: a syntax error is named at its line and column',
    setup: (c) => (writeFileSync(join(c.root, 'm.json'), '{\n  "manifestVersion": 1,\n  "project": }\n'), { args: ['verify', join(c.root, 'm.json')] }),
    status: 2,
    line: /m\.json:3:14: invalid JSON: unexpected '\}', expected a value$/,
  },
  {
    name: 'manifest: nested a million deep',
    setup: (c) => (writeFileSync(join(c.root, 'm.json'), '['.repeat(1_000_000)), { args: ['verify', join(c.root, 'm.json')] }),
    status: 2,
    line: /m\.json:1:1000001: invalid JSON: unexpected end of input/,
  },
  {
    name: 'manifest: 100 MiB (sparse) is refused by size, not read',
    setup: (c) => (writeFileSync(join(c.root, 'm.json'), ''), truncateSync(join(c.root, 'm.json'), 100 << 20), { args: ['verify', join(c.root, 'm.json')] }),
    status: 2,
    line: /m\.json: 104857600 bytes, more than the 67108864/,
  },
  { name: 'manifest: unknown manifestVersion', setup: (c) => verify(c, (m) => (m.manifestVersion = 2)), status: 2, line: /\$\.manifestVersion/ },
  { name: 'manifest: artifacts is not an array', setup: (c) => verify(c, (m) => (m.artifacts = {})), status: 2, line: /\$\.artifacts: must be array/ },
  { name: 'manifest: duplicate artifact names', setup: (c) => verify(c, (m) => (m.artifacts[1].name = 'hello')), status: 2, line: /\$\.artifacts\[1\]\.name: duplicate artifact name "hello"$/ },
  {
    name: 'manifest: an extra symlink in dist is unexpected, never followed',
    setup: async (c) => {
      const run = await verify(c);
      symlinkSync(join(c.victim, 'secret'), join(c.root, 'dist', 'evil'));
      return run;
    },
    status: 1,
    line: /^dist\/evil: unexpected entry \(not a regular file\) in the output directory/,
  },
  {
    name: 'manifest: a symlink naming an artifact beside it is an alias (pacman repo.db), not unexpected',
    setup: async (c) => {
      const run = await verify(c);
      symlinkSync('hello', join(c.root, 'dist', 'hello.alias'));
      return run;
    },
    status: 0,
    line: /: 2 match, 0 mismatch, 0 missing, 0 unexpected$/,
  },
  {
    name: 'manifest: a symlink to an artifact in another directory is unexpected',
    setup: async (c) => {
      const run = await verify(c);
      symlinkSync('../hello', join(c.root, 'dist', 'sub', 'alias'));
      return run;
    },
    status: 1,
    line: /^dist\/sub\/alias: unexpected entry \(not a regular file\)/,
  },
  {
    name: 'manifest: an extra FIFO in dist is unexpected, never opened',
    setup: async (c) => {
      const run = await verify(c);
      mkfifo(join(c.root, 'dist', 'pipe'));
      return run;
    },
    status: 1,
    line: /^dist\/pipe: unexpected entry \(not a regular file\)/,
  },
  {
    name: 'manifest: an extra file in dist/.reprokit is unexpected',
    setup: async (c) => {
      const run = await verify(c);
      writeFileSync(join(c.root, 'dist', '.reprokit', 'evil.json'), '{}');
      return run;
    },
    status: 1,
    line: /^dist\/\.reprokit\/evil\.json: unexpected file in the output directory/,
  },
  {
    name: 'manifest: what a build leaves beside a record (provenance, times, build log, results) is expected',
    setup: async (c) => {
      const run = await verify(c);
      for (const suffix of ['.intoto.json', '.intoto.times.json', '.build.log', '.intoto.dsse.json', '.vary.json']) writeFileSync(join(c.root, 'dist', '.reprokit', `hello${suffix}`), '{}');
      return run;
    },
    status: 0,
    line: /: 2 match, 0 mismatch, 0 missing, 0 unexpected$/,
  },
  {
    name: 'manifest: a symlink in dist/.reprokit named like a result is still unexpected',
    setup: async (c) => {
      const run = await verify(c);
      symlinkSync('/etc/passwd', join(c.root, 'dist', '.reprokit', 'hello.intoto.json'));
      return run;
    },
    status: 1,
    line: /^dist\/\.reprokit\/hello\.intoto\.json: unexpected entry/,
  },
  {
    name: 'manifest: an extra symlink in dist/.reprokit is unexpected',
    setup: async (c) => {
      const run = await verify(c);
      symlinkSync('/etc', join(c.root, 'dist', '.reprokit', 'etc'));
      return run;
    },
    status: 1,
    line: /^dist\/\.reprokit\/etc: unexpected entry/,
  },
  {
    name: 'manifest: reproduce refuses a path out of the project too',
    setup: async (c) => {
      const { manifestPath } = await project(c);
      editJson(manifestPath, (m) => (m.artifacts[0].path = '../victim/secret'));
      return { args: ['reproduce', manifestPath] };
    },
    status: 2,
    line: /\$\.artifacts\[0\]\.path: "\.\.\/victim\/secret" leads out of its root/,
  },
  {
    name: 'build record: a file out of the output directory is not recorded',
    setup: async (c) => {
      const { manifestPath, dist } = await project(c);
      editJson(join(dist, '.reprokit', 'hello.json'), (r) => (r.file = '../../victim/secret'));
      return script(`await core('manifest/record.js').recordManifest({ manifestPath: ${JSON.stringify(manifestPath)}, project: 'p', workspaceRoot: ${JSON.stringify(c.root)} })`);
    },
    status: 2,
    line: /\.reprokit\/hello\.json: \$\.file: "\.\.\/\.\.\/victim\/secret" leads out of its root/,
  },

  // ---- hash ----
  {
    name: 'hash: a symlink loop, then a good file that is still hashed',
    setup: (c) => {
      symlinkSync('loop', join(c.root, 'loop'));
      writeFileSync(join(c.root, 'good'), 'good');
      return { args: ['hash', join(c.root, 'loop'), join(c.root, 'good')] };
    },
    status: 2,
    line: /loop: too many levels of symbolic links/,
    stdout: /^[0-9a-f]{128}  .*\/good$/m,
  },
  {
    name: 'hash: a name too long, then a good file',
    setup: (c) => (writeFileSync(join(c.root, 'good'), 'good'), { args: ['hash', join(c.root, 'n'.repeat(300)), join(c.root, 'good')] }),
    status: 2,
    line: /n{300}: file name too long$/,
    stdout: /\/good$/m,
  },
  {
    // A read that fails with EIO (a dying disk does the same): /proc/self/mem is a regular file whose
    // offset 0 is unmapped memory, so pread gives EIO, here without a broken device.
    name: 'hash: an input/output error (EIO), then a good file',
    setup: (c) => (writeFileSync(join(c.root, 'good'), 'good'), { args: ['hash', '/proc/self/mem', join(c.root, 'good')] }),
    status: 2,
    line: /^reprokit: \/proc\/self\/mem: input\/output error$/,
    stdout: /\/good$/m,
  },
  {
    name: 'hash: a FIFO is refused, not read (no hang)',
    setup: (c) => (mkfifo(join(c.root, 'pipe')), writeFileSync(join(c.root, 'good'), 'good'), { args: ['hash', join(c.root, 'pipe'), join(c.root, 'good')] }),
    status: 2,
    line: /pipe: is a FIFO, expected a regular file$/,
    stdout: /\/good$/m,
  },
  { name: 'hash: /dev/zero is refused, not read (no hang)', setup: () => ({ args: ['hash', '/dev/zero'] }), status: 2, line: /^reprokit: \/dev\/zero: is a character device, expected a regular file$/ },
  { name: 'hash: a directory', setup: (c) => ({ args: ['hash', c.root] }), status: 2, line: /: is a directory, expected a regular file$/ },
  { name: 'hash: a missing file', setup: (c) => ({ args: ['hash', join(c.root, 'absent')] }), status: 2, line: /absent: no such file or directory$/ },
  {
    name: 'hash: an unreadable file (run as nobody)',
    setup: (c) => (writeFileSync(join(c.root, 'closed'), 'x', { mode: 0o000 }), { args: ['hash', join(c.root, 'closed')], uid: 65534 }),
    status: 2,
    line: /closed: permission denied$/,
  },

  // ---- environment locks ----
  { name: 'lock: a link climbing out of the image root', setup: (c) => lockWith(c, (l) => (l.links['../../../../etc/x'] = 'pwned')), status: 2, line: /\$\.links\["\.\.\/\.\.\/\.\.\/\.\.\/etc\/x"\]: "\.\.\/\.\.\/\.\.\/\.\.\/etc\/x" leads out of its root/ },
  { name: 'lock: an absolute link', setup: (c) => lockWith(c, (l) => (l.links['/etc/x'] = 'pwned')), status: 2, line: /\$\.links\["\/etc\/x"\]: "\/etc\/x" is absolute/ },
  { name: 'lock: a link with a NUL byte', setup: (c) => lockWith(c, (l) => (l.links['usr/bin/\u0000x'] = 'y')), status: 2, line: /the path holds a NUL byte$/ },
  { name: 'lock: a package sha256 that is not one', setup: (c) => lockWith(c, (l) => (l.packages[0].sha256 = 'nope')), status: 2, line: /\$\.packages\[0\]\.sha256: must match pattern/ },
  { name: 'lock: unknown lockVersion', setup: (c) => lockWith(c, (l) => (l.lockVersion = 9)), status: 2, line: /\$\.lockVersion/ },
  { name: 'lock: invalid JSON', setup: (c) => (writeFileSync(join(c.root, 'env.lock.json'), '{"lockVersion": 1,,}'), { args: ['env', 'build', join(c.root, 'env.lock.json')] }), status: 2, line: /env\.lock\.json:1:19: invalid JSON: unexpected ','/ },
  { name: 'lock: a FIFO (no hang)', setup: (c) => (mkfifo(join(c.root, 'env.lock.json')), { args: ['env', 'build', join(c.root, 'env.lock.json')] }), status: 2, line: /env\.lock\.json: is a FIFO/ },
  { name: 'lock: a directory', setup: (c) => (mkdirSync(join(c.root, 'env.lock.json')), { args: ['env', 'build', join(c.root, 'env.lock.json')] }), status: 2, line: /env\.lock\.json: is a directory/ },
  { name: 'env spec: a FIFO (no hang)', setup: (c) => (mkfifo(join(c.root, 'env.json')), { args: ['env', 'lock', join(c.root, 'env.json')] }), status: 2, line: /env\.json: is a FIFO/ },
  {
    name: 'lock: a link below a package symlink that points out of the image root',
    setup: (c) => {
      const rootfs = join(c.root, 'rootfs');
      mkdirSync(join(rootfs, 'usr'), { recursive: true });
      symlinkSync(c.victim, join(rootfs, 'usr', 'share'));
      const lock = { ...JSON.parse(readFileSync(C_BUILDER_LOCK, 'utf8')), packages: [], links: { 'usr/share/secret': 'pwned' } };
      return script(`await core('env/env-image.js').assembleRootfs(${JSON.stringify(lock)}, new Map(), ${JSON.stringify(rootfs)}, { update() {}, finish() {} })`);
    },
    status: 2,
    line: /\$\.links\["usr\/share\/secret"\]: "usr\/share\/secret" leads out of .* through a symlink/,
  },

  // ---- packages (arch info) ----
  { name: 'package: an entry named ../evil', setup: (c) => archInfo(c, packageTar([{ name: '../evil', body: Buffer.from('x') }])), status: 2, line: /: \.\.\/evil: the name climbs out of the root with \.\.$/ },
  { name: 'package: an entry named /etc/x', setup: (c) => archInfo(c, packageTar([{ name: '/etc/x', body: Buffer.from('x') }])), status: 2, line: /: \/etc\/x: absolute name$/ },
  { name: 'package: a symlink out of the root', setup: (c) => archInfo(c, packageTar([{ name: 'usr/x', type: '2', link: '../../../etc/passwd' }])), status: 2, line: /usr\/x: symlink to \.\.\/\.\.\/\.\.\/etc\/passwd leads out of the root$/ },
  { name: 'package: a hard link to /etc/passwd', setup: (c) => archInfo(c, packageTar([{ name: 'usr/x', type: '1', link: '/etc/passwd' }])), status: 2, line: /usr\/x: hard link to \/etc\/passwd leads out of the root$/ },
  {
    name: 'package: a negative PAX size (looped forever)',
    setup: (c) => archInfo(c, packageTar([{ name: 'PaxHeader', type: 'x', body: Buffer.from(paxRecord('size', '-1024')) }, { name: 'usr/x', body: Buffer.from('x') }])),
    status: 2,
    line: /usr\/x: corrupt PAX header \(size="-1024" is not a non-negative integer\)$/,
  },
  { name: 'package: a PAX size that is not a number', setup: (c) => archInfo(c, packageTar([{ name: 'P', type: 'x', body: Buffer.from(paxRecord('size', '1e3')) }, { name: 'usr/x' }])), status: 2, line: /corrupt PAX header \(size="1e3"/ },
  { name: 'package: a PAX record whose length lies', setup: (c) => archInfo(c, packageTar([{ name: 'P', type: 'x', body: Buffer.from('999 path=x\n') }, { name: 'usr/x' }])), status: 2, line: /P: corrupt PAX header \(record at byte 0 has length "999"\)$/ },
  { name: 'package: an extended header of 2 MiB', setup: (c) => archInfo(c, packageTar([{ name: 'P', type: 'x', body: Buffer.alloc(2 << 20, 0x41) }, { name: 'usr/x' }])), status: 2, line: /P: extended header of 2097152 bytes, more than 1048576$/ },
  { name: 'package: a size past the end of the archive', setup: (c) => archInfo(c, packageTar([{ name: 'usr/x', sizeField: '77777777777\0' }])), status: 2, line: /truncated tar archive \(usr\/x is cut short\)$/ },
  { name: 'package: a negative base-256 size', setup: (c) => archInfo(c, packageTar([{ name: 'usr/x', sizeField: Buffer.alloc(12, 0xff) }])), status: 2, line: /usr\/x: corrupt tar header \(negative base-256 number\)$/ },
  { name: 'package: a header with a bad checksum', setup: (c) => archInfo(c, packageTar([{ name: 'usr/x', body: Buffer.from('x'), badChecksum: true }])), status: 2, line: /usr\/x: corrupt tar header \(bad checksum at offset \d+\)$/ },
  { name: 'package: a size field that is not octal', setup: (c) => archInfo(c, packageTar([{ name: 'usr/x', sizeField: '12345678x\0\0\0' }])), status: 2, line: /usr\/x: corrupt tar header \("12345678x" is not octal\)$/ },
  { name: 'package: no .PKGINFO', setup: (c) => archInfo(c, rawTar([{ name: 'usr/x', body: Buffer.from('x') }])), status: 2, line: /no \.PKGINFO in the package/ },
  { name: 'package: no end marker', setup: (c) => archInfo(c, packageTar([]).subarray(0, 2048)), status: 2, line: /truncated tar archive \(no end marker after 2 entries\)$/ },
  {
    name: 'package: a gzip bomb stops at the cap',
    setup: (c) => {
      // 600 concatenated gzip members of 1 MiB of zeros each: 630 KB that gunzip to 600 MiB.
      const member = gzipSync(Buffer.alloc(1 << 20));
      writeFileSync(join(c.root, 'bomb.pkg.tar.gz'), Buffer.concat(Array(600).fill(member)));
      return { args: ['arch', 'info', join(c.root, 'bomb.pkg.tar.gz')] };
    },
    status: 2,
    line: /bomb\.pkg\.tar\.gz: decompresses to more than 536870912 bytes: refused/,
  },
  {
    name: 'package: a zstd bomb stops at the cap',
    setup: (c) => (writeFileSync(join(c.root, 'bomb.pkg.tar.zst'), zstdBomb()), { args: ['arch', 'info', join(c.root, 'bomb.pkg.tar.zst')] }),
    status: 2,
    line: /bomb\.pkg\.tar\.zst: decompresses to more than 536870912 bytes: refused/,
  },
  {
    name: 'package: a zstd stream cut short',
    setup: (c) => (writeFileSync(join(c.root, 'cut.pkg.tar.zst'), zstdBomb().subarray(0, 1000)), { args: ['arch', 'info', join(c.root, 'cut.pkg.tar.zst')] }),
    status: 2,
    line: /cut\.pkg\.tar\.zst: not a valid zstd stream .*truncated or corrupt$/,
  },
  { name: 'package: random bytes', setup: (c) => (writeFileSync(join(c.root, 'r.pkg.tar'), Buffer.alloc(4096, 0x5a)), { args: ['arch', 'info', join(c.root, 'r.pkg.tar')] }), status: 2, line: /r\.pkg\.tar: .*corrupt tar header/ },
  { name: 'package: a FIFO (no hang)', setup: (c) => (mkfifo(join(c.root, 'p.pkg.tar.zst')), { args: ['arch', 'info', join(c.root, 'p.pkg.tar.zst')] }), status: 2, line: /p\.pkg\.tar\.zst: is a FIFO/ },
  { name: 'package: a directory', setup: (c) => ({ args: ['arch', 'info', c.root] }), status: 2, line: /: is a directory/ },
  { name: 'package: verify of a package that is a symlink loop', setup: (c) => (symlinkSync('p.pkg.tar.zst', join(c.root, 'p.pkg.tar.zst')), { args: ['arch', 'verify', join(c.root, 'p.pkg.tar.zst')] }), status: 2, line: /p\.pkg\.tar\.zst: too many levels of symbolic links/ },

  // ---- OCI layouts ----
  { name: 'layout: an extra blob', setup: (c) => layoutCase(c, (dir) => writeFileSync(join(dir, 'blobs', 'sha256', 'f'.repeat(64)), 'extra')), status: 2, line: /blobs\/sha256\/f{64}: unexpected: not reachable from index\.json$/ },
  { name: 'layout: an extra file at the top', setup: (c) => layoutCase(c, (dir) => writeFileSync(join(dir, 'README'), 'x')), status: 2, line: /README: unexpected: not reachable from index\.json$/ },
  { name: 'layout: an extra symlink', setup: (c) => layoutCase(c, (dir) => symlinkSync('/etc/passwd', join(dir, 'blobs', 'passwd'))), status: 2, line: /blobs\/passwd: unexpected/ },
  {
    name: 'layout: the manifest blob is a symlink out of the layout',
    setup: (c) =>
      layoutCase(c, (dir, d) => {
        copyFileSync(blob(dir, d.manifestDigest), join(c.victim, 'manifest'));
        unlinkSync(blob(dir, d.manifestDigest));
        symlinkSync(join(c.victim, 'manifest'), blob(dir, d.manifestDigest));
      }),
    status: 2,
    line: /is a symlink; it must be a regular file/,
  },
  {
    name: 'layout: blobs/sha256 is a symlink out of the layout',
    setup: (c) =>
      layoutCase(c, (dir) => {
        renameSync(join(dir, 'blobs', 'sha256'), join(c.victim, 'sha256'));
        symlinkSync(join(c.victim, 'sha256'), join(dir, 'blobs', 'sha256'));
      }),
    status: 2,
    line: /leads out of .* through a symlink/,
  },
  { name: 'layout: index.json is a FIFO (no hang)', setup: (c) => layoutCase(c, (dir) => (unlinkSync(join(dir, 'index.json')), mkfifo(join(dir, 'index.json')))), status: 2, line: /index\.json: is a FIFO/ },
  { name: 'layout: index.json is a symlink', setup: (c) => layoutCase(c, (dir) => (unlinkSync(join(dir, 'index.json')), symlinkSync('/etc/passwd', join(dir, 'index.json')))), status: 2, line: /index\.json" is a symlink/ },
  { name: 'layout: index.json is not JSON', setup: (c) => layoutCase(c, (dir) => writeFileSync(join(dir, 'index.json'), '{\n  "manifests": [\n')), status: 2, line: /index\.json:3:1: invalid JSON: unexpected end of input/ },
  {
    name: 'layout: a digest with a path in it',
    setup: (c) => layoutCase(c, (dir) => editJson(join(dir, 'index.json'), (index) => (index.manifests[0].digest = 'sha256:../../../victim/secret'))),
    status: 2,
    line: /index\.json: .*digest/,
  },
  {
    name: 'layout: a blob whose size lies',
    setup: (c) => layoutCase(c, (dir) => editJson(join(dir, 'index.json'), (index) => (index.manifests[0].size += 1))),
    status: 2,
    line: /index\.json: \/manifests\/0\/size: \d+, but the blob has \d+ bytes$/,
  },

  // ---- Dockerfile COPY sources ----
  { name: 'Dockerfile: COPY ../ out of the context', setup: (c) => copyCase(c, '../victim/secret'), status: 2, line: /Dockerfile:2: COPY \.\.\/victim\/secret: outside the build context/ },
  { name: 'Dockerfile: COPY through a symlinked directory out of the context', setup: (c) => copyCase(c, 'link/secret', (ctx) => symlinkSync(c.victim, join(ctx, 'link'))), status: 2, line: /Dockerfile:2: COPY link\/secret: "link\/secret" leads out of .* through a symlink/ },
  { name: 'Dockerfile: COPY a FIFO (no hang)', setup: (c) => copyCase(c, 'pipe', (ctx) => mkfifo(join(ctx, 'pipe'))), status: 2, line: /Dockerfile:2: COPY pipe: .*pipe is not a file, directory or symlink$/ },
  { name: 'Dockerfile: COPY a directory holding a FIFO', setup: (c) => copyCase(c, '.', (ctx) => mkfifo(join(ctx, 'pipe'))), status: 2, line: /Dockerfile:2: COPY \.: .*pipe is not a file, directory or symlink$/ },
  { name: 'Dockerfile: COPY a source that is not there', setup: (c) => copyCase(c, 'absent'), status: 2, line: /Dockerfile:2: COPY absent: not found in the build context/ },

  // ---- PKGBUILD-derived names ----
  {
    name: 'PKGBUILD: a source tarball name with a path',
    setup: (c) =>
      script(`await core('arch/makepkg-build.js').buildArchPackages({ projectDir: ${JSON.stringify(c.root)}, pkgbuildLabel: 'p/PKGBUILD', environment: 'host', sourceTarball: '../../victim/src.tgz', builddir: '/build', startdir: '/startdir', outputDir: ${JSON.stringify(join(c.root, 'dist'))}, workDir: ${JSON.stringify(join(c.root, 'work'))} })`),
    status: 2,
    line: /p\/PKGBUILD: source tarball name "\.\.\/\.\.\/victim\/src\.tgz": must be a plain file name/,
  },
  {
    name: 'PKGBUILD: a source tarball named ..',
    setup: (c) =>
      script(`await core('arch/makepkg-build.js').buildArchPackages({ projectDir: ${JSON.stringify(c.root)}, pkgbuildLabel: 'p/PKGBUILD', environment: 'host', sourceTarball: '..', builddir: '/build', startdir: '/startdir', outputDir: ${JSON.stringify(join(c.root, 'dist'))}, workDir: ${JSON.stringify(join(c.root, 'work'))} })`),
    status: 2,
    line: /source tarball name "\.\.": must be a plain file name/,
  },

  // ---- Terminal injection, nesting, special files named (issue 26) ----
  {
    name: 'package: a corrupt header whose name holds ESC, BEL and a newline is one escaped line',
    setup: (c) => archInfo(c, rawTar([{ name: 'x\x1b]0;pwned\x07\nreprokit: forged\x1b[2J', body: Buffer.from('x'), badChecksum: true }])),
    status: 2,
    line: /x\\x1b\]0;pwned\\x07\\nreprokit: forged\\x1b\[2J: corrupt tar header \(bad checksum at offset 0\)$/,
  },
  {
    name: 'package: random bytes zstd-compressed: the header name shown byte for byte, no raw control character',
    setup: (c) => {
      const path = join(c.root, 'x-1.0-1-x86_64.pkg.tar.zst');
      // Bytes chosen to hold ESC, CR, a newline and invalid UTF-8 where the tar name is.
      const bytes = Buffer.alloc(1024, 0x41);
      Buffer.from([0x1b, 0x5b, 0x32, 0x4a, 0x0d, 0x0a, 0xff, 0xfe, 0xc3]).copy(bytes, 3);
      writeFileSync(join(c.root, 'raw'), bytes);
      spawnSync('zstd', ['-q', '-f', join(c.root, 'raw'), '-o', path]);
      return { args: ['arch', 'info', path] };
    },
    status: 2,
    line: /pkg\.tar\.zst: AAA\\x1b\[2J\\r\\n\\xff\\xfe\\xc3A+: corrupt tar header/,
  },
  {
    name: 'pins: a valid workflow nested 1,400 deep is checked (its unpinned action found)',
    setup: (c) => (deepWorkflow(c, 1400, 'block'), { args: ['pins', 'check', c.root] }),
    status: 1,
    line: /deep\.yml:6:15 error actions-unpinned uses: actions\/checkout@v4/,
  },
  {
    name: 'pins: a workflow nested past the limit is a finding naming the limit, not a stack overflow',
    setup: (c) => (deepWorkflow(c, 2500, 'flow'), { args: ['pins', 'check', c.root] }),
    status: 1,
    line: /deep\.yml:\d+:\d+ error pins-unparsable invalid YAML: nested deeper than 2000 levels \(25\d\d\)$/,
  },
  { name: 'pins: a FIFO named on the command line (no hang, no "0 files checked")', setup: (c) => (mkfifo(join(c.root, 'Dockerfile')), { args: ['pins', 'check', join(c.root, 'Dockerfile')] }), status: 2, line: /Dockerfile: is a FIFO, expected a file or directory to check$/ },
  { name: 'pins: a device named on the command line', setup: () => ({ args: ['pins', 'check', '/dev/zero'] }), status: 2, line: /^reprokit: \/dev\/zero: is a character device, expected a file or directory to check$/ },
  { name: 'report: a FIFO named as the workspace (not "install git")', setup: (c) => (mkfifo(join(c.root, 'ws')), { args: ['report', join(c.root, 'ws')] }), status: 2, line: /ws: is a FIFO, expected a workspace directory$/ },
  { name: 'diff: a FIFO named on the command line', setup: (c) => (mkfifo(join(c.root, 'fifo')), writeFileSync(join(c.root, 'f'), 'x'), { args: ['diff', join(c.root, 'fifo'), join(c.root, 'f')] }), status: 2, line: /fifo: is a FIFO, expected a file or directory to compare$/ },
  { name: 'diff: a symlink loop against a file is ELOOP, as diff says (not "differ (directory)")', setup: (c) => (symlinkSync('loop', join(c.root, 'loop')), writeFileSync(join(c.root, 'f'), 'x'), { args: ['diff', join(c.root, 'loop'), join(c.root, 'f')] }), status: 2, line: /loop: too many levels of symbolic links$/ },

  // ---- CLI arguments ----
  { name: 'CLI: an unknown command', setup: () => ({ args: ['frobnicate'] }), status: 2, line: /^reprokit: unknown command "frobnicate"$/ },
  { name: 'CLI: version takes no arguments', setup: () => ({ args: ['version', 'extra'] }), status: 2, line: /^reprokit: version: takes no arguments \(got "extra"\)$/ },
  { name: 'CLI: verify with two manifests', setup: () => ({ args: ['verify', 'a', 'b'] }), status: 2, line: /^reprokit: verify: name exactly one MANIFEST/ },
  { name: 'CLI: verify with none', setup: () => ({ args: ['verify'] }), status: 2, line: /^reprokit: verify: name exactly one MANIFEST/ },
  { name: 'CLI: an unknown option', setup: () => ({ args: ['verify', '--frobnicate', 'm.json'] }), status: 2, line: /^reprokit: Unknown option '--frobnicate'/ },
  { name: 'CLI: hash with an unknown algorithm', setup: () => ({ args: ['hash', '--algo', 'md5', 'x'] }), status: 2, line: /^reprokit: --algo: unknown algorithm "md5"/ },
  { name: 'CLI: hash with no file', setup: () => ({ args: ['hash'] }), status: 2, line: /^reprokit: hash: name at least one FILE/ },
  { name: 'CLI: an unknown arch action', setup: () => ({ args: ['arch', 'sign', 'p'] }), status: 2, line: /^reprokit: arch: unknown action "sign"/ },
  { name: 'CLI: an unknown env action', setup: () => ({ args: ['env', 'nuke'] }), status: 2, line: /^reprokit: env: unknown action "nuke"/ },
  { name: 'CLI: env build without a lock', setup: () => ({ args: ['env', 'build'] }), status: 2, line: /^reprokit: env build: name exactly one LOCK/ },
  { name: 'CLI: arch info with two packages', setup: () => ({ args: ['arch', 'info', 'a', 'b'] }), status: 2, line: /^reprokit: arch info: name exactly one PKGFILE/ },
  { name: 'CLI: reproduce without a manifest', setup: () => ({ args: ['reproduce'] }), status: 2, line: /^reprokit: reproduce: name exactly one MANIFEST/ },
  { name: 'CLI: an option value missing', setup: () => ({ args: ['hash', '--algo'] }), status: 2, line: /^reprokit: Option '-a, --algo <value>' argument missing/ },
];

describe('hostile inputs: one line, a non-zero exit within seconds, nothing written outside the root', () => {
  const outer = mkdtempSync(join(tmpdir(), 'reprokit-hostile-'));
  // Readable by `nobody` for the cases run without root's privileges.
  chmodSync(outer, 0o755);
  after(() => rmSync(outer, { recursive: true, force: true }));
  const victim = join(outer, 'victim');
  mkdirSync(join(victim, 'dir'), { recursive: true });
  writeFileSync(join(victim, 'secret'), `secret ${DECOY_SECRET}\n`);
  let count = 0;

  it('holds at least 60 cases', () => assert.ok(CASES.length >= 60, `${CASES.length} cases`));

  for (const testCase of CASES) {
    it(testCase.name, async () => {
      const root = join(outer, `root-${count++}`);
      mkdirSync(join(root, 'tmp'), { recursive: true });
      mkdirSync(join(root, 'home'));
      chmodSync(root, 0o755);
      const run = await testCase.setup({ root, victim });
      // After the setup, which may plant files there for the input to aim at.
      const before = snapshot(victim);
      const env = { PATH: process.env.PATH, HOME: join(root, 'home'), TMPDIR: join(root, 'tmp'), DOCKER_HOST: 'unix:///nonexistent/docker.sock', PROBE_SECRET: DECOY_SECRET };
      const options = { cwd: root, env, encoding: 'utf8' as const, timeout: 30_000 };
      const result =
        'args' in run
          ? spawnSync(process.execPath, [BIN, ...run.args], { ...options, ...(run.uid !== undefined ? { uid: run.uid, gid: run.uid } : {}) })
          : spawnSync(process.execPath, ['-e', cliHarness(run.script)], options);
      assert.equal(result.error, undefined, `did not finish: ${result.error?.message}`);
      assert.doesNotMatch(result.stderr, /^\s+at /m, `stack trace:\n${result.stderr}`);
      // No raw control character from an input reaches the terminal (terminal/safe-output.ts).
      assert.doesNotMatch(result.stdout + result.stderr, /[\x00-\x08\x0b-\x1f\x7f]/, `a raw control character:\n${JSON.stringify(result.stdout + result.stderr).slice(0, 2000)}`);
      assertNoSecret(result.stdout + result.stderr);
      assert.equal(result.status, testCase.status, `exit ${result.status}\nstdout: ${result.stdout.slice(0, 2000)}\nstderr: ${result.stderr}`);
      if (testCase.status === 2) {
        const lines = result.stderr.split('\n').filter((line) => line !== '' && !line.startsWith('run `reprokit --help`'));
        assert.equal(lines.length, 1, `not one line:\n${result.stderr}`);
        assert.match(lines[0], /^reprokit: /);
        assert.match(lines[0], testCase.line);
      } else {
        const lines = `${result.stdout}\n${result.stderr}`.split('\n');
        assert.ok(lines.some((line) => testCase.line.test(line)), `no line matches ${testCase.line}:\n${result.stdout}\n${result.stderr}`);
      }
      if (testCase.stdout) assert.match(result.stdout, testCase.stdout);
      // Nothing outside the root: the victim is as it was, and nothing new appeared beside the roots.
      assert.equal(snapshot(victim), before, 'the victim directory changed');
      assert.deepEqual(
        readdirSync(outer).filter((name) => !name.startsWith('root-')),
        ['victim'],
      );
      rmSync(root, { recursive: true, force: true });
    });
  }
});
