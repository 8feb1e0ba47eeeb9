import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createProgress, formatBytes, isInteractive } from './progress';

function sink(isTTY = false) {
  const out: string[] = [];
  return { out, stream: { isTTY, write: (text: string) => out.push(text) } };
}

describe('createProgress', () => {
  it('in CI writes plain lines: the start, each quarter once, the end', () => {
    const { out, stream } = sink();
    const progress = createProgress('unpacking', 100, { stream, interactive: false });
    for (let i = 1; i <= 100; i++) progress.update(i);
    progress.finish('unpacked 100 packages');
    assert.deepEqual(out, [
      'unpacking: 0 of 100 (0%)\n',
      'unpacking: 25 of 100 (25%)\n',
      'unpacking: 50 of 100 (50%)\n',
      'unpacking: 75 of 100 (75%)\n',
      'unpacked 100 packages\n',
    ]);
  });

  it('on a terminal redraws one line at most every 100 ms, and always the last step', () => {
    const { out, stream } = sink(true);
    let clock = 0;
    const progress = createProgress('layer', 3 * 1024 * 1024, { stream, interactive: true, unit: 'bytes', now: () => clock });
    progress.update(1024 * 1024);
    clock = 50;
    progress.update(2 * 1024 * 1024); // too soon: not drawn
    clock = 60;
    progress.update(3 * 1024 * 1024); // the end: drawn
    progress.finish();
    assert.deepEqual(out, [
      '\r\x1b[2Klayer: 1.0 MiB of 3.0 MiB (33%)',
      '\r\x1b[2Klayer: 3.0 MiB of 3.0 MiB (100%)',
      '\r\x1b[2Klayer: 3.0 MiB of 3.0 MiB (100%)\n',
    ]);
  });

  it('is interactive only on a terminal outside CI', () => {
    const saved = process.env.CI;
    try {
      process.env.CI = 'true';
      assert.equal(isInteractive({ isTTY: true }), false);
      delete process.env.CI;
      assert.equal(isInteractive({ isTTY: true }), true);
      assert.equal(isInteractive({ isTTY: false }), false);
    } finally {
      if (saved === undefined) delete process.env.CI;
      else process.env.CI = saved;
    }
  });

  it('formats sizes like ls -h does in binary units', () => {
    assert.deepEqual([formatBytes(0), formatBytes(1536), formatBytes(5 * 1024 * 1024), formatBytes(3 * 1024 ** 3)], ['0 B', '1.5 KiB', '5.0 MiB', '3.00 GiB']);
  });
});
