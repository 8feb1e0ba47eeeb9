import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { tarEntries } from '../archive/tar-reader';
import { buildImageArtifact } from './image-artifact';

// reprokit's image writer against the real `docker build` (the classic builder of Debian's docker.io)
// on the same Dockerfile and context: the exported filesystems and the runtime configs must agree.
const ENVS = join(__dirname, '..', '..', 'envs');
const imageIdOf = (env: string) => (JSON.parse(readFileSync(join(ENVS, env, 'env.lock.json'), 'utf8')) as { imageId: string }).imageId;
const C_BUILDER = imageIdOf('c-builder');
// The tiny one (no shell) for the cases without RUN, so that exporting the base costs nothing.
const STATIC_BASE = imageIdOf('static-base');
const ENV_LOCKS = ['c-builder', 'static-base'].map((env) => join(ENVS, env, 'env.lock.json'));

const docker = (...args: string[]) => {
  const result = spawnSync('docker', args, { encoding: 'utf8', maxBuffer: 1 << 28 });
  if (result.status !== 0) throw new Error(`docker ${args.join(' ')}: ${result.stderr}`);
  return result.stdout;
};

/** Files docker itself puts in every container (mount points, its marker), not the image's. */
const RUNTIME_PATHS = /^(\.dockerenv|dev(\/.*)?|proc|sys|etc\/(hostname|hosts|resolv\.conf|mtab))$/;

/** An image's filesystem as one line per path: type, mode, owner, and content hash or link target. */
function filesystemOf(image: string, dir: string): Map<string, string> {
  const container = docker('create', image, 'true').trim();
  const archive = join(dir, `export-${container.slice(0, 12)}.tar`);
  try {
    execFileSync('docker', ['export', '-o', archive, container]);
  } finally {
    docker('rm', container);
  }
  const files = new Map<string, string>();
  const content = join(dir, 'content');
  for (const entry of tarEntries(archive, archive)) {
    if (RUNTIME_PATHS.test(entry.path)) continue;
    let what = entry.link ?? '';
    if (entry.type === 'file') {
      entry.copyTo(content);
      what = createHash('sha256').update(readFileSync(content)).digest('hex').slice(0, 16);
    }
    files.set(entry.path, `${entry.type} ${(entry.mode & 0o7777).toString(8)} ${entry.uid}:${entry.gid} ${what}`);
  }
  rmSync(archive, { force: true });
  return files;
}

/** The paths where two filesystems differ, as `path: ours | docker's`. */
function differences(ours: Map<string, string>, theirs: Map<string, string>): string[] {
  const paths = [...new Set([...ours.keys(), ...theirs.keys()])].sort();
  return paths.filter((path) => ours.get(path) !== theirs.get(path)).map((path) => `${path}: ${ours.get(path) ?? '(none)'} | ${theirs.get(path) ?? '(none)'}`);
}

