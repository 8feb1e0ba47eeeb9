import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { jsonPointerToPath, parseJson, writeFileAtomic } from './json-file';
import { findJsonSyntaxError } from './json-syntax-error';
import { tempDir } from '../testing/fixtures';

describe('parseJson', () => {
  it('names file, line and column of a syntax error', () => {
    assert.throws(() => parseJson('{\n  "a": 1,\n}\n', 'm.json'), {
      name: 'UserError',
      message: "m.json:3:1: invalid JSON: unexpected '}', expected a property name in double quotes",
    });
  });
  it('reports a truncated file at its end', () => {
    assert.throws(() => parseJson('{\n  "a": ', 'm.json'), { message: 'm.json:2:8: invalid JSON: unexpected end of input, expected a value' });
  });
  it('finds the position V8 does not give (an unexpected token), on one line', () => {
    // V8 says "Unexpected token '}', "{ ... }" is not valid JSON", quoting the document over several lines.
    assert.throws(() => parseJson('{\n  "a": 1,\n  "b": }\n', 'm.json'), { message: "m.json:3:8: invalid JSON: unexpected '}', expected a value" });
    assert.throws(() => parseJson('[1,\n 2,]', 'm.json'), { message: "m.json:2:4: invalid JSON: unexpected ']', expected a value" });
    assert.throws(() => parseJson('{"a": "x\ny"}', 'm.json'), { message: 'm.json:1:9: invalid JSON: control character U+000A in a string (escape it)' });
    assert.throws(() => parseJson('{"a": 1} x', 'm.json'), { message: "m.json:1:10: invalid JSON: unexpected 'x', expected the end of the document" });
    assert.throws(() => parseJson('{"a": "\\q"}', 'm.json'), { message: 'm.json:1:8: invalid JSON: bad escape \\q in a string' });
    assert.throws(() => parseJson('{"a": tru}', 'm.json'), { message: "m.json:1:7: invalid JSON: unexpected 't', expected a value" });
    assert.throws(() => parseJson('', 'm.json'), { message: 'm.json:1:1: invalid JSON: unexpected end of input, expected a value' });
  });
  it('accepts a byte order mark, and counts columns after it', () => {
    assert.deepEqual(parseJson('\uFEFF{"a": 1}', 'm.json'), { a: 1 });
    assert.throws(() => parseJson('\uFEFF{"a" 1}', 'm.json'), { message: "m.json:1:6: invalid JSON: unexpected '1', expected ':' after the property name" });
  });
  it('reports a document nested a million deep without overflowing the stack', () => {
    assert.throws(() => parseJson('['.repeat(1_000_000), 'm.json'), { message: 'm.json:1:1000001: invalid JSON: unexpected end of input, expected a value' });
  });
  it('agrees with JSON.parse on which documents are valid', () => {
    const samples = ['0', '-0.5e+3', '"\\u00e9"', '[]', '{}', '[1, [2, {"a": null}], true, false]', '01', '1.', '.5', '+1', '"\\u12"', '[1 2]', '{"a":1,}', 'nul', '"\t"'];
    for (const text of samples) {
      let valid = true;
      try {
        JSON.parse(text);
      } catch {
        valid = false;
      }
      assert.equal(findJsonSyntaxError(text) === undefined, valid, text);
    }
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
