import { recordManifest, writeBuildRecord } from '@reprokit/core';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

// The executor runs in a child process, as Nx runs it: its output is what is asserted, and the
// test runner's own stdout stays untouched.
function runExecutor(root: string, options: object): { status: number | null; out: string; err: string } {
  const script = `
    const context = { root: ${JSON.stringify(root)}, projectName: 'hello', targetName: 'reproduce',
      projectsConfigurations: { version: 2, projects: { hello: { root: 'apps/hello' } } } };
    require(${JSON.stringify(join(__dirname, 'executor.js'))}).default(${JSON.stringify(options)}, context)
      .then((result) => process.exit(result.success ? 0 : 1));`;
  const result = spawnSync(process.execPath, ['-e', script], { cwd: root, encoding: 'utf8' });
  return { status: result.status, out: result.stdout, err: result.stderr };
}

describe('reproduce executor', () => {
  const root = mkdtempSync(join(tmpdir(), 'reprokit-reproduce-'));
  const dist = join(root, 'apps/hello/dist');

  it('prints the paper trail and succeeds when the artifacts match, fails naming a changed one', async () => {
    mkdirSync(dist, { recursive: true });
    writeFileSync(join(dist, 'hello'), 'hello\n');
    writeBuildRecord(dist, { name: 'hello', kind: 'file', file: 'hello', environment: { type: 'host', toolchain: 't 1' }, sourceDateEpoch: 0 });
    await recordManifest({ manifestPath: join(root, 'apps/hello/repro-manifest.json'), project: 'hello', outputDir: 'dist', workspaceRoot: root });
    const good = runExecutor(root, {});
    assert.equal(good.status, 0, good.err);
    assert.match(good.out, /^REPRODUCED hello \(file\)$/m);
    assert.match(good.out, /^[0-9a-f]{128} {2}apps\/hello\/dist\/hello$/m);
    writeFileSync(join(dist, 'hello'), 'jello\n');
    const bad = runExecutor(root, {});
    assert.equal(bad.status, 1);
    assert.match(bad.out, /^MISMATCH hello \(file\)$/m);
    assert.match(bad.out, /hello: differs in blake2b512, sha256/);
  });

  it('attestationsFrom: the rebuilders\' verdicts from a registry (none there: not attested); with attestations too, one line', () => {
    writeFileSync(join(dist, 'hello'), 'hello\n');
    const { publicKey } = generateKeyPairSync('ed25519');
    writeFileSync(join(root, 'builder.pub'), publicKey.export({ type: 'spki', format: 'pem' }) as string);
    const registry = `127.0.0.1:5000/rk-executor-${process.pid}`;
    const none = runExecutor(root, { attestationsFrom: registry, trustedKeys: 'builder.pub', threshold: 1 });
    assert.equal(none.status, 1, none.err);
    assert.match(none.out, /^REPRODUCED hello \(file\)$/m);
    assert.match(none.out, /^NOT ATTESTED dist\/hello sha256:[0-9a-f]{64}: 0 of 1 trusted builders PASSED, threshold 1$/m);
    const both = runExecutor(root, { attestations: 'dir', attestationsFrom: registry, trustedKeys: 'builder.pub', threshold: 1 });
    assert.equal(both.status, 1);
    assert.match(both.err, /^\[hello:reproduce\] error: attestations and attestationsFrom: give one/m);
  });

  it('a missing manifest is one line naming the command that records it', () => {
    const missing = runExecutor(root, { manifest: 'nope.json' });
    assert.equal(missing.status, 1);
    assert.equal(missing.err, '[hello:reproduce] error: apps/hello/nope.json: manifest not found: record it with `npx nx run hello:checksum --update`\n');
  });
});
