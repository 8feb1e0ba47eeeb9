import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseManifest, readManifest, serializeManifest, type ReproManifest } from './manifest';
import { projectWithManifest, tempDir } from '../testing/fixtures';

function sample(): ReproManifest {
  return {
    manifestVersion: 1,
    project: 'p',
    outputDir: 'dist',
    recorded: {
      commit: 'a'.repeat(40),
      commitDate: '2026-01-01T00:00:00Z',
      recordedAt: '2026-01-02T00:00:00Z',
      reprokitVersion: '0.1.0',
      tools: { node: 'v20', cargo: '1' },
    },
    artifacts: [
      { name: 'b', kind: 'file', path: 'dist/b', size: 1, blake2b512: 'b'.repeat(128), sha256: 'b'.repeat(64), environment: { type: 'host', toolchain: 't' } },
      { name: 'a', kind: 'elf', path: 'dist/a', size: 2, blake2b512: 'a'.repeat(128), sha256: 'a'.repeat(64), environment: { type: 'host', toolchain: 't' } },
    ],
  };
}

describe('serializeManifest', () => {
  it('writes keys in a fixed order, artifacts and tools sorted, with a final newline', () => {
    const shuffled = JSON.parse(JSON.stringify(sample()), (_key, value) =>
      value && typeof value === 'object' && !Array.isArray(value) ? Object.fromEntries(Object.entries(value).reverse()) : value,
    );
    const text = serializeManifest(shuffled);
    assert.equal(text, serializeManifest(sample()));
    assert.ok(text.endsWith('}\n'));
    assert.deepEqual(Object.keys(JSON.parse(text)), ['manifestVersion', 'project', 'outputDir', 'recorded', 'artifacts']);
    assert.deepEqual(JSON.parse(text).artifacts.map((a: { name: string }) => a.name), ['a', 'b']);
    assert.deepEqual(Object.keys(JSON.parse(text).recorded.tools), ['cargo', 'node']);
    assert.deepEqual(Object.keys(JSON.parse(text).artifacts[0]), ['name', 'kind', 'path', 'size', 'blake2b512', 'sha256', 'environment']);
  });
});

describe('parseManifest', () => {
  const invalid = (mutate: (m: any) => void, message: string) => () => {
    const m: any = sample();
    mutate(m);
    assert.throws(() => parseManifest(m, 'x/repro-manifest.json'), { name: 'UserError', message: `x/repro-manifest.json: ${message}` });
  };
  it('accepts a valid manifest', () => assert.equal(parseManifest(sample(), 'm').project, 'p'));
  it('names the JSON path of a bad hash', invalid((m) => (m.artifacts[1].sha256 = 'xyz'), '$.artifacts[1].sha256: must match pattern "^[0-9a-f]{64}$"'));
  it('names a missing field', invalid((m) => delete m.recorded.commit, '$.recorded.commit: is required'));
  it('names an unknown field', invalid((m) => (m.artifacts[0].colour = 'red'), '$.artifacts[0].colour: is not allowed here'));
  it('names a bad kind', invalid((m) => (m.artifacts[0].kind = 'exe'), '$.artifacts[0].kind: must be one of "elf", "oci", "arch", "npm", "file"'));
  it('checks the environment by its type', invalid((m) => (m.artifacts[0].environment = { type: 'container', image: 'rust:latest' }), '$.artifacts[0].environment.image: must match pattern "^[^\\s@]+@sha256:[0-9a-f]{64}$"'));
  it('refuses duplicate artifact names', invalid((m) => (m.artifacts[1].name = 'b'), '$.artifacts[1].name: duplicate artifact name "b"'));
  it('refuses another manifest version', invalid((m) => (m.manifestVersion = 2), '$.manifestVersion: must be 1'));
});

describe('readManifest', () => {
  it('says how to create a missing manifest', async () => {
    const path = join(tempDir(), 'repro-manifest.json');
    await assert.rejects(readManifest(path, 'npx nx run p:checksum --update'), {
      message: `${path}: manifest not found: record it with \`npx nx run p:checksum --update\``,
    });
  });
  it('names line and column of malformed JSON', async () => {
    const { manifestPath } = await projectWithManifest();
    writeFileSync(manifestPath, readFileSync(manifestPath, 'utf8').replace('"project": "hello",', '"project": "hello"'));
    await assert.rejects(readManifest(manifestPath), { message: `${manifestPath}:4:3: invalid JSON: unexpected '"', expected ',' or '}'` });
  });
});
