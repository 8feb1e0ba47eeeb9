import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { countingStream, createProgress, formatBytes, isInteractive, logProgress } from './progress';

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

  it('counts the bytes of a stream into plain log lines, also when the total is not known', async () => {
    const lines: string[] = [];
    const known = logProgress('loading x.tar', 4096, (line) => lines.push(line));
    await pipeline(Readable.from([Buffer.alloc(1024), Buffer.alloc(1024), Buffer.alloc(2048)]), countingStream(known), async function* (source) {
      for await (const _ of source) yield;
    });
    known.finish();
    assert.deepEqual(lines, ['loading x.tar: 0 B of 4.0 KiB (0%)', 'loading x.tar: 1.0 KiB of 4.0 KiB (25%)', 'loading x.tar: 2.0 KiB of 4.0 KiB (50%)', 'loading x.tar: 4.0 KiB of 4.0 KiB (100%)']);
    lines.length = 0;
    const unknown = logProgress('exporting', undefined, (line) => lines.push(line));
    unknown.update(10);
    unknown.update(3000);
    unknown.finish();
    assert.deepEqual(lines, ['exporting: 0 B', 'exporting: 2.9 KiB']);
  });
});
