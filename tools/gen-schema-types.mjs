#!/usr/bin/env node
// Types come from JSON Schemas once: each schema below is the source of truth and its TypeScript
// twin is generated from it. `--check` fails (exit 1) when a committed twin is stale.
import { compileFromFile } from 'json-schema-to-typescript';
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pairs = [
  ['packages/core/schema/repro-manifest.schema.json', 'packages/core/src/manifest-types.ts'],
  ['packages/core/schema/build-env-spec.schema.json', 'packages/core/src/build-env-spec-types.ts'],
  ['packages/core/schema/build-env-lock.schema.json', 'packages/core/src/build-env-lock-types.ts'],
  ['packages/nx/src/executors/elf/schema.json', 'packages/nx/src/executors/elf/schema.d.ts'],
  ['packages/nx/src/executors/checksum/schema.json', 'packages/nx/src/executors/checksum/schema.d.ts'],
  ['packages/nx/src/executors/pins/schema.json', 'packages/nx/src/executors/pins/schema.d.ts'],
  ['packages/nx/src/generators/init/schema.json', 'packages/nx/src/generators/init/schema.d.ts'],
  ['packages/nx/src/generators/configuration/schema.json', 'packages/nx/src/generators/configuration/schema.d.ts'],
  ['packages/nx/src/executors/reproduce/schema.json', 'packages/nx/src/executors/reproduce/schema.d.ts'],
];
const banner = (from) =>
  `// Generated from ${from} by tools/gen-schema-types.mjs. Do not edit: change the schema, then run \`npm run gen-types\`.`;

const check = process.argv.includes('--check');
let stale = 0;
for (const [schema, out] of pairs) {
  const ts = await compileFromFile(join(root, schema), {
    bannerComment: banner(schema),
    additionalProperties: false,
    // minItems would turn arrays into tuples; the schema still enforces it at run time.
    ignoreMinAndMaxItems: true,
    cwd: dirname(join(root, schema)),
    style: { singleQuote: true, printWidth: 120 },
  });
  const current = await readFile(join(root, out), 'utf8').catch(() => '');
  if (current === ts) continue;
  if (check) {
    console.error(`${out}: stale, regenerate with \`npm run gen-types\``);
    stale++;
  } else {
    await writeFile(join(root, out), ts);
    console.log(`wrote ${out}`);
  }
}
process.exit(stale ? 1 : 0);
