import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { escapeControls, formatUserError, showBytes } from './safe-output';

describe('terminal-safe output', () => {
  it('escapes ESC, CR, other C0 and C1 controls; keeps newlines and tabs unless one line is asked for', () => {
    assert.equal(escapeControls('a\x1b[31mred\rb\x07\x9b2J\u2028'), 'a\\x1b[31mred\\rb\\x07\\u009b2J\\u2028');
    assert.equal(escapeControls('one\ntwo\tx'), 'one\ntwo\tx');
    assert.equal(escapeControls('one\ntwo\tx', true), 'one\\ntwo\\tx');
    assert.equal(escapeControls('plain é ✓'), 'plain é ✓');
  });

  it('shows invalid UTF-8 byte for byte, valid multi-byte characters as they are', () => {
    assert.equal(showBytes(Buffer.from([0x61, 0xff, 0xc3, 0xa9, 0xe2, 0x82, 0x1b, 0x0a])), 'a\\xffé\\xe2\\x82\\x1b\\n');
    assert.equal(showBytes(Buffer.from('ok ✓')), 'ok ✓');
  });

  it('the CLI writes no raw control character from an input: an error naming a file with ESC and a newline is one escaped line', () => {
    const name = 'm\x1b]0;pwned\x07\nreprokit: forged.json';
    const result = spawnSync(process.execPath, [join(__dirname, '..', '..', 'bin', 'reprokit.js'), 'verify', name], { encoding: 'utf8' });
    assert.equal(result.status, 2);
    assert.doesNotMatch(result.stderr + result.stdout, /[\x00-\x08\x0b-\x1f\x7f]/);
    const lines = result.stderr.split('\n').filter(Boolean);
    assert.equal(lines.length, 1, result.stderr);
    assert.match(lines[0], /^reprokit: m\\x1b\]0;pwned\\x07\\nreprokit: forged\.json: /);
  });

  it('an error is one line; a build log tail (LAST_LINES) follows indented, each line escaped', () => {
    assert.equal(formatUserError('reprokit: ', 'bad\nname\x1b'), 'reprokit: bad\\nname\\x1b\n');
    assert.equal(formatUserError('[p:t] error: ', '`make` failed with exit 2; last lines:\n  cc: error\x1b[31m\n  make: *** [all]'), '[p:t] error: `make` failed with exit 2; last lines:\n  cc: error\\x1b[31m\n  make: *** [all]\n');
  });

  it('under --json an error is JSON on stdout', () => {
    const result = spawnSync(process.execPath, [join(__dirname, '..', '..', 'bin', 'reprokit.js'), 'verify', 'absent.json', '--json'], { encoding: 'utf8' });
    assert.equal(result.status, 2);
    const parsed = JSON.parse(result.stdout);
    assert.equal(parsed.exitCode, 2);
    assert.match(parsed.error, /^absent\.json: /);
  });
});
