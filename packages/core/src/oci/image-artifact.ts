import { join } from 'node:path';
import { installArtifact } from '../build/build-record';
import { connectDocker, loadDockerArchive } from '../docker/docker';
import { UserError } from '../errors';
import type { OciImage } from '../manifest/manifest';
import { buildOciImage, type OciBuildInput } from './build-image';
import { imageManifestFiles, writeDockerArchive, writeOciLayout } from './layout/image-files';
import { REPROKIT_VERSION } from '../version';
import { pushOciImage } from './layout/push';
import { validateOciLayout } from './layout/validate-layout';

export interface ImageArtifactBuild extends OciBuildInput {
  /** The artifact's name: `<name>.tar` (docker-archive) and `<name>.oci/` (OCI layout) in the output directory. */
  name: string;
  outputDir: string;
  /** The tag docker gets and the layout's `org.opencontainers.image.ref.name`, e.g. `asdf:latest`. */
  tag: string;
  /** A registry repository to push to, e.g. `127.0.0.1:5000/asdf`. */
  push?: string;
  /** Validate the layout's index, manifest and config against the OCI image-spec schemas. */
  validate?: boolean;
}

export interface ImageArtifact {
  file: string;
  layout: string;
  image: OciImage;
  /** `repository@sha256:<manifest digest>` when pushed. */
  pushed?: string;
}

/**
 * Builds the image, writes its OCI layout and docker-archive, loads it into docker and checks that
 * docker computes the same image ID, optionally validates and pushes it, and installs the archive as
 * the artifact with its build record.
 */
export async function buildImageArtifact(build: ImageArtifactBuild): Promise<ImageArtifact> {
  const say = (line: string) => (build.log ?? ((text: string) => process.stderr.write(text + '\n')))(build.logPrefix + line);
  const docker = await connectDocker();
  const built = await buildOciImage(docker, build);
  const files = imageManifestFiles(built.config, built.layers, build.tag);
  const layout = join(build.outputDir, `${build.name}.oci`);
  writeOciLayout(layout, files, built.layers);
  if (build.validate) {
    await validateOciLayout(layout);
    say(`${layout}: valid OCI image layout`);
  }
  const archive = join(build.workDir, `${build.name}.tar`);
  writeDockerArchive(archive, built.config, built.layers, build.tag);
  await loadDockerArchive(docker, archive, say);
  const loaded = await docker
    .getImage(build.tag)
    .inspect()
    .then((info) => info.Id, () => undefined);
  if (loaded !== built.imageId) throw new UserError(`docker loaded ${build.tag} as ${loaded ?? 'nothing'}, but its config hashes to ${built.imageId}`);
  say(`image ${built.imageId} (${build.tag}), manifest ${files.manifestDigest}, ${built.layers.length} layers`);
  const pushed = build.push ? await pushOciImage(files, built.layers, build.push, build.tag.split(':')[1] ?? 'latest', say) : undefined;
  if (pushed) say(`pushed ${pushed}`);
  const image: OciImage = { id: built.imageId, manifestDigest: files.manifestDigest, diffIds: built.layers.map((layer) => layer.diffId), layout: `${build.name}.oci` };
  const file = installArtifact(
    archive,
    build.outputDir,
    {
      name: build.name,
      kind: 'oci',
      file: `${build.name}.tar`,
      // The first pinned image the Dockerfile names (the builder); an image FROM scratch only needs reprokit.
      environment: built.images[0] ? { type: 'container', image: built.images[0] } : { type: 'host', toolchain: `reprokit ${REPROKIT_VERSION}` },
      sourceDateEpoch: build.sourceDateEpoch,
      image,
      baseImages: built.images,
    },
    0o644,
  );
  return { file, layout, image: { ...image, layout }, pushed };
}
