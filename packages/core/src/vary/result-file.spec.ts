import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { readBuildRecords, writeBuildRecord } from '../build/build-record';
import { tempDir } from '../testing/fixtures';
import type { VaryResult } from './kinds/container-vary';
import { notVariedDocument, varyResultDocuments, writeVaryResultFiles } from './result-file';

const result: VaryResult = {
  build: 'p:elf',
  image: 'reprokit/c-builder@sha256:' + 'a'.repeat(64),
  imageId: 'sha256:' + 'a'.repeat(64),
  applied: [
    { name: 'clock', description: 'wall clock' },
    { name: 'build-path', description: 'path' },
    { name: 'umask', description: 'umask' },
  ],
  notApplied: [{ name: 'aslr', reason: 'seccomp' }],
  artifacts: [
    { name: 'same', reproducible: true, culprits: [] },
    {
      name: 'dated',
      reproducible: false,
      allAtOnce: 'first difference at byte 9',
      culprits: [
        { variation: 'clock', difference: 'first difference at byte 9 in .rodata' },
        { variation: 'build-path', difference: 'first difference at byte 12' },
      ],
    },
    { name: 'combined', reproducible: false, allAtOnce: 'entry a: mode 0644 -> 0664', culprits: [], note: 'no single variation changes it: only variations combined do' },
    { name: 'host.source', reproducible: true, culprits: [], notVaried: 'made on the host' },
  ],
};

describe('vary result files', () => {
  it('says per artifact what the report shows: the summary, the verdict, the culprits with what differs', () => {
    const [same, dated, combined, source] = varyResultDocuments(result);
    assert.deepEqual(same, {
      artifact: 'same',
      summary: 'REPRODUCIBLE UNDER 3 VARIATIONS',
      verdict: 'reproducible',
      variations: ['clock', 'build-path', 'umask'],
      culprits: [],
      image: 'sha256:' + 'a'.repeat(64),
      notVaried: [{ variation: 'aslr', why: 'seccomp' }],
    });
    assert.equal(dated.summary, 'NOT REPRODUCIBLE UNDER: clock, build-path');
    assert.equal(dated.verdict, 'not reproducible');
    assert.deepEqual(dated.culprits, [
      { variation: 'clock', difference: 'first difference at byte 9 in .rodata' },
      { variation: 'build-path', difference: 'first difference at byte 12' },
    ]);
    assert.equal(combined.summary, 'NOT REPRODUCIBLE UNDER: all variations at once (no single one alone)');
    assert.equal(combined.note, 'no single variation changes it: only variations combined do');
    assert.deepEqual([source.summary, source.verdict, source.variations], ['not varied: made on the host', 'not varied', []]);
    assert.deepEqual(notVariedDocument('x', 'why'), { summary: 'not varied: why', verdict: 'not varied', artifact: 'x', variations: [], culprits: [], image: '' });
  });

  it('writes <outputDir>/.reprokit/<artifact>.vary.json atomically, which build records are not read from', async () => {
    const out = tempDir('reprokit-vary-result-');
    writeBuildRecord(out, { name: 'same', kind: 'elf', file: 'same', environment: { type: 'host', toolchain: 't' }, sourceDateEpoch: 1 });
    const files = writeVaryResultFiles(out, varyResultDocuments(result));
    assert.deepEqual(files.map((file) => file.slice(out.length)), ['/.reprokit/same.vary.json', '/.reprokit/dated.vary.json', '/.reprokit/combined.vary.json', '/.reprokit/host.source.vary.json']);
    assert.equal(JSON.parse(readFileSync(files[1], 'utf8')).summary, 'NOT REPRODUCIBLE UNDER: clock, build-path');
    // No temporary file is left behind.
    assert.deepEqual(readdirSync(join(out, '.reprokit')).sort(), ['combined.vary.json', 'dated.vary.json', 'host.source.vary.json', 'same.json', 'same.vary.json']);
    assert.deepEqual((await readBuildRecords(out)).map((record) => record.name), ['same']);
  });

  it('refuses an artifact name that is not a plain file name', () => {
    const out = tempDir('reprokit-vary-result-');
    assert.throws(() => writeVaryResultFiles(out, [notVariedDocument('../x', 'why')]), /artifact name "\.\.\/x" is not a plain file name/);
  });
});
