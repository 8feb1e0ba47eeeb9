import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { it } from 'node:test';

it('the TypeScript types are generated from the current JSON schemas', () => {
  const script = join(__dirname, '..', '..', '..', 'tools', 'gen-schema-types.mjs');
  const result = spawnSync(process.execPath, [script, '--check'], { encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
});
