import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';

const repoRoot = join(__dirname, '..', '..');

// The benchmarks' numbers belong in the README, measured on a quiet machine, never asserted here
// (a timed test on a shared machine is a flaky test). What the suite checks is that a benchmark
// still runs against the current code and reports its ratio, so that it cannot rot unnoticed.
describe('benchmarks run', () => {
  it('tools/bench/verify verifies its generated manifest and reports the ratio to b2sum + sha256sum', () => {
    const result = spawnSync('bash', [join(repoRoot, 'tools/bench/verify'), '--files', '300', '--runs', '1', '--no-fail'], { encoding: 'utf8', timeout: 120_000 });
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /^artifacts: 300 of 1 byte, 1 runs each$/m);
    assert.match(result.stdout, /^reprokit verify {4}median \d+\.\d{3} s wall, \d+\.\d{3} s CPU$/m);
    assert.match(result.stdout, /^result: \d+\.\d\dx b2sum \+ sha256sum in wall time \(target <= 2x\), \d+\.\d\dx in CPU time$/m);
  });
});
