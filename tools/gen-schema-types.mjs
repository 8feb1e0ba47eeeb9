#!/usr/bin/env node
// Types come from JSON Schemas once: each schema below is the source of truth and its TypeScript
// twin is generated from it, and so is a precompiled ajv validator for each of @reprokit/core's
// schemas (loading one takes ~3 ms; compiling the schema with ajv at run time ~70 ms, paid by every
// executor process). `--check` fails (exit 1) when a committed file is stale.
import Ajv from 'ajv';
import standaloneCode from 'ajv/dist/standalone/index.js';
import { compileFromFile } from 'json-schema-to-typescript';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pairs = [
  ['packages/core/schema/repro-manifest.schema.json', 'packages/core/src/manifest-types.ts'],
  ['packages/core/schema/build-env-spec.schema.json', 'packages/core/src/build-env-spec-types.ts'],
  ['packages/core/schema/build-env-lock.schema.json', 'packages/core/src/build-env-lock-types.ts'],
  ['packages/core/schema/arch-pkginfo.schema.json', 'packages/core/src/arch/pkginfo-types.ts'],
  ['packages/core/schema/arch-buildinfo.schema.json', 'packages/core/src/arch/buildinfo-types.ts'],
  ['packages/nx/src/executors/elf/schema.json', 'packages/nx/src/executors/elf/schema.d.ts'],
  ['packages/nx/src/executors/arch/schema.json', 'packages/nx/src/executors/arch/schema.d.ts'],
  ['packages/nx/src/executors/checksum/schema.json', 'packages/nx/src/executors/checksum/schema.d.ts'],
  ['packages/nx/src/executors/pins/schema.json', 'packages/nx/src/executors/pins/schema.d.ts'],
  ['packages/nx/src/executors/oci/schema.json', 'packages/nx/src/executors/oci/schema.d.ts'],
  ['packages/nx/src/generators/init/schema.json', 'packages/nx/src/generators/init/schema.d.ts'],
  ['packages/nx/src/generators/configuration/schema.json', 'packages/nx/src/generators/configuration/schema.d.ts'],
  ['packages/nx/src/executors/reproduce/schema.json', 'packages/nx/src/executors/reproduce/schema.d.ts'],
];
const banner = (from) =>
  `// Generated from ${from} by tools/gen-schema-types.mjs. Do not edit: change the schema, then run \`npm run gen-types\`.`;

// The options must match schemaChecker's in packages/core/src/json-schema.ts.
const validators = ['repro-manifest', 'build-env-spec', 'build-env-lock', 'reprokit-pins', 'arch-pkginfo', 'arch-buildinfo'].map((name) => [
  `packages/core/schema/${name}.schema.json`,
  `packages/core/validators/${name}.js`,
]);
async function standaloneValidator(schema) {
  const ajv = new Ajv({ allErrors: false, discriminator: true, strict: true, code: { source: true } });
  const validate = ajv.compile(JSON.parse(await readFile(join(root, schema), 'utf8')));
  return `// Generated from ${schema} by tools/gen-schema-types.mjs (ajv standalone). Do not edit.\n` + standaloneCode(ajv, validate) + '\n';
}

const check = process.argv.includes('--check');
let stale = 0;
async function update(out, text) {
  const current = await readFile(join(root, out), 'utf8').catch(() => '');
  if (current === text) return;
  if (check) {
    console.error(`${out}: stale, regenerate with \`npm run gen-types\``);
    stale++;
  } else {
    await mkdir(dirname(join(root, out)), { recursive: true });
    await writeFile(join(root, out), text);
    console.log(`wrote ${out}`);
  }
}
for (const [schema, out] of validators) await update(out, await standaloneValidator(schema));
for (const [schema, out] of pairs) {
  const ts = await compileFromFile(join(root, schema), {
    bannerComment: banner(schema),
    additionalProperties: false,
    // minItems would turn arrays into tuples; the schema still enforces it at run time.
    ignoreMinAndMaxItems: true,
    cwd: dirname(join(root, schema)),
    style: { singleQuote: true, printWidth: 120 },
  });
  await update(out, ts);
}
process.exit(stale ? 1 : 0);
