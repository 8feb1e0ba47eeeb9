import { closeSync, copyFileSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { sha256Digest } from '../../env/oci-config';
import { TarWriter } from '../../archive/tar-writer';
import type { Healthcheck } from '../dockerfile/dockerfile-healthcheck';

/**
 * How reprokit stores an image, and why its digests are the same on every machine:
 *
 * Layers are uncompressed tars (`application/vnd.oci.image.layer.v1.tar`). A layer's digest is then
 * its diffID, a function of the tar bytes only, which reprokit writes itself. Compressed layers would
 * tie the manifest digest to one gzip/zlib implementation and its settings (Node's bundled zlib has
 * changed its deflate output across releases and CPUs), so the same image could get another
 * manifest digest on another machine. The price is size on the wire; registries accept it.
 */
export const LAYER_MEDIA_TYPE = 'application/vnd.oci.image.layer.v1.tar';
export const CONFIG_MEDIA_TYPE = 'application/vnd.oci.image.config.v1+json';
export const MANIFEST_MEDIA_TYPE = 'application/vnd.oci.image.manifest.v1+json';
export const INDEX_MEDIA_TYPE = 'application/vnd.oci.image.index.v1+json';

/** An uncompressed layer tar on disk. */
export interface LayerFile {
  path: string;
  /** `sha256:<hex>` of the tar, which is also its digest in the manifest. */
  diffId: string;
  size: number;
}

export interface HistoryEntry {
  created: string;
  created_by: string;
  empty_layer?: true;
}

/** The runtime part of an image config (`config` in the OCI image config). */
export interface RuntimeConfig {
  User?: string;
  ExposedPorts?: Record<string, Record<string, never>>;
  Env?: string[];
  Entrypoint?: string[];
  Cmd?: string[];
  WorkingDir?: string;
  Labels?: Record<string, string>;
  Healthcheck?: Healthcheck;
  Volumes?: Record<string, Record<string, never>>;
  StopSignal?: string;
  /** Docker's extension: the shell of RUN, CMD and ENTRYPOINT shell forms (`SHELL`). */
  Shell?: string[];
  /** Read from base images only, to refuse them: reprokit never writes ONBUILD triggers. */
  OnBuild?: string[] | null;
}

export interface ImageConfig {
  architecture: string;
  os: string;
  config: RuntimeConfig;
  created: string;
  history: HistoryEntry[];
  rootfs: { type: 'layers'; diff_ids: string[] };
}

/**
 * The config's bytes with every key in a fixed order and nothing about the machine or the builder
 * (no hostname, no `docker_version`, no `container_config`): the image ID is their sha256.
 */
export function imageConfigJson(config: ImageConfig): Buffer {
  const runtime = config.config;
  const ordered = {
    architecture: config.architecture,
    config: dropUndefined({
      User: runtime.User,
      ExposedPorts: runtime.ExposedPorts && Object.fromEntries(Object.keys(runtime.ExposedPorts).sort().map((port) => [port, {}])),
      Env: runtime.Env,
      Entrypoint: runtime.Entrypoint,
      Cmd: runtime.Cmd,
      WorkingDir: runtime.WorkingDir,
      Labels: runtime.Labels && Object.fromEntries(Object.entries(runtime.Labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
      // Absent unless the Dockerfile (or the base) sets them, so images without them keep their IDs.
      Healthcheck: runtime.Healthcheck && dropUndefined({ ...runtime.Healthcheck }),
      Volumes: runtime.Volumes && Object.fromEntries(Object.keys(runtime.Volumes).sort().map((volume) => [volume, {}])),
      StopSignal: runtime.StopSignal,
      Shell: runtime.Shell,
    }),
    created: config.created,
    history: config.history.map((entry) => dropUndefined({ created: entry.created, created_by: entry.created_by, empty_layer: entry.empty_layer })),
    os: config.os,
    rootfs: { type: 'layers', diff_ids: config.rootfs.diff_ids },
  };
  return Buffer.from(JSON.stringify(ordered));
}

function dropUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}

export interface ImageManifestFiles {
  config: Buffer;
  manifest: Buffer;
  index: Buffer;
  imageId: string;
  manifestDigest: string;
}

/** The manifest (config + layers) and the index naming it by `tag`, as bytes with fixed key order. */
export function imageManifestFiles(config: Buffer, layers: LayerFile[], tag: string): ImageManifestFiles {
  const imageId = sha256Digest(config);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MANIFEST_MEDIA_TYPE,
      config: { mediaType: CONFIG_MEDIA_TYPE, digest: imageId, size: config.length },
      layers: layers.map((layer) => ({ mediaType: LAYER_MEDIA_TYPE, digest: layer.diffId, size: layer.size })),
    }),
  );
  const manifestDigest = sha256Digest(manifest);
  const index = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: INDEX_MEDIA_TYPE,
      manifests: [{ mediaType: MANIFEST_MEDIA_TYPE, digest: manifestDigest, size: manifest.length, annotations: { 'org.opencontainers.image.ref.name': tag } }],
    }),
  );
  return { config, manifest, index, imageId, manifestDigest };
}

