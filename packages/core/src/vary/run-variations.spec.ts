import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isUserError } from '../errors';
import { runVariations, type BuildOutcome, type VariedBuild } from './run-variations';
import type { ImageFacts } from './variations';

// The driver with a fake build (no docker): what it says when the build fails before anything is varied.
const build = (control: BuildOutcome): VariedBuild => ({
  label: 'demo:elf',
  image: 'reprokit/c-builder@sha256:' + '0'.repeat(64),
  imageId: 'sha256:' + '0'.repeat(64),
  facts: {} as ImageFacts,
  applied: [],
  notApplied: [],
  run: async (label) => (label === 'control' ? control : { files: new Map() }),
  workDir: '/nonexistent',
});

describe('runVariations: a control build that fails', () => {
  it('says no variation is to blame and what to do next', async () => {
    await assert.rejects(runVariations(build({ failed: '`make` failed with exit 2' })), (error: Error) => {
      assert.ok(isUserError(error));
      assert.equal(error.message, 'demo:elf: the control build (no variation applied) failed: `make` failed with exit 2: make the build pass on its own first (run its build target), then vary it');
      return true;
    });
  });

  it('names the artifact options when it left nothing', async () => {
    await assert.rejects(runVariations(build({ files: new Map() })), /demo:elf: the control build \(no variation applied\) left no artifact: check the artifact paths the target names/);
  });
});
