// Small real images for reprokit's tests, written by reprokit's own image writer.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { imageConfigJson, imageManifestFiles, writeDockerArchive, writeOciLayout, type ImageManifestFiles, type LayerFile } from '../oci/layout/image-files';
import { writeDirectoryTar } from '../archive/tar-writer';

export interface TestImage {
  layout: string;
  archive: string;
  files: ImageManifestFiles;
  layers: LayerFile[];
}

/** An image of one layer holding `files` (path -> content, mode 0755), as an OCI layout and a docker-archive in `dir`. */
export function writeTestImage(dir: string, files: Record<string, Buffer | string>, created = '2026-11-25T00:00:00Z', tag = 'test:latest'): TestImage {
  const root = join(dir, 'rootfs');
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content, { mode: 0o755 });
  }
  const layerPath = join(dir, 'layer.tar');
  const { size, sha256 } = writeDirectoryTar(root, layerPath, 1795564800);
  const layers: LayerFile[] = [{ path: layerPath, diffId: `sha256:${sha256}`, size }];
  const config = imageConfigJson({
    architecture: 'amd64',
    os: 'linux',
    config: { Entrypoint: ['/' + Object.keys(files)[0]] },
    created,
    history: [{ created, created_by: 'COPY . /' }],
    rootfs: { type: 'layers', diff_ids: layers.map((layer) => layer.diffId) },
  });
  const manifest = imageManifestFiles(config, layers, tag);
  const layout = join(dir, 'image.oci');
  const archive = join(dir, 'image.tar');
  writeOciLayout(layout, manifest, layers);
  writeDockerArchive(archive, config, layers, tag);
  return { layout, archive, files: manifest, layers };
}
