// Verification orchestrates the kinds (oci/, arch/, explain/, …) and so sits above them; manifest/ is
// what they all read and sits below. Imports only point down: this reads the sources and fails on an
// import that points up across those lines (specs, which test the pieces together, are left out).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';

const src = join(__dirname, '..', '..', 'src');

/** Every import of a source file: [importing file, imported file], both relative to src/, without .ts. */
function imports(): [string, string][] {
  const files = readdirSync(src, { recursive: true })
    .map(String)
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.spec.ts') && !f.endsWith('.d.ts'));
  return files.flatMap((file) =>
    [...readFileSync(join(src, file), 'utf8').matchAll(/(?:\bfrom\s+|\brequire\(|\bimport\(|^import\s+)\s*'(\.{1,2}\/[^']*)'/gm)].map(
      (m): [string, string] => [file.replace(/\.ts$/, ''), relative(src, resolve(dirname(join(src, file)), m[1]))],
    ),
  );
}

const folder = (path: string) => (path.includes('/') ? path.split('/')[0] : '(root)');

describe('import direction around verification/', () => {
  const all = imports();

  it('finds the imports it checks', () => {
    assert.ok(all.length > 300, `only ${all.length} imports found`);
    assert.ok(all.some(([from, to]) => from === 'verification/verify' && to === 'oci/layout/verify-image'));
  });

  it('only the CLI, the public index, report/ and attest/ (rebuild) import verification/', () => {
    const allowed = new Set(['cli', 'index']);
    const up = all.filter(([from, to]) => folder(to) === 'verification' && folder(from) !== 'verification' && !allowed.has(from) && !['report', 'attest'].includes(folder(from)));
    assert.deepEqual(up, []);
  });

  it('manifest/ imports only the root helpers, fs/ and the build record it records', () => {
    const up = all.filter(([from, to]) => folder(from) === 'manifest' && !['manifest', '(root)', 'fs'].includes(folder(to)) && to !== 'build/build-record');
    assert.deepEqual(up, []);
  });

  it('explain/ does not import verification/ nor the builds', () => {
    const up = all.filter(([from, to]) => folder(from) === 'explain' && ['verification', 'oci', 'arch', 'vary', 'report', 'attest', 'build'].includes(folder(to)));
    assert.deepEqual(up, []);
  });
});
