// `pins update` against the real docker daemon and the local registry (tools/setup starts both).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { readBuildEnvLock } from '../../env/build-env';
import { connectDocker, pushImage } from '../../docker/docker';
import { tempDir } from '../../testing/fixtures';
import { updatePins } from './update';
import { unifiedDiffOfLineEdits } from './unified-diff';

const LOCK = join(__dirname, '..', '..', '..', 'envs', 'rust-builder', 'env.lock.json');

describe('pins update', () => {
  let id: string;
  let localTag: string;
  let registryRef: string;
  let manifestDigest: string;
  before(async () => {
    const docker = await connectDocker();
    id = (await readBuildEnvLock(LOCK)).imageId!;
    localTag = `reprokit/rust-builder:${id.slice(7, 19)}`;
    await docker.getImage(id).tag({ repo: 'reprokit/rust-builder', tag: id.slice(7, 19) });
    const pushed = await pushImage(docker, id, '127.0.0.1:5000/reprokit/pins-test', 'v1');
    manifestDigest = pushed.split('@')[1];
    // Only the registry knows this name: the local tag is removed again.
    await docker.getImage('127.0.0.1:5000/reprokit/pins-test:v1').remove({ noprune: true }).catch(() => undefined);
    registryRef = '127.0.0.1:5000/reprokit/pins-test:v1';
  });

  function repo(): string {
    const dir = tempDir();
    spawnSync('git', ['init', '-q'], { cwd: dir });
    writeFileSync(join(dir, 'Dockerfile'), `ARG BASE=alpine:3.19\nFROM ${localTag} AS build\nRUN true\nFROM $BASE\nFROM nosuchimage-reprokit:1\n`);
    writeFileSync(join(dir, 'build.sh'), `#!/bin/sh\ndocker run --rm -v "$PWD:/src" "${registryRef}" true\n`);
    chmodSync(join(dir, 'build.sh'), 0o755);
    return dir;
  }

  it('with --dry-run prints a unified diff and writes nothing', async () => {
    const dir = repo();
    const original = readFileSync(join(dir, 'Dockerfile'), 'utf8');
    const result = await updatePins([dir], { dryRun: true });
    assert.equal(readFileSync(join(dir, 'Dockerfile'), 'utf8'), original);
    assert.ok(result.diff.includes(`--- a/Dockerfile\n+++ b/Dockerfile\n@@ -1,5 +1,5 @@\n ARG BASE=alpine:3.19\n-FROM ${localTag} AS build\n+FROM ${localTag}@${id} AS build\n`), result.diff);
    assert.ok(result.diff.includes(`+docker run --rm -v "$PWD:/src" "${registryRef}@${manifestDigest}" true`), result.diff);
  });

  it('pins from docker and from the registry, keeps the file mode, and reports what it cannot resolve', async () => {
    const dir = repo();
    const result = await updatePins([dir]);
    assert.deepEqual(
      result.edits.map((e) => [e.file, e.line, e.to]),
      [
        ['Dockerfile', 2, `${localTag}@${id}`],
        ['build.sh', 2, `${registryRef}@${manifestDigest}`],
      ],
    );
    assert.match(readFileSync(join(dir, 'Dockerfile'), 'utf8'), new RegExp(`^FROM ${localTag}@${id} AS build$`, 'm'));
    assert.equal(statSync(join(dir, 'build.sh')).mode & 0o777, 0o755);
    assert.deepEqual(
      result.unresolved.map((u) => [u.finding.line, u.reason.split(':')[0]]),
      [
        [4, 'the image is written as a variable'],
        [5, 'neither docker nor a registry knows nosuchimage-reprokit'],
      ],
    );
    const again = await updatePins([dir]);
    assert.equal(again.edits.length, 0);
  });
});

describe('unifiedDiffOfLineEdits', () => {
  it('merges nearby changes into one hunk and keeps distant ones apart', () => {
    const before = Array.from({ length: 20 }, (_, i) => `l${i + 1}`).join('\n');
    const after = before.replace('l2\n', 'L2\n').replace('l4\n', 'L4\n').replace('l18', 'L18');
    assert.equal(
      unifiedDiffOfLineEdits('f', before, after),
      ['--- a/f', '+++ b/f', '@@ -1,7 +1,7 @@', ' l1', '-l2', '+L2', ' l3', '-l4', '+L4', ' l5', ' l6', ' l7', '@@ -15,6 +15,6 @@', ' l15', ' l16', ' l17', '-l18', '+L18', ' l19', ' l20', ''].join('\n'),
    );
  });
});
