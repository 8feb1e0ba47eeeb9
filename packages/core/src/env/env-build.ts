import type Docker from 'dockerode';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { readBuildEnvLock, serializeBuildEnvLock } from './build-env';
import { connectDocker, loadDockerArchive, pushImage } from '../docker/docker';
import type { DebSources } from './debs/deb-cache';
import { recordSources } from './debs/deb-sources';
import { buildEnvImage } from './env-image';
import { noRegistryHolds, pullFromWorkspaceRegistries } from './registry/registry-pull';
import { UserError } from '../errors';
import { writeFileAtomic } from '../manifest/json-file';

export interface EnvBuildOptions {
  /** Write the built image ID into the lock (the first build, or after re-locking). */
  record?: boolean;
  /** `host:port/repository` to push the image to, e.g. 127.0.0.1:5000/reprokit/rust-builder. */
  push?: string;
  /** Reuse the image if docker already has the lock's image ID, else pull it from the registries before building it. */
  reuse?: boolean;
  /** With reuse: never build; no registry holding the image is an error (`reprokit env pull`). */
  pullOnly?: boolean;
  /** Where to pull the lock's image from; default: the workspace's (imageRegistries). */
  registries?: string[];
  cacheDir?: string;
  /** Where verified npm tarballs are kept (default ~/.cache/reprokit/npm). */
  npmCacheDir?: string;
  /** Where to find .debs the cache lacks besides apt: `--debs DIR`, the snapshot service, `--mirror URL`. */
  sources?: DebSources;
  log?: (line: string) => void;
}

export interface EnvBuildResult {
  imageId: string;
  /** `reprokit/<name>@<image ID>`: what projects pin. */
  ref: string;
  reused: boolean;
  /** `repository@sha256:<manifest digest>` it was pulled from, instead of built. */
  pulledFrom?: string;
  /** `repository@sha256:<manifest digest>` when pushed. */
  pushed?: string;
}

/**
 * `reprokit env build`: the image of a locked environment, loaded into docker. A lock that records
 * an image ID must produce exactly it: a different ID is an error, not a new pin.
 */
export async function buildEnv(lockPath: string, options: EnvBuildOptions = {}, docker?: Docker): Promise<EnvBuildResult> {
  const log = options.log ?? (() => {});
  const lock = await readBuildEnvLock(lockPath);
  docker ??= await connectDocker();
  const refOf = (id: string) => `reprokit/${lock.name}@${id}`;
  if (options.reuse && lock.imageId) {
    const present = await docker.getImage(lock.imageId).inspect().then(() => true, () => false);
    if (present) return finish({ imageId: lock.imageId, ref: refOf(lock.imageId), reused: true });
    const pulled = await pullFromWorkspaceRegistries(docker, `reprokit/${lock.name}`, lock.imageId, log, options.registries);
    if (pulled.from) return finish({ imageId: lock.imageId, ref: refOf(lock.imageId), reused: false, pulledFrom: pulled.from });
    if (options.pullOnly) throw noRegistryHolds(lockPath, lock.imageId, pulled.refused);
    if (pulled.refused.length) {
      for (const line of pulled.refused) log(line);
      log(`building ${lock.imageId} from ${lockPath} instead`);
    }
  }
  if (options.pullOnly) throw new UserError(`${lockPath}: records no image ID to pull (build it with \`reprokit env build ${lockPath} --record\`)`);
  const built = await buildEnvImage(lock, lockPath, tmpdir(), { cacheDir: options.cacheDir, npmCacheDir: options.npmCacheDir, sources: options.sources, log, docker });
  try {
    if (lock.imageId && lock.imageId !== built.imageId && !options.record) {
      throw new UserError(
        `${lockPath}: built ${built.imageId} but the lock records ${lock.imageId}: not reproduced (compare the layers with diffoscope, or re-record with --record if the lock changed on purpose)`,
      );
    }
    log(`loading ${built.imageId} into docker`);
    await loadDockerArchive(docker, built.archive, log);
    const loaded = await docker.getImage(built.imageId).inspect().then((info) => info.Id, () => undefined);
    if (loaded !== built.imageId) throw new UserError(`docker loaded the image as ${loaded ?? 'nothing'}, not ${built.imageId}`);
  } finally {
    rmSync(built.archive, { force: true });
  }
  if (options.record) {
    // The image ID, and where each .deb can be fetched once apt no longer has it (derived from the
    // verified files; not part of the image, see imageLockText).
    const packages = await recordSources(lock.packages, built.debs, { snapshot: options.sources?.snapshot, log });
    const recorded = serializeBuildEnvLock({ ...lock, packages, imageId: built.imageId });
    if (recorded !== serializeBuildEnvLock(lock)) {
      writeFileAtomic(lockPath, recorded);
      log(`recorded ${built.imageId} and the packages' snapshot URLs in ${lockPath}`);
    }
  }
  return finish({ imageId: built.imageId, ref: refOf(built.imageId), reused: false });

  async function finish(result: EnvBuildResult): Promise<EnvBuildResult> {
    if (!options.push) return result;
    log(`pushing to ${options.push}`);
    return { ...result, pushed: await pushImage(docker!, result.imageId, options.push, result.imageId.slice(7, 19)) };
  }
}
