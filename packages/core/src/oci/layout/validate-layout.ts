import type { ValidateFunction } from 'ajv';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../../errors';
import { hashFile } from '../../hash';
import { resolveInside } from '../../fs/contained-path';
import { readRegularFile } from '../../fs/regular-file';
import { MAX_JSON_BYTES, parseJson } from '../../manifest/json-file';
import { describeSchemaError } from '../../manifest/json-schema';
import { CONFIG_MEDIA_TYPE, MANIFEST_MEDIA_TYPE, type Descriptor } from './image-files';

type Document = 'layout' | 'index' | 'manifest' | 'config';

/** The OCI image-spec's own schemas (schema/oci/), precompiled by ajv (tools/gen-schema-types.mjs). */
function validatorOf(document: Document): ValidateFunction {
  return require(`../../../validators/oci-image-${document}.js`) as ValidateFunction;
}

const LAYER_MEDIA_TYPES = new Set([
  'application/vnd.oci.image.layer.v1.tar',
  'application/vnd.oci.image.layer.v1.tar+gzip',
  'application/vnd.oci.image.layer.v1.tar+zstd',
]);

/**
 * Checks an OCI image layout: `oci-layout`, `index.json`, and every descriptor reachable from it
 * (index → manifests → config and layers): the blob exists, has the descriptor's size and hashes to
 * its digest, and the index, manifests and configs validate against the image-spec schemas (ajv).
 * Throws a one-line UserError naming the file and the JSON path.
 */
export async function validateOciLayout(dir: string): Promise<void> {
  const fail = (file: string, message: string): never => {
    throw new UserError(`${join(dir, file)}: ${message}`);
  };
  const reachable = new Set(['oci-layout', 'index.json', 'blobs', 'blobs/sha256']);
  const readJson = (file: string): Record<string, unknown> => {
    const path = resolveInside(dir, file, `${dir}: ${file}`);
    if (!existsSync(path)) fail(file, 'missing');
    const value = parseJson(readRegularFile(path, MAX_JSON_BYTES, { noFollow: true }).toString('utf8'), path);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(file, 'must be a JSON object');
    return value as Record<string, unknown>;
  };
  checkDocument('oci-layout', readJson('oci-layout'), 'layout', fail);
  const index = readJson('index.json');
  checkDocument('index.json', index, 'index', fail);
  for (const [i, descriptor] of (index.manifests as Descriptor[]).entries()) {
    if (descriptor.mediaType !== MANIFEST_MEDIA_TYPE) fail('index.json', `/manifests/${i}/mediaType: ${descriptor.mediaType} is not an image manifest`);
    const manifestFile = await checkBlob(dir, descriptor, 'index.json', `/manifests/${i}`, fail);
    reachable.add(manifestFile);
    const manifest = readJson(manifestFile);
    checkDocument(manifestFile, manifest, 'manifest', fail);
    const config = manifest.config as Descriptor;
    if (config.mediaType !== CONFIG_MEDIA_TYPE) fail(manifestFile, `/config/mediaType: must be ${CONFIG_MEDIA_TYPE}`);
    const configFile = await checkBlob(dir, config, manifestFile, '/config', fail);
    reachable.add(configFile);
    const configDocument = readJson(configFile);
    checkDocument(configFile, configDocument, 'config', fail);
    // The one rule upstream's validator (schema/validator.go) adds to the config schema.
    const env = (configDocument.config as { Env?: string[] } | undefined)?.Env ?? [];
    for (const [k, variable] of env.entries()) if (!/^[^=]+=/.test(variable)) fail(configFile, `/config/Env/${k}: ${JSON.stringify(variable)} is not NAME=value`);
    const diffIds = (configDocument.rootfs as { diff_ids: string[] }).diff_ids;
    const layerCount = (manifest.layers as Descriptor[]).length;
    if (diffIds.length !== layerCount) fail(configFile, `/rootfs/diff_ids: ${diffIds.length} diffIDs for ${layerCount} layers`);
    for (const [j, layer] of (manifest.layers as Descriptor[]).entries()) {
      if (!LAYER_MEDIA_TYPES.has(layer.mediaType)) fail(manifestFile, `/layers/${j}/mediaType: ${layer.mediaType} is not an OCI layer type`);
      reachable.add(await checkBlob(dir, layer, manifestFile, `/layers/${j}`, fail));
    }
  }
  // A layout holds what its index reaches and nothing else: an extra blob or file is not vouched for.
  for (const extra of layoutEntries(dir, '')) if (!reachable.has(extra)) fail(extra, 'unexpected: not reachable from index.json');
}

/** Every entry below `dir`, relative, symlinks not followed. */
function layoutEntries(dir: string, prefix: string): string[] {
  return readdirSync(join(dir, prefix), { withFileTypes: true }).flatMap((entry) => {
    const path = prefix ? `${prefix}/${entry.name}` : entry.name;
    return entry.isDirectory() ? [path, ...layoutEntries(dir, path)] : [path];
  });
}

type Fail = (file: string, message: string) => never;

function checkDocument(file: string, document: Record<string, unknown>, type: Document, fail: Fail): void {
  const validate = validatorOf(type);
  if (!validate(document)) fail(file, `${type}: ${describeSchemaError(validate.errors![0])}`);
}

async function checkBlob(dir: string, descriptor: Descriptor, file: string, path: string, fail: Fail): Promise<string> {
  // The schema allows any registered algorithm; the spec requires sha256 (hex, 64 lowercase digits), the one reprokit writes.
  if (!/^sha256:[0-9a-f]{64}$/.test(descriptor.digest)) fail(file, `${path}/digest: ${descriptor.digest} is not a sha256 digest (sha256:<64 lowercase hex digits>)`);
  const blob = `blobs/${descriptor.digest.replace(':', '/')}`;
  // blobs/ or blobs/sha256 could be symlinks out of the layout, the blob itself a symlink or a FIFO.
  const blobPath = resolveInside(dir, blob, `${dir}: ${file}: ${path}`);
  if (!existsSync(blobPath)) fail(file, `${path}: blob ${descriptor.digest} is missing`);
  const { size, digests } = await hashFile(blobPath, ['sha256'], { noFollow: true });
  if (size !== descriptor.size) fail(file, `${path}/size: ${descriptor.size}, but the blob has ${size} bytes`);
  if (`sha256:${digests.sha256}` !== descriptor.digest) fail(blob, `hashes to sha256:${digests.sha256}, not its name`);
  return blob;
}
