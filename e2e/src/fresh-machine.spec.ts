// A fresh machine: every shipped environment lock built through the CLI as tools/setup builds it
// (`reprokit env build LOCK --reuse`, in name order), on a docker daemon of the test's own that has no
// image, with an empty .deb cache (shared by the locks, as on a machine), an apt that knows no package and no image registry. Only Debian's archive
// can serve the .debs, from the suites the locks record; each build must reach its recorded image ID.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SecondDockerd } from './second-dockerd';
import { emptyAptConfig } from '@reprokit/core/dist/testing/empty-apt';
import { tempDir } from '@reprokit/core/dist/testing/fixtures';

const repo = join(__dirname, '..', '..');
const bin = join(repo, 'packages/core/bin/reprokit.js');
const envs = join(repo, 'packages/core/envs');

function reprokit(args: string[], env: Record<string, string>): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd: repo, env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('close', (status) => done({ status, stdout, stderr }));
  });
}

describe('a fresh machine builds every shipped environment from its lock', () => {
  const daemon = new SecondDockerd();
  const fresh = {
    XDG_CACHE_HOME: tempDir('reprokit-fresh-cache-'),
    APT_CONFIG: emptyAptConfig(),
    REPROKIT_IMAGE_REGISTRIES: '',
    REPROKIT_DEB_VAULTS: '',
    REPROKIT_SNAPSHOT_URL: 'http://127.0.0.1:9',
  };
  before(async () => {
    await daemon.start();
  });
  after(() => daemon.stop());

  for (const name of readdirSync(envs).sort()) {
    const lockPath = join(envs, name, 'env.lock.json');
    const lock = JSON.parse(readFileSync(lockPath, 'utf8')) as { imageId?: string; packages: { suite?: string }[] };
    it(`${name}: the recorded image ID, with nothing cached`, async () => {
      assert.match(lock.imageId ?? '', /^sha256:[0-9a-f]{64}$/, `${lockPath} records its image ID`);
      const started = Date.now();
      const built = await reprokit(['env', 'build', `packages/core/envs/${name}/env.lock.json`, '--reuse'], { ...fresh, DOCKER_HOST: daemon.host });
      assert.equal(built.status, 0, built.stderr.slice(-3000));
      assert.equal(built.stdout, `reprokit/${name}@${lock.imageId}\n`);
      assert.doesNotMatch(built.stderr, /already in docker|pulled from/);
      // One .deb cache for the whole machine, as tools/setup fills it: what an earlier lock fetched is
      // not fetched again. Whatever was missing came from the suites' archives, nothing else.
      for (const line of built.stderr.split('\n').filter((l) => /downloading \d+ of \d+ packages/.test(l))) {
        assert.match(line, new RegExp(`^\\[env\\] downloading \\d+ of ${lock.packages.length} packages from their suites' archives \\(bookworm\\)$`));
      }
      assert.doesNotMatch(built.stderr, /with apt|snapshot URLs|from vault/);
      const inspect = await fetch(`${daemon.tcpHost!.replace('tcp://', 'http://')}/images/${lock.imageId}/json`);
      assert.equal(inspect.status, 200, `the test's daemon has ${lock.imageId}`);
      process.stderr.write(`# ${name}: built from nothing in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
    });
  }
});
