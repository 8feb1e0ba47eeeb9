import type Docker from 'dockerode';
import { countingStream, logProgress } from '../progress';
import { createWriteStream, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { UserError } from '../errors';
import { hashFile } from '../hash';
import { parseJson } from '../manifest/json-file';
import { sha256Digest } from '../env/oci-config';
import type { ImageConfig, LayerFile } from './layout/image-files';
import { FsView } from './stage-files';
import { extractTar } from './tar-import';

/** A pinned image's layers and config, each checked against its digest. */
export interface BaseImage {
  imageId: string;
  config: ImageConfig;
  layers: LayerFile[];
  /** The filesystem the layers make (what exists, what is a directory or a symlink). */
  view: FsView;
}

/** Exports an image from docker (`docker save`) and imports it with every digest checked. */
export async function exportBaseImage(docker: Docker, imageId: string, workDir: string, log?: (line: string) => void): Promise<BaseImage> {
  const hex = imageId.slice('sha256:'.length, 'sha256:'.length + 12);
  mkdirSync(workDir, { recursive: true });
  const archive = join(workDir, `base-${hex}.tar`);
  const progress = log ? logProgress(`exporting ${imageId.slice(0, 19)} from docker`, undefined, log) : undefined;
  const saved = await docker.getImage(imageId).get();
  await (progress ? pipeline(saved, countingStream(progress), createWriteStream(archive)) : pipeline(saved, createWriteStream(archive)));
  progress?.finish();
  return importDockerArchive(archive, imageId, join(workDir, `base-${hex}`));
}

/**
 * Reads a docker-archive (what `docker save` writes) and refuses it unless the config hashes to the
 * pinned image ID and every layer to its diffID, and no layer entry climbs out of the root (`..`,
 * absolute names, symlinks or hard links that lead outside).
 */
export async function importDockerArchive(archive: string, imageId: string, extractDir: string): Promise<BaseImage> {
  extractTar(archive, extractDir, archive);
  const manifestPath = join(extractDir, 'manifest.json');
  let entries: { Config?: string; Layers?: string[] }[];
  try {
    entries = parseJson(readFileSync(manifestPath, 'utf8'), `${archive}: manifest.json`) as typeof entries;
  } catch (error) {
    if (error instanceof UserError) throw error;
    throw new UserError(`${archive}: no manifest.json: not a docker-archive`);
  }
  const entry = Array.isArray(entries) && entries.length === 1 ? entries[0] : undefined;
  if (!entry || typeof entry.Config !== 'string' || !Array.isArray(entry.Layers)) {
    throw new UserError(`${archive}: manifest.json must name one image with Config and Layers`);
  }
  const configBytes = readFileSync(join(extractDir, entry.Config));
  const actualId = sha256Digest(configBytes);
  if (actualId !== imageId) throw new UserError(`${archive}: the image config hashes to ${actualId}, not the pinned ${imageId}: refusing the base image`);
  const config = JSON.parse(configBytes.toString('utf8')) as ImageConfig;
  const diffIds = config.rootfs?.diff_ids ?? [];
  if (diffIds.length !== entry.Layers.length) throw new UserError(`${archive}: the config lists ${diffIds.length} layers, the archive ${entry.Layers.length}`);
  const layers: LayerFile[] = [];
  const view = new FsView();
  for (const [i, name] of entry.Layers.entries()) {
    const path = join(extractDir, name);
    const { size, digests } = await hashFile(path, ['sha256']);
    const diffId = `sha256:${digests.sha256}`;
    if (diffId !== diffIds[i]) throw new UserError(`${archive}: layer ${name} hashes to ${diffId}, not ${diffIds[i]} as the config says: refusing the base image`);
    view.applyTar(path, `${archive}: layer ${name}`);
    layers.push({ path, diffId, size });
  }
  return { imageId, config, layers, view };
}
