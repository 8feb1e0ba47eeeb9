import { createHash } from 'node:crypto';
import { existsSync, lstatSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isUserError, UserError } from '../errors';
import { decompressBounded, isGzip, isZstd } from './compressed';
import type { DiffContents, ReadTar } from './tar';
import { diffJson } from './text';
import type { DiffContext } from './types';

/** One layer of an image: its digest as stored and its bytes (compressed or not), read when needed. */
export interface ImageLayer {
  digest: string;
  mediaType: string;
  read(): Buffer;
}

/** An image as OCI layouts, docker-archives and registries all describe it. */
export interface ImageView {
  /** Where it was read from: `oci-layout`, `docker-archive`, `registry`. */
  source: string;
  /** The manifest digest (not in a docker-archive, which has no OCI manifest). */
  manifestDigest?: string;
  manifest?: unknown;
  /** The config's digest: the image ID. */
  configDigest: string;
  config: unknown;
  layers: ImageLayer[];
  /** Names the image is tagged with (`org.opencontainers.image.ref.name`, docker's RepoTags). */
  tags: string[];
}

const DIGEST = /^sha256:[0-9a-f]{64}$/;
const sha256 = (bytes: Uint8Array) => 'sha256:' + createHash('sha256').update(bytes).digest('hex');

interface Descriptor {
  mediaType?: string;
  digest: string;
  size?: number;
  platform?: { os?: string; architecture?: string };
  annotations?: Record<string, string>;
}

function parseJsonBlob(bytes: Buffer, what: string): any {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw new UserError(`${what}: not JSON (${(error as Error).message})`);
  }
}

/** An index's manifest for linux/amd64 (or its only one), what docker pulls on this machine. */
export function selectManifest(index: { manifests?: Descriptor[] }, what: string): Descriptor {
  const manifests = Array.isArray(index.manifests) ? index.manifests : [];
  if (manifests.length === 0) throw new UserError(`${what}: the index lists no manifest`);
  const amd64 = manifests.find((m) => m.platform?.os === 'linux' && m.platform?.architecture === 'amd64');
  const chosen = amd64 ?? (manifests.length === 1 ? manifests[0] : undefined);
  if (!chosen) throw new UserError(`${what}: the index has no linux/amd64 manifest (${manifests.map((m) => `${m.platform?.os}/${m.platform?.architecture}`).join(', ')})`);
  if (typeof chosen.digest !== 'string' || !DIGEST.test(chosen.digest)) throw new UserError(`${what}: manifest digest ${JSON.stringify(chosen.digest)} is not sha256:<64 hex>`);
  return chosen;
}

/**
 * An OCI image layout read through a blob reader (a directory or a tar's entries): index.json ->
 * the linux/amd64 manifest (through nested indexes) -> config and layers. Every blob read is checked
 * against its digest.
 */
function readLayout(readBlob: (digest: string) => Buffer, indexBytes: Buffer, what: string): ImageView {
  let index = parseJsonBlob(indexBytes, `${what}: index.json`);
  const tags: string[] = [];
  for (let depth = 0; depth < 4; depth++) {
    const descriptor = selectManifest(index, what);
    const name = descriptor.annotations?.['org.opencontainers.image.ref.name'];
    if (name) tags.push(name);
    const bytes = readBlob(descriptor.digest);
    const manifest = parseJsonBlob(bytes, `${what}: ${descriptor.digest}`);
    if (Array.isArray(manifest.manifests)) {
      index = manifest;
      continue;
    }
    const config = manifest.config as Descriptor | undefined;
    if (!config || !DIGEST.test(config.digest)) throw new UserError(`${what}: manifest ${descriptor.digest} has no config digest`);
    const layers = (Array.isArray(manifest.layers) ? manifest.layers : []) as Descriptor[];
    return {
      source: 'oci-layout',
      manifestDigest: descriptor.digest,
      manifest,
      configDigest: config.digest,
      config: parseJsonBlob(readBlob(config.digest), `${what}: config ${config.digest}`),
      layers: layers.map((layer) => ({ digest: layer.digest, mediaType: layer.mediaType ?? '', read: () => readBlob(layer.digest) })),
      tags,
    };
  }
  throw new UserError(`${what}: indexes nested deeper than 4`);
}

/** The blob a digest names, inside `root`: the digest is checked to be hex first, so it cannot name a path elsewhere. */
function blobReader(read: (path: string) => Buffer | undefined, what: string): (digest: string) => Buffer {
  return (digest) => {
    if (!DIGEST.test(digest)) throw new UserError(`${what}: digest ${JSON.stringify(digest)} is not sha256:<64 hex>`);
    const bytes = read(`blobs/sha256/${digest.slice(7)}`);
    if (!bytes) throw new UserError(`${what}: blob ${digest} is missing`);
    if (sha256(bytes) !== digest) throw new UserError(`${what}: blob ${digest} does not hash to its digest`);
    return bytes;
  };
}

export function isOciLayoutDir(dir: string): boolean {
  return existsSync(join(dir, 'oci-layout')) && existsSync(join(dir, 'index.json'));
}

