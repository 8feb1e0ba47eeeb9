#!/usr/bin/env node
// Runs every compiled test file with node's test runner (Node 20 takes no globs), unit tests first.
// Usage: node tools/run-tests.mjs [unit|e2e]   (default: both)
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..');
const specs = (dir) =>
  readdirSync(join(root, dir), { recursive: true, withFileTypes: false })
    .filter((file) => String(file).endsWith('.spec.js'))
    .map((file) => join(dir, String(file)))
    .sort();
const which = process.argv[2];
const files = [
  ...(which === 'e2e' ? [] : [...specs('packages/core/dist'), ...specs('packages/nx/dist')]),
  ...(which === 'unit' ? [] : specs('e2e/dist')),
];
const result = spawnSync(process.execPath, ['--test', '--test-reporter=spec', '--test-concurrency=1', ...files], { cwd: root, stdio: 'inherit' });
process.exit(result.status ?? 1);
