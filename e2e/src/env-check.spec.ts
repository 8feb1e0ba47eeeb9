import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { TempWorkspace } from './workspace';

// The env-check target through real nx: inferred on the workspace root, over every env.lock.json
// git knows of, never cached (the same run twice runs twice).
describe('nx run <root>:env-check in a temp workspace', () => {
  const ws = new TempWorkspace();

  it('passes on the shipped locks, and fails naming the package when a lock has one no source serves, every time', () => {
    const ok = ws.nx('run', 'reprokit-workspace:env-check', '--output-style=static');
    assert.equal(ok.status, 0, ok.output);
    for (const name of ['c-builder', 'rust-builder', 'arch-builder', 'static-base']) {
      assert.match(ok.output, new RegExp(`packages/core/envs/${name}/env\\.lock\\.json: \\d+ packages, every one has a source`));
    }
    const lock = JSON.parse(ws.read('packages/core/envs/static-base/env.lock.json'));
    lock.name = 'rotten';
    lock.packages.push({ name: 'reprokit-nowhere', version: '1.0', architecture: 'all', filename: 'pool/main/r/reprokit-nowhere/reprokit-nowhere_1.0_all.deb', size: 10, sha256: 'ab'.repeat(32) });
    mkdirSync(join(ws.root, 'envs', 'rotten'), { recursive: true });
    ws.write('envs/rotten/env.lock.json', JSON.stringify(lock, null, 2) + '\n');
    for (let run = 0; run < 2; run++) {
      const rotten = ws.nx('run', 'reprokit-workspace:env-check', '--output-style=static');
      assert.notEqual(rotten.status, 0, rotten.output);
      assert.match(rotten.output, /envs\/rotten\/env\.lock\.json: 2 packages, 1 with no source/);
      assert.match(rotten.output, /no source: reprokit-nowhere=1\.0/);
      assert.doesNotMatch(rotten.output, /from the cache|existing outputs match/i);
    }
  });
});
