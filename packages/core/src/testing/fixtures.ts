// Helpers for reprokit's own tests (not shipped: excluded from the package's files).
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeBuildRecord } from '../build/build-record';
import { recordManifest } from '../manifest/record';

export function tempDir(prefix = 'reprokit-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/**
 * A project directory with one built artifact (`dist/hello`, with its build record) and a manifest
 * recorded from it by the real recordManifest.
 */
export async function projectWithManifest(content = 'hello reprokit\n'): Promise<{ dir: string; manifestPath: string; artifact: string }> {
  const dir = tempDir();
  mkdirSync(join(dir, 'dist'));
  const artifact = join(dir, 'dist', 'hello');
  writeFileSync(artifact, content);
  writeBuildRecord(join(dir, 'dist'), {
    name: 'hello',
    kind: 'file',
    file: 'hello',
    environment: { type: 'host', toolchain: 'fake 1.0.0' },
    sourceDateEpoch: 0,
  });
  const manifestPath = join(dir, 'repro-manifest.json');
  await recordManifest({ manifestPath, project: 'hello', outputDir: 'dist', workspaceRoot: dir });
  return { dir, manifestPath, artifact };
}
