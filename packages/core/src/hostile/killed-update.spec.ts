// `checksum --update` (recordManifest, what the executor calls) killed with SIGKILL at 50 random
// moments: the manifest on disk is always a whole one, the old or the new, never a broken one.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { hashFile } from '../hash';
import { readManifest } from '../manifest/manifest';
import { recordManifest } from '../manifest/record';
import { tempDir } from '../testing/fixtures';
import { hostileProject } from './hostile-fixtures';

describe('checksum --update killed with SIGKILL', () => {
  const dir = tempDir('reprokit-killed-');
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('leaves the old or the new manifest at each of 50 random moments, never a broken one', async () => {
    const { manifestPath, dist } = await hostileProject(dir);
    const artifact = join(dist, 'hello');
    // Two contents, each large enough that its manifest takes a while to hash and write.
    const contents = ['a', 'b'].map((c) => c.repeat(1 << 20));
    const hashes = new Set<string>();
    for (const content of contents) {
      writeFileSync(artifact, content);
      hashes.add((await hashFile(artifact, ['sha256'])).digests.sha256!);
    }
    await recordManifest({ manifestPath, project: 'hostile', workspaceRoot: dir });
    // The child re-records in a loop, switching the artifact between the two contents: whenever it is
    // killed, it may be writing the artifact, hashing, or replacing the manifest.
    const child = `const { recordManifest } = require(${JSON.stringify(join(__dirname, '..', 'manifest', 'record.js'))});
      const { writeFileSync } = require('node:fs');
      const contents = ${JSON.stringify(contents.map((c) => c[0]))}.map((c) => c.repeat(${1 << 20}));
      (async () => {
        process.stdout.write('ready\\n');
        for (let i = 0; ; i++) {
          writeFileSync(${JSON.stringify(artifact + '.next')}, contents[i % 2]);
          require('node:fs').renameSync(${JSON.stringify(artifact + '.next')}, ${JSON.stringify(artifact)});
          await recordManifest({ manifestPath: ${JSON.stringify(manifestPath)}, project: 'hostile', workspaceRoot: ${JSON.stringify(dir)} });
        }
      })();`;
    const seen = new Set<string>();
    for (let round = 0; round < 50; round++) {
      const process_ = spawn(process.execPath, ['-e', child], { stdio: ['ignore', 'pipe', 'inherit'] });
      await new Promise((ready) => process_.stdout.once('data', ready));
      await new Promise((wait) => setTimeout(wait, Math.floor(Math.random() * 150)));
      process_.kill('SIGKILL');
      await new Promise((exit) => process_.once('exit', exit));
      const manifest = await readManifest(manifestPath);
      const hello = manifest.artifacts.find((a) => a.name === 'hello');
      assert.ok(hello && hashes.has(hello.sha256), `round ${round}: the manifest records ${hello?.sha256}, neither content`);
      seen.add(hello.sha256);
    }
    // No temporary manifest is left beside it to be mistaken for one (the atomic write cleans up on
    // error; a kill can leave one, and it is never the manifest's name).
    const names = readdirSync(dir).filter((name) => name.includes('repro-manifest'));
    assert.ok(names.includes('repro-manifest.json'));
    for (const name of names) assert.ok(name === 'repro-manifest.json' || /^\.repro-manifest\.json\.\d+\.[0-9a-f]+\.tmp$/.test(name), name);
    // The kills landed at different moments: both versions were seen.
    assert.equal(seen.size, 2, 'all 50 kills saw the same manifest: the moments were not spread');
  });
});
