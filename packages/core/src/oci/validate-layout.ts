import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../errors';
import { hashFile } from '../hash';
import { parseJson } from '../json-file';
import { CONFIG_MEDIA_TYPE, INDEX_MEDIA_TYPE, MANIFEST_MEDIA_TYPE, type Descriptor } from './image-files';

const LAYER_MEDIA_TYPES = new Set([
  'application/vnd.oci.image.layer.v1.tar',
  'application/vnd.oci.image.layer.v1.tar+gzip',
  'application/vnd.oci.image.layer.v1.tar+zstd',
]);
const DIGEST = /^sha256:[0-9a-f]{64}$/;

/**
 * Checks an OCI image layout: `oci-layout`, `index.json`, and every descriptor reachable from it
 * (index → manifests → config and layers): the blob exists, has the descriptor's size and hashes to
 * its digest, and the JSON documents have the shape and media types the image spec requires.
 * Throws a one-line UserError naming the file and the JSON path.
 */
export async function validateOciLayout(dir: string): Promise<void> {
  const fail = (file: string, message: string): never => {
    throw new UserError(`${join(dir, file)}: ${message}`);
  };
  const readJson = (file: string): Record<string, unknown> => {
    if (!existsSync(join(dir, file))) fail(file, 'missing');
    const value = parseJson(readFileSync(join(dir, file), 'utf8'), join(dir, file));
    if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(file, 'must be a JSON object');
    return value as Record<string, unknown>;
  };
  if (readJson('oci-layout').imageLayoutVersion !== '1.0.0') fail('oci-layout', '/imageLayoutVersion: must be "1.0.0"');
  const index = readJson('index.json');
  checkDocument('index.json', index, INDEX_MEDIA_TYPE, 'manifests', fail);
  for (const [i, descriptor] of (index.manifests as Descriptor[]).entries()) {
    checkDescriptor('index.json', `/manifests/${i}`, descriptor, fail);
    if (descriptor.mediaType !== MANIFEST_MEDIA_TYPE) fail('index.json', `/manifests/${i}/mediaType: ${descriptor.mediaType} is not an image manifest`);
    const manifestFile = await checkBlob(dir, descriptor, 'index.json', `/manifests/${i}`, fail);
    const manifest = readJson(manifestFile);
    checkDocument(manifestFile, manifest, MANIFEST_MEDIA_TYPE, 'layers', fail);
    const config = manifest.config as Descriptor;
    checkDescriptor(manifestFile, '/config', config, fail);
    if (config.mediaType !== CONFIG_MEDIA_TYPE) fail(manifestFile, `/config/mediaType: must be ${CONFIG_MEDIA_TYPE}`);
    const configFile = await checkBlob(dir, config, manifestFile, '/config', fail);
    checkConfig(configFile, readJson(configFile), (manifest.layers as Descriptor[]).length, fail);
    for (const [j, layer] of (manifest.layers as Descriptor[]).entries()) {
      checkDescriptor(manifestFile, `/layers/${j}`, layer, fail);
      if (!LAYER_MEDIA_TYPES.has(layer.mediaType)) fail(manifestFile, `/layers/${j}/mediaType: ${layer.mediaType} is not an OCI layer type`);
      await checkBlob(dir, layer, manifestFile, `/layers/${j}`, fail);
    }
  }
}

type Fail = (file: string, message: string) => never;

function checkDocument(file: string, document: Record<string, unknown>, mediaType: string, list: string, fail: Fail): void {
  if (document.schemaVersion !== 2) fail(file, '/schemaVersion: must be 2');
  if (document.mediaType !== undefined && document.mediaType !== mediaType) fail(file, `/mediaType: must be ${mediaType}`);
  if (!Array.isArray(document[list])) fail(file, `/${list}: must be an array`);
}

function checkDescriptor(file: string, path: string, descriptor: Descriptor, fail: Fail): void {
  if (typeof descriptor !== 'object' || descriptor === null) fail(file, `${path}: must be a descriptor object`);
  if (typeof descriptor.mediaType !== 'string') fail(file, `${path}/mediaType: must be a string`);
  if (typeof descriptor.digest !== 'string' || !DIGEST.test(descriptor.digest)) fail(file, `${path}/digest: must be sha256:<64 hex>`);
  if (!Number.isSafeInteger(descriptor.size) || descriptor.size < 0) fail(file, `${path}/size: must be a non-negative integer`);
}

async function checkBlob(dir: string, descriptor: Descriptor, file: string, path: string, fail: Fail): Promise<string> {
  const blob = join('blobs', ...descriptor.digest.split(':'));
  if (!existsSync(join(dir, blob))) fail(file, `${path}: blob ${descriptor.digest} is missing`);
  const { size, digests } = await hashFile(join(dir, blob), ['sha256']);
  if (size !== descriptor.size) fail(file, `${path}/size: ${descriptor.size}, but the blob has ${size} bytes`);
  if (`sha256:${digests.sha256}` !== descriptor.digest) fail(blob, `hashes to sha256:${digests.sha256}, not its name`);
  return blob;
}

function checkConfig(file: string, config: Record<string, unknown>, layerCount: number, fail: Fail): void {
  for (const key of ['architecture', 'os']) if (typeof config[key] !== 'string') fail(file, `/${key}: must be a string`);
  const rootfs = config.rootfs as { type?: unknown; diff_ids?: unknown } | undefined;
  if (rootfs?.type !== 'layers') fail(file, '/rootfs/type: must be "layers"');
  if (!Array.isArray(rootfs!.diff_ids) || !rootfs!.diff_ids.every((id) => typeof id === 'string' && DIGEST.test(id))) fail(file, '/rootfs/diff_ids: must be digests');
  if ((rootfs!.diff_ids as string[]).length !== layerCount) fail(file, `/rootfs/diff_ids: ${(rootfs!.diff_ids as string[]).length} diffIDs for ${layerCount} layers`);
}
