import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { VARIATION_NAMES } from '@reprokit/core';

describe('vary executor schema', () => {
  it('offers exactly the variations core knows', () => {
    const schema = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'src', 'executors', 'vary', 'schema.json'), 'utf8'));
    assert.deepEqual(schema.properties.variations.items.enum, [...VARIATION_NAMES]);
  });
});