const blobPath = (dir: string, digest: string) => join(dir, 'blobs', ...digest.split(':'));

/**
 * Writes an OCI image layout directory (`oci-layout`, `index.json`, `blobs/sha256/…`): first into a
 * sibling temporary directory, then renamed into place, so a reader never sees half a layout.
 */
export function writeOciLayout(dir: string, files: ImageManifestFiles, layers: LayerFile[]): void {
  const temp = `${dir}.tmp-${process.pid}`;
  rmSync(temp, { recursive: true, force: true });
  mkdirSync(join(temp, 'blobs', 'sha256'), { recursive: true });
  const write = (path: string, bytes: Buffer) => {
    writeFileSync(path, bytes, { mode: 0o644 });
  };
  for (const layer of layers) copyFileSync(layer.path, blobPath(temp, layer.diffId));
  write(blobPath(temp, files.imageId), files.config);
  write(blobPath(temp, files.manifestDigest), files.manifest);
  write(join(temp, 'oci-layout'), Buffer.from(JSON.stringify({ imageLayoutVersion: '1.0.0' })));
  write(join(temp, 'index.json'), files.index);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dirname(dir), { recursive: true });
  renameSync(temp, dir);
}

/**
 * `docker load`'s format (docker-archive): the config, one `<diffID hex>/layer.tar` per layer and a
 * manifest.json naming them with the tag. Entries are written in a fixed order with mtime 0, so the
 * archive's own hash is stable too. Written to a temporary file, fsynced, then renamed.
 */
export function writeDockerArchive(path: string, config: Buffer, layers: LayerFile[], tag: string): void {
  const hex = sha256Digest(config).slice('sha256:'.length);
  const layerNames = layers.map((layer) => `${layer.diffId.slice('sha256:'.length)}/layer.tar`);
  const manifest = Buffer.from(JSON.stringify([{ Config: `${hex}.json`, RepoTags: [tag], Layers: layerNames }]));
  const meta = { mode: 0o644, uid: 0, gid: 0 };
  const temp = `${path}.tmp`;
  const fd = openSync(temp, 'w', 0o644);
  try {
    const tar = new TarWriter(fd, 0);
    tar.buffer(`${hex}.json`, config, meta);
    const written = new Set<string>();
    layers.forEach((layer, i) => {
      // The same layer twice in an image (two identical COPYs) is stored once.
      if (written.has(layerNames[i])) return;
      written.add(layerNames[i]);
      tar.directory(dirname(layerNames[i]), { ...meta, mode: 0o755 });
      tar.file(layerNames[i], layer.path, layer.size, meta);
    });
    tar.buffer('manifest.json', manifest, meta);
    tar.finish();
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temp, path);
}
