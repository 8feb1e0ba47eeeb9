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
  ['packages/core/schema/repro-manifest.schema.json', 'packages/core/src/manifest/manifest-types.ts'],
  ['packages/core/schema/build-env-spec.schema.json', 'packages/core/src/env/build-env-spec-types.ts'],
  ['packages/core/schema/build-env-lock.schema.json', 'packages/core/src/env/build-env-lock-types.ts'],
  ['packages/core/schema/dockerfile-lock.schema.json', 'packages/core/src/oci/apt/dockerfile-lock-types.ts'],
  ['packages/core/schema/arch-pkginfo.schema.json', 'packages/core/src/arch/pkginfo-types.ts'],
  ['packages/core/schema/arch-buildinfo.schema.json', 'packages/core/src/arch/buildinfo-types.ts'],
  ['packages/core/schema/reprokit-report.schema.json', 'packages/core/src/report/report-types.ts'],
  ['packages/nx/src/executors/elf/schema.json', 'packages/nx/src/executors/elf/schema.d.ts'],
  ['packages/nx/src/executors/arch/schema.json', 'packages/nx/src/executors/arch/schema.d.ts'],
  ['packages/nx/src/executors/checksum/schema.json', 'packages/nx/src/executors/checksum/schema.d.ts'],
  ['packages/nx/src/executors/pins/schema.json', 'packages/nx/src/executors/pins/schema.d.ts'],
  ['packages/nx/src/executors/oci/schema.json', 'packages/nx/src/executors/oci/schema.d.ts'],
  ['packages/nx/src/executors/npm/schema.json', 'packages/nx/src/executors/npm/schema.d.ts'],
  ['packages/nx/src/generators/init/schema.json', 'packages/nx/src/generators/init/schema.d.ts'],
  ['packages/nx/src/generators/configuration/schema.json', 'packages/nx/src/generators/configuration/schema.d.ts'],
  ['packages/nx/src/executors/reproduce/schema.json', 'packages/nx/src/executors/reproduce/schema.d.ts'],
  ['packages/nx/src/executors/vary/schema.json', 'packages/nx/src/executors/vary/schema.d.ts'],
];
const banner = (from) =>
  `// Generated from ${from} by tools/gen-schema-types.mjs. Do not edit: change the schema, then run \`npm run gen-types\`.`;

// The options must match schemaChecker's in packages/core/src/manifest/json-schema.ts.
const validators = ['repro-manifest', 'build-env-spec', 'build-env-lock', 'dockerfile-lock', 'reprokit-pins', 'arch-pkginfo', 'arch-buildinfo', 'reprokit-report'].map((name) => [
  `packages/core/schema/${name}.schema.json`,
  `packages/core/validators/${name}.js`,
]);
async function standaloneValidator(schema) {
  const ajv = new Ajv({ allErrors: false, discriminator: true, strict: true, code: { source: true } });
  const validate = ajv.compile(JSON.parse(await readFile(join(root, schema), 'utf8')));
  return `// Generated from ${schema} by tools/gen-schema-types.mjs (ajv standalone). Do not edit.\n` + standaloneCode(ajv, validate) + '\n';
}

// The OCI image-spec's own schemas (packages/core/schema/oci/, vendored verbatim from v1.1.1) are
// JSON Schema draft-04, which ajv 8 compiles only with the ajv-draft-04 package. They use nothing of
// draft-04 that draft-07 changed (no boolean exclusiveMinimum/Maximum), so they are converted here, in
// memory, and the vendored files stay byte-identical to upstream:
// - each file's `id` becomes `$id`; the two definition files without one get the URL upstream's Go
//   validator (schema/schema.go) registers them under, https://opencontainers.org/schema/image/<file>;
// - `$ref: "defs.json#/…"` and the like become absolute, to the file of that name: what upstream's
//   aliases (specURLs in schema.go) achieve for every base URI its nested `id`s set;
// - nested `id`s are dropped (with every $ref absolute they no longer change anything), and so is
//   defs.json's `media` (a hyper-schema annotation, not a validation keyword);
// - `format: date-time` and `format: uri`, which draft-04 asserts, are checked by the regexps below
//   (ajv knows no formats without ajv-formats, not a dependency): RFC 3339 date-time, and an absolute
//   URI as a scheme followed by characters RFC 3986 allows.
const OCI_DIR = 'packages/core/schema/oci';
const OCI_BASE = 'https://opencontainers.org/schema/image/';
const ociFormats = {
  'date-time': /^\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])[Tt](?:[01]\d|2[0-3]):[0-5]\d:(?:[0-5]\d|60)(?:\.\d+)?(?:[Zz]|[+-](?:[01]\d|2[0-3]):[0-5]\d)$/,
  uri: /^[A-Za-z][A-Za-z0-9+.-]*:[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=%]*$/,
};
async function ociDraft07Schemas() {
  const files = ['defs.json', 'defs-descriptor.json', 'content-descriptor.json', 'image-layout-schema.json', 'image-index-schema.json', 'image-manifest-schema.json', 'config-schema.json'];
  const raw = Object.fromEntries(await Promise.all(files.map(async (file) => [file, JSON.parse(await readFile(join(root, OCI_DIR, file), 'utf8'))])));
  const ids = Object.fromEntries(files.map((file) => [file, raw[file].id ?? OCI_BASE + file]));
  const convert = (node, top) => {
    if (Array.isArray(node)) return node.map((item) => convert(item, false));
    if (typeof node !== 'object' || node === null) return node;
    const out = {};
    for (const [key, value] of Object.entries(node)) {
      if (key === 'id' || key === 'media' || key === '$schema') continue;
      if (key === '$ref') {
        const [file, fragment] = value.split('#');
        if (file && !ids[file]) throw new Error(`${OCI_DIR}: $ref to unknown ${value}`);
        out.$ref = file ? `${ids[file]}#${fragment ?? ''}` : value;
      } else out[key] = key === 'properties' || key === 'patternProperties' || key === 'definitions' ? Object.fromEntries(Object.entries(value).map(([name, schema]) => [name, convert(schema, false)])) : convert(value, false);
    }
    return top ? { $schema: 'http://json-schema.org/draft-07/schema#', $id: ids[top], ...out } : out;
  };
  return Object.fromEntries(files.map((file) => [file, convert(raw[file], file)]));
}
const ociSchemaFiles = [
  ['oci-image-layout', 'image-layout-schema.json'],
  ['oci-image-index', 'image-index-schema.json'],
  ['oci-image-manifest', 'image-manifest-schema.json'],
  ['oci-image-config', 'config-schema.json'],
];
async function ociStandaloneValidators() {
  const schemas = await ociDraft07Schemas();
  const out = [];
  for (const [name, file] of ociSchemaFiles) {
    const ajv = new Ajv({ allErrors: false, strict: true, formats: ociFormats, code: { source: true } });
    for (const schema of Object.values(schemas)) ajv.addSchema(schema);
    const validate = ajv.getSchema(schemas[file].$id);
    const header = `// Generated from ${OCI_DIR}/${file} (OCI image-spec v1.1.1, draft-04, converted to draft-07) by tools/gen-schema-types.mjs (ajv standalone). Do not edit.\n`;
    out.push([`packages/core/validators/${name}.js`, header + standaloneCode(ajv, validate) + '\n']);
  }
  return out;
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
for (const [out, text] of await ociStandaloneValidators()) await update(out, text);

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
