import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { connectDocker, loadDockerArchive } from '../../docker/docker';
import { UserError } from '../../errors';
import { readRegularFile } from '../../fs/regular-file';
import { MAX_JSON_BYTES } from '../../manifest/json-file';
import type { OciImage } from '../../manifest/manifest';
import { validateOciLayout } from './validate-layout';

/**
 * Checks an image (its layout: an absolute path the caller checked to lie inside the project) against what the manifest records, twice: in its OCI layout (the index names the
 * recorded manifest digest, whose config is the image ID and whose layers are the diffIDs, every
 * blob hashing to its digest), and in docker (`docker image inspect` reports the same ID and layers;
 * an image docker lacks is loaded from the recorded archive first). Returns what differs.
 */
export async function verifyOciImage(layout: string, image: OciImage, archive: string): Promise<string[]> {
  const problems: string[] = [];
  if (!existsSync(join(layout, 'index.json'))) return [`no OCI layout at ${image.layout}: build it first`];
  try {
    // Validation checked index.json and every blob it reaches (regular files inside the layout, hashes right).
    await validateOciLayout(layout);
    const readJson = (file: string) => JSON.parse(readRegularFile(join(layout, file), MAX_JSON_BYTES, { noFollow: true }).toString('utf8'));
    const index = readJson('index.json') as { manifests: { digest: string }[] };
    const manifestDigest = index.manifests[0]?.digest;
    if (manifestDigest !== image.manifestDigest) problems.push(`layout manifest digest ${manifestDigest}, expected ${image.manifestDigest}`);
    else {
      const manifest = readJson(`blobs/${manifestDigest.replace(':', '/')}`) as { config: { digest: string }; layers: { digest: string }[] };
      if (manifest.config.digest !== image.id) problems.push(`layout image ID ${manifest.config.digest}, expected ${image.id}`);
      const layers = manifest.layers.map((layer) => layer.digest);
      if (layers.join() !== image.diffIds.join()) problems.push(`layout layers ${layers.join(', ')}, expected ${image.diffIds.join(', ')}`);
    }
  } catch (error) {
    if (!(error instanceof UserError)) throw error;
    problems.push(error.message);
  }
  problems.push(...(await checkDockerImage(image, archive)));
  return problems;
}

async function checkDockerImage(image: OciImage, archive: string): Promise<string[]> {
  const docker = await connectDocker();
  const inspect = () =>
    docker
      .getImage(image.id)
      .inspect()
      .then((info) => info, () => undefined);
  let info = await inspect();
  if (!info && existsSync(archive)) {
    await loadDockerArchive(docker, archive);
    info = await inspect();
  }
  if (!info) return [`docker has no image ${image.id}, and loading the archive did not give it`];
  const layers = info.RootFS?.Layers ?? [];
  return layers.join() === image.diffIds.join() ? [] : [`docker reports layers ${layers.join(', ')}, expected ${image.diffIds.join(', ')}`];
}
