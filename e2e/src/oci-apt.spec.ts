import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot, TempWorkspace } from './workspace';

// Issue 25's journey through real nx and docker: a Dockerfile FROM reprokit/debian-base that installs
// jq in RUN, locked with `reprokit oci lock`, built offline; the lock is an input of the oci target.
describe('apt-get install in a Dockerfile RUN, locked, through nx', () => {
  const ws = new TempWorkspace();
  const base = (JSON.parse(readFileSync(join(repoRoot, 'packages/core/envs/debian-base/env.lock.json'), 'utf8')) as { imageId: string }).imageId;
  const dockerfile = `FROM reprokit/debian-base@${base}\nRUN apt-get update && apt-get install -y --no-install-recommends jq\nCMD ["jq", "--version"]\n`;
  const FROM_CACHE = /nx run jqimg:oci[^\n]*  \[(local cache|existing outputs match the cache, left as is)\]/;
  const IMAGE = /image (sha256:[0-9a-f]{64}) \(jqimg:latest\)/;
  ws.write('packages/jqimg/project.json', JSON.stringify({ name: 'jqimg', projectType: 'application', targets: { oci: { options: { envLocks: ['packages/core/envs/debian-base/env.lock.json'] } } } }));
  ws.write('packages/jqimg/Dockerfile', dockerfile);
  let imageId = '';

  it('locks the install, builds it offline, and hits the cache the second time', () => {
    const locked = ws.reprokit('oci', 'lock', 'packages/jqimg');
    assert.equal(locked.status, 0, locked.output);
    assert.match(locked.stdout, /^locked 1 install \(3 packages from bookworm\) into .*packages\/jqimg\/Dockerfile\.lock\.json$/m);
    ws.commit('jqimg with its lock');
    const first = ws.nx('run', 'jqimg:oci');
    assert.equal(first.status, 0, first.output);
    assert.doesNotMatch(first.output, FROM_CACHE);
    imageId = IMAGE.exec(first.output)![1];
    const again = ws.nx('run', 'jqimg:oci');
    assert.match(again.output, FROM_CACHE);
  });

  it('a changed lock misses the cache (the same packages give the same image)', () => {
    const lock = JSON.parse(ws.read('packages/jqimg/Dockerfile.lock.json'));
    // Where a package can be fetched again, not what it is: the image stays, the target runs again.
    delete lock.installs[0].packages[0].snapshot;
    ws.write('packages/jqimg/Dockerfile.lock.json', JSON.stringify(lock, null, 2) + '\n');
    const run = ws.nx('run', 'jqimg:oci');
    assert.equal(run.status, 0, run.output);
    assert.doesNotMatch(run.output, FROM_CACHE);
    assert.equal(IMAGE.exec(run.output)![1], imageId);
  });

  it('an install the lock does not cover stops the build with Dockerfile:LINE and the command to run', () => {
    ws.write('packages/jqimg/Dockerfile', dockerfile + 'RUN apt-get install -y --no-install-recommends make\n');
    const { status, output } = ws.nx('run', 'jqimg:oci');
    assert.notEqual(status, 0, output);
    assert.match(output, /packages\/jqimg\/Dockerfile:4: RUN apt-get install -y --no-install-recommends make: not in Dockerfile\.lock\.json: run `reprokit oci lock packages\/jqimg\/Dockerfile`/);
    assert.doesNotMatch(output, /^\s+at .*:\d+:\d+\)?$/m);
  });
});
