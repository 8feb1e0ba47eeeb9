import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { jsonPointerToPath, parseJson, writeFileAtomic } from './json-file';
import { tempDir } from './testing/fixtures';

describe('parseJson', () => {
  it('names file, line and column of a syntax error', () => {
    assert.throws(() => parseJson('{\n  "a": 1,\n}\n', 'm.json'), {
      name: 'UserError',
      message: 'm.json:3:1: invalid JSON: Expected double-quoted property name',
    });
  });
  it('reports a truncated file at its end', () => {
    assert.throws(() => parseJson('{\n  "a": ', 'm.json'), { message: 'm.json:2:8: invalid JSON: Unexpected end' });
  });
});

describe('jsonPointerToPath', () => {
  it('turns ajv instance paths into JSON paths', () => {
    assert.equal(jsonPointerToPath(''), '$');
    assert.equal(jsonPointerToPath('/artifacts/0/sha256'), '$.artifacts[0].sha256');
    assert.equal(jsonPointerToPath('/tools/a~1b'), '$.tools["a/b"]');
  });
});

describe('writeFileAtomic', () => {
  it('replaces the file and leaves no temporary file', () => {
    const dir = tempDir();
    const path = join(dir, 'm.json');
    writeFileSync(path, 'old\n');
    writeFileAtomic(path, 'new\n');
    assert.equal(readFileSync(path, 'utf8'), 'new\n');
    assert.deepEqual(readdirSync(dir), ['m.json']);
  });

  it('leaves the old or the new file, never a partial one, when killed with SIGKILL', async () => {
    const dir = tempDir();
    const path = join(dir, 'm.json');
    // Two large, different contents, so a partial write would be visible.
    const a = JSON.stringify({ v: 'a'.repeat(4 << 20) });
    const b = JSON.stringify({ v: 'b'.repeat(4 << 20) });
    writeFileSync(path, a);
    const writer = `const { writeFileAtomic } = require(${JSON.stringify(join(__dirname, 'json-file.js'))});
      const big = (c) => JSON.stringify({ v: c.repeat(${4 << 20}) });
      process.stdout.write('ready\\n');
      for (let i = 0; ; i++) writeFileAtomic(${JSON.stringify(path)}, big(i % 2 ? 'a' : 'b'));`;
    for (let round = 0; round < 8; round++) {
      const child = spawn(process.execPath, ['-e', writer], { stdio: ['ignore', 'pipe', 'inherit'] });
      await new Promise((ready) => child.stdout.once('data', ready));
      await new Promise((wait) => setTimeout(wait, 20 + round * 17));
      child.kill('SIGKILL');
      await new Promise((exit) => child.once('exit', exit));
      const content = readFileSync(path, 'utf8');
      assert.ok(content === a || content === b, `round ${round}: partial file of ${content.length} bytes`);
    }
  });
});