describe('reprokit and docker build make the same image from the same Dockerfile (docker)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'reprokit-compare-'));
  const tags: string[] = [];
  after(() => {
    rmSync(dir, { recursive: true, force: true });
    for (const tag of tags) spawnSync('docker', ['image', 'rm', tag], { stdio: 'ignore' });
  });

  /** Builds `dockerfile` (FROM lines with `@BASE@`) with reprokit and with docker build, both from `context`. */
  const buildBoth = async (name: string, dockerfile: string, files: Record<string, string | { content: string; mode: number }>, baseImage = C_BUILDER) => {
    const context = join(dir, name);
    mkdirSync(context, { recursive: true });
    for (const [path, file] of Object.entries(files)) {
      mkdirSync(join(context, path, '..'), { recursive: true });
      writeFileSync(join(context, path), typeof file === 'string' ? file : file.content);
      chmodSync(join(context, path), typeof file === 'string' ? 0o644 : file.mode);
    }
    // Ours: pinned by digest (built from its lock if docker lacks it).
    writeFileSync(join(context, 'Dockerfile'), dockerfile.replaceAll('@BASE@', `reprokit/base@${baseImage}`));
    const ours = `reprokit-test/compare-${name}:${process.pid}`;
    tags.push(ours);
    const built = await buildImageArtifact({
      dockerfile: join(context, 'Dockerfile'),
      context,
      sourceDateEpoch: 1700000000,
      workDir: join(dir, `work-${name}`),
      envLocks: ENV_LOCKS,
      name,
      outputDir: join(dir, `out-${name}`),
      tag: ours,
      logPrefix: '',
      log: () => {},
    });
    // docker build's classic builder would pull a name@digest reference: it gets a local tag of the same image.
    const base = `reprokit-test/compare-base-${name}:${process.pid}`;
    docker('tag', baseImage, base);
    tags.push(base);
    writeFileSync(join(context, 'Dockerfile'), dockerfile.replaceAll('@BASE@', base));
    const theirs = `reprokit-test/compare-${name}-docker:${process.pid}`;
    tags.push(theirs);
    docker('build', '--network', 'none', '--quiet', '-t', theirs, context);
    const config = (image: string) => JSON.parse(docker('image', 'inspect', '--format', '{{json .Config}}', image)) as { Env: string[]; User: string; WorkingDir: string };
    return { id: built.image.id, ours: filesystemOf(ours, dir), theirs: filesystemOf(theirs, dir), ourConfig: config(ours), theirConfig: config(theirs) };
  };

  it('WORKDIR then COPY into it, several sources, directories by content, trailing slashes, existing directories, wildcards, --chown', async () => {
    const { ours, theirs } = await buildBoth(
      'copy',
      `FROM @BASE@ AS tool
COPY tool.sh /out/tool.sh
FROM @BASE@
USER root
WORKDIR /app
COPY a.txt .
COPY a.txt b.txt ./many/
COPY dir /contents
COPY dir/ /contents-slash/
COPY a.txt /file-named-dest
COPY a.txt /usr/share
COPY --chown=1000:1000 b.txt /new/deep/path/
COPY --chown=1000:1000 dir /owned
COPY *.txt /wild/
COPY dir/*.c /wild-c/
COPY --from=tool /out /from-stage
COPY --from=tool /out/tool.sh /from-stage-file
USER 1000:1000
`,
      { 'a.txt': 'a\n', 'b.txt': 'b\n', 'dir/x.c': 'int x;\n', 'dir/y.h': '#define Y\n', 'dir/sub/z.c': 'int z;\n', 'tool.sh': { content: '#!/bin/sh\n', mode: 0o755 } },
      STATIC_BASE,
    );
    assert.deepEqual(differences(ours, theirs), []);
    // The silent wrong image of issue 16: /app must be a directory holding a.txt.
    assert.match(ours.get('app')!, /^directory /);
    assert.match(ours.get('app/a.txt')!, /^file 644 0:0 /);
  });

  it('ENV expands the base image’s variables; USER and WORKDIR come from the base', async () => {
    const { ours, theirs, ourConfig, theirConfig } = await buildBoth(
      'env',
      `FROM @BASE@
ENV PATH=$PATH:/opt/tool/bin GREETING="hello $LC_ALL" EMPTY=\${UNSET_IN_BASE:-fallback}
ENV LEGACY form with spaces
COPY a.txt tmp-copy.txt
`,
      { 'a.txt': 'a\n' },
      STATIC_BASE,
    );
    assert.deepEqual(ourConfig.Env, theirConfig.Env);
    assert.deepEqual(ourConfig.Env, ['LC_ALL=C', 'PATH=/usr/local/bin:/usr/bin:/opt/tool/bin', 'TZ=UTC', 'GREETING=hello C', 'EMPTY=fallback', 'LEGACY=form with spaces']);
    assert.deepEqual([ourConfig.User, ourConfig.WorkingDir], [theirConfig.User, theirConfig.WorkingDir]);
    assert.deepEqual([ourConfig.User, ourConfig.WorkingDir], ['1000:1000', '/home/build']);
    // A relative COPY destination lands in the inherited WORKDIR.
    assert.deepEqual(differences(ours, theirs), []);
    assert.match(ours.get('home/build/tmp-copy.txt')!, /^file 644 0:0/);
  });

  it('RUN in the final stage as root and as a user: added, changed and deleted files become one layer with whiteouts', async () => {
    const { ours, theirs } = await buildBoth(
      'run',
      `FROM @BASE@
USER root
RUN rm /etc/rmt && mkdir -p /srv/data && echo hello > /srv/data/greeting && chown 1000:1000 /srv/data && ln -s data/greeting /srv/link && chmod 0700 /srv/data
RUN rm -rf /usr/share/doc/tar && echo leftover > /tmp/scratch
USER 1000:1000
RUN echo mine > /srv/data/mine
`,
      {},
    );
    // The one deliberate difference: what a RUN leaves in /tmp is not shipped.
    assert.deepEqual(differences(ours, theirs), ['tmp/scratch: (none) | file 644 0:0 9a0f2b10fc240fbd']);
    assert.equal(ours.has('etc/rmt'), false);
    assert.match(ours.get('srv/data/mine')!, /^file 644 1000:1000/);
  });
});
