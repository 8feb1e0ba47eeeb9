import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { renderVerifyTable, verifyManifest } from './verify';
import { projectWithManifest } from '../testing/fixtures';

describe('verifyManifest', () => {
  it('reports a match for an untouched artifact', async () => {
    const { manifestPath } = await projectWithManifest();
    const result = await verifyManifest(manifestPath);
    assert.equal(result.ok, true);
    assert.deepEqual(result.checks.map((c) => [c.name, c.status]), [['hello', 'match']]);
    assert.match(renderVerifyTable(result), /^hello\s+file\s+MATCH\s+dist\/hello/m);
  });

  it('reports a mismatch when one character of a recorded hash changes', async () => {
    const { manifestPath } = await projectWithManifest();
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
    const original: string = manifest.artifacts[0].blake2b512;
    manifest.artifacts[0].blake2b512 = (original[0] === '0' ? '1' : '0') + original.slice(1);
    writeFileSync(manifestPath, JSON.stringify(manifest));
    const result = await verifyManifest(manifestPath);
    assert.equal(result.ok, false);
    assert.equal(result.checks[0].status, 'mismatch');
    assert.deepEqual(result.checks[0].differs, ['blake2b512']);
    const table = renderVerifyTable(result);
    assert.match(table, /hello: differs in blake2b512/);
    assert.ok(table.includes(`expected blake2b512 ${manifest.artifacts[0].blake2b512}`));
    assert.ok(table.includes(`actual   blake2b512 ${original}`));
  });

  it('reports a changed artifact as a mismatch in every hash and its size', async () => {
    const { manifestPath, artifact } = await projectWithManifest();
    writeFileSync(artifact, 'hello reprokit?\n!');
    const [check] = (await verifyManifest(manifestPath)).checks;
    assert.deepEqual(check.differs, ['size', 'blake2b512', 'sha256']);
  });

  it('reports a missing artifact as missing, not a crash', async () => {
    const { manifestPath, artifact } = await projectWithManifest();
    rmSync(artifact);
    const result = await verifyManifest(manifestPath);
    assert.equal(result.ok, false);
    assert.equal(result.checks[0].status, 'missing');
    assert.match(renderVerifyTable(result), /hello: missing dist\/hello/);
  });

  it('reports a file in the output directory that the manifest does not list', async () => {
    const { manifestPath, dir } = await projectWithManifest();
    writeFileSync(join(dir, 'dist', 'backdoor'), 'surprise');
    const result = await verifyManifest(manifestPath);
    assert.equal(result.ok, false);
    assert.deepEqual(result.checks.map((c) => [c.name, c.status]), [['hello', 'match'], ['dist/backdoor', 'unexpected']]);
  });
});