export function readOciLayoutDir(dir: string, maxBytes: number): ImageView {
  const read = (path: string) => {
    const file = join(dir, path);
    if (!existsSync(file)) return undefined;
    const stat = lstatSync(file);
    if (!stat.isFile()) throw new UserError(`${file}: not a regular file`);
    if (stat.size > maxBytes) throw new UserError(`${file}: larger than ${maxBytes} bytes`);
    return readFileSync(file);
  };
  return readLayout(blobReader(read, dir), read('index.json')!, dir);
}

/** A tar that holds an image: docker's `manifest.json` (docker save) or an OCI layout (`oci-layout`). */
export function imageKindOfTar(tar: ReadTar): 'docker-archive' | 'oci-layout' | undefined {
  if (tar.byPath.has('oci-layout') && tar.byPath.has('index.json')) return 'oci-layout';
  if (tar.byPath.has('manifest.json') && !tar.byPath.has('.PKGINFO')) {
    try {
      const manifest = JSON.parse(tar.byPath.get('manifest.json')!.content().toString('utf8'));
      if (Array.isArray(manifest) && manifest[0]?.Config && Array.isArray(manifest[0]?.Layers)) return 'docker-archive';
    } catch {
      return undefined;
    }
  }
  return undefined;
}

export function readImageTar(tar: ReadTar, what: string): ImageView {
  const read = (path: string) => tar.byPath.get(path)?.content();
  if (imageKindOfTar(tar) === 'oci-layout') return readLayout(blobReader(read, what), read('index.json')!, what);
  // docker save: manifest.json names the config and the layers by their paths in the archive.
  const [entry] = JSON.parse(read('manifest.json')!.toString('utf8')) as { Config: string; RepoTags?: string[]; Layers: string[] }[];
  const config = read(entry.Config);
  if (!config) throw new UserError(`${what}: manifest.json names config ${entry.Config}, which the archive lacks`);
  return {
    source: 'docker-archive',
    configDigest: sha256(config),
    config: parseJsonBlob(config, `${what}: ${entry.Config}`),
    layers: entry.Layers.map((path) => ({
      digest: path,
      mediaType: 'application/vnd.docker.image.rootfs.diff.tar',
      read: () => {
        const bytes = read(path);
        if (!bytes) throw new UserError(`${what}: manifest.json names layer ${path}, which the archive lacks`);
        return bytes;
      },
    })),
    tags: Array.isArray(entry.RepoTags) ? entry.RepoTags : [],
  };
}

/** A layer's tar, uncompressed whatever the registry or the writer stored. */
export function layerTar(layer: ImageLayer, maxBytes: number, what: string): Buffer {
  const bytes = layer.read();
  if (isGzip(bytes)) return decompressBounded(bytes, 'gzip', maxBytes, what);
  if (isZstd(bytes)) return decompressBounded(bytes, 'zstd', maxBytes, what);
  return bytes;
}

const short = (digest: string) => (DIGEST.test(digest) ? digest.slice(0, 19) + '…' : digest);

/**
 * Two images: manifest digest, image ID (config digest) and the config's fields, then layer by
 * layer, uncompressed, entry by entry. Layers whose uncompressed bytes are equal are the same layer
 * whatever their stored digests: a registry that recompressed them holds the same image.
 */
export function diffImages(context: DiffContext, where: string[], a: ImageView, b: ImageView, recurse: DiffContents, depth: number): void {
  if (a.manifestDigest && b.manifestDigest && a.manifestDigest !== b.manifestDigest) {
    context.add([...where, 'manifest'], `digest ${a.manifestDigest} -> ${b.manifestDigest}`);
  }
  if (a.configDigest !== b.configDigest) {
    context.add([...where, 'config'], `image ID ${a.configDigest} -> ${b.configDigest}`);
    diffJson(context, [...where, 'config'], a.config, b.config);
  }
  if (a.layers.length !== b.layers.length) context.add([...where, 'layers'], `${a.layers.length} layers -> ${b.layers.length}`);
  const max = context.limits.maxBytes;
  for (let i = 0; i < Math.min(a.layers.length, b.layers.length); i++) {
    const la = a.layers[i];
    const lb = b.layers[i];
    const at = [...where, `layer ${i + 1} (${short(la.digest)})`];
    if (la.digest === lb.digest && DIGEST.test(la.digest)) continue;
    let tarA: Buffer;
    let tarB: Buffer;
    try {
      tarA = layerTar(la, max, `A layer ${i + 1}`);
      tarB = layerTar(lb, max, `B layer ${i + 1}`);
    } catch (error) {
      if (!isUserError(error)) throw error;
      context.add(at, error.message);
      continue;
    }
    if (tarA.equals(tarB)) {
      if (la.digest !== lb.digest && DIGEST.test(la.digest) && DIGEST.test(lb.digest)) context.add(at, `same content, stored differently (${la.mediaType} ${short(la.digest)} -> ${lb.mediaType} ${short(lb.digest)})`);
      continue;
    }
    recurse(at, tarA, tarB, 'layer.tar', depth + 1);
  }
  const tagsA = a.tags.join(', ');
  const tagsB = b.tags.join(', ');
  if (tagsA !== tagsB) context.add([...where, 'tags'], `${tagsA || '(none)'} -> ${tagsB || '(none)'}`);
}
