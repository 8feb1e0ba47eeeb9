import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { imageLockText, type BuildEnvLock } from './build-env';
import { fetchLockedDebs, defaultDebCacheDir, type DebSources } from './debs/deb-cache';
import { UserError } from '../errors';
import { resolveInside } from '../fs/contained-path';
import { formatBytes, logProgress, type Progress } from '../progress';
import { imageConfigBytes, sha256Digest } from './oci-config';
import type Docker from 'dockerode';
import { configureWithDpkg } from './dpkg-configure';
import { writeDockerArchive, type LayerFile } from '../oci/layout/image-files';
import { writeDirectoryTar } from '../archive/tar-writer';
import { fetchLockedNpm } from './npm/npm-env';
import { installGlobalPackages } from './npm/npm-global-install';

/** Debian 12 is merged-/usr: these are links into /usr before any package is unpacked. */
const MERGED_USR_LINKS: [string, string][] = [
  ['bin', 'usr/bin'],
  ['lib', 'usr/lib'],
  ['lib64', 'usr/lib64'],
  ['sbin', 'usr/sbin'],
];

function unpackDeb(deb: string, root: string): void {
  // --keep-directory-symlink: a package's ./bin/ must go through the merged-/usr link, not replace it.
  const result = spawnSync('bash', ['-o', 'pipefail', '-c', 'dpkg-deb --fsys-tarfile "$1" | tar -x --keep-directory-symlink -C "$2"', 'unpack', deb, root], {
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new UserError(`${deb}: cannot unpack (${result.stderr.trim() || `exit ${result.status}`})`);
}

/**
 * The root filesystem of a locked environment: every package unpacked in name order (no
 * maintainer scripts: they are what makes installations differ), the npm tarballs installed into
 * /usr/local as `npm install -g` would, then the lock's links, a build user, /tmp, and the lock
 * itself at /etc/reprokit/env.lock.json for whoever inspects the image.
 */
export async function assembleRootfs(
  lock: BuildEnvLock,
  debs: Map<string, string>,
  root: string,
  progress: Progress,
  npm: { name: string; version: string; tarball: string }[] = [],
  scratch = dirname(root),
): Promise<void> {
  for (const dir of ['usr/bin', 'usr/lib', 'usr/lib64', 'usr/sbin', 'etc/reprokit', 'tmp', 'home']) mkdirSync(join(root, dir), { recursive: true });
  for (const [link, target] of MERGED_USR_LINKS) symlinkSync(target, join(root, link));
  lock.packages.forEach((p, i) => {
    unpackDeb(debs.get(p.name)!, root);
    progress.update(i + 1);
  });
  progress.finish();
  await installGlobalPackages(root, npm, scratch);
  for (const [link, target] of Object.entries(lock.links)) {
    // After unpacking, a directory on the way may be a package's symlink (e.g. to an absolute path
    // that means the host here): the link's parent must resolve inside the root before and after mkdir.
    const what = `env lock ${lock.name}: $.links[${JSON.stringify(link)}]`;
    const path = resolveInside(root, link, what, { allowFinalSymlink: true });
    mkdirSync(dirname(path), { recursive: true });
    resolveInside(root, link, what, { allowFinalSymlink: true });
    rmSync(path, { force: true });
    symlinkSync(target, path);
  }
  chmodSync(join(root, 'tmp'), 0o1777);
  writeFileSync(join(root, 'etc/reprokit/env.lock.json'), imageLockText(lock));
  if (lock.maintainerScripts) {
    // dpkg's database starts empty; base-passwd's scripts write passwd and group (configureWithDpkg).
    for (const dir of ['var/lib/dpkg/info', 'var/lib/dpkg/updates', 'var/lib/dpkg/triggers']) mkdirSync(join(root, dir), { recursive: true });
    for (const file of ['var/lib/dpkg/status', 'var/lib/dpkg/available']) writeFileSync(join(root, file), '');
    return;
  }
  const [uid, gid] = lock.user.split(':').map(Number);
  writeFileSync(join(root, 'etc/passwd'), `root:x:0:0:root:/root:/bin/sh\nbuild:x:${uid}:${gid}:build:/home/build:/bin/sh\n`);
  writeFileSync(join(root, 'etc/group'), `root:x:0:\nbuild:x:${gid}:\n`);
  mkdirSync(join(root, 'home/build'));
  chownSync(join(root, 'home/build'), uid, gid);
}

export interface BuiltEnvImage {
  imageId: string;
  diffId: string;
  /** A docker-archive tar (`docker load` format) of the image. */
  archive: string;
  layerSize: number;
}

/**
 * Builds the image of a locked environment: verified .debs, a root filesystem, one deterministic
 * layer, a fixed config, and a docker-archive to load. The same lock gives the same image ID.
 */
export async function buildEnvImage(
  lock: BuildEnvLock,
  lockPath: string,
  workDir: string,
  options: { cacheDir?: string; npmCacheDir?: string; sources?: DebSources; log?: (line: string) => void; docker?: Docker } = {},
): Promise<BuiltEnvImage & { debs: Map<string, string> }> {
  const log = options.log ?? (() => {});
  const debs = await fetchLockedDebs(lock.packages, lockPath, options.cacheDir ?? defaultDebCacheDir(), log, options.sources);
  const npm = await fetchLockedNpm(lock.npm ?? [], lockPath, { cacheDir: options.npmCacheDir, log });
  const scratch = mkdtempSync(join(workDir, 'reprokit-env-'));
  const root = join(scratch, 'rootfs');
  mkdirSync(root);
  try {
    await assembleRootfs(lock, debs, root, logProgress('unpacking packages', lock.packages.length, log, 'items'), npm, scratch);
    if (npm.length) log(`installed ${npm.map((p) => `${p.name}@${p.version}`).join(', ')} into /usr/local`);
    log('writing the layer');
    const epoch = lock.sourceDateEpoch ?? 0;
    const layerPath = join(scratch, 'layer.tar');
    const layer = writeDirectoryTar(root, layerPath, epoch);
    rmSync(root, { recursive: true, force: true });
    log(`layer: ${formatBytes(layer.size)}`);
    const layers: LayerFile[] = [{ path: layerPath, diffId: `sha256:${layer.sha256}`, size: layer.size }];
    if (lock.maintainerScripts) {
      if (!options.docker) throw new UserError(`${lockPath}: maintainerScripts: the packages are installed in a container; building this environment needs docker`);
      // The installed system replaces the unpacked one: one layer, the container's whole filesystem.
      const configured = await configureWithDpkg(options.docker, lock, layers[0], debs, scratch, log);
      log(`installed layer: ${formatBytes(configured.size)}`);
      layers.splice(0, 1, configured);
    }
    const config = imageConfigBytes({
      architecture: lock.architecture,
      env: lock.env,
      user: lock.user,
      workingDir: lock.maintainerScripts ? undefined : '/home/build',
      diffIds: layers.map((item) => item.diffId),
      createdBy: `reprokit env build ${lock.name}`,
      created: epoch,
      cmd: lock.cmd,
    });
    const imageId = sha256Digest(config);
    // Unique per build: parallel targets (elf and oci of one project) may both build a missing image.
    const archive = join(workDir, `reprokit-env-${lock.name}-${imageId.slice(7, 19)}-${process.pid}-${randomBytes(4).toString('hex')}.tar`);
    writeDockerArchive(archive, config, layers, `reprokit/${lock.name}:${imageId.slice(7, 19)}`);
    return { imageId, diffId: layers[0].diffId, archive, layerSize: layers.reduce((sum, item) => sum + item.size, 0), debs };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
