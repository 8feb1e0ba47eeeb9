import type Docker from 'dockerode';
import { randomBytes } from 'node:crypto';
import { createWriteStream, linkSync, copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { basename, dirname, join } from 'node:path';
import type { BuildEnvLock } from './build-env';
import { loadDockerArchive, runInContainer } from '../docker/docker';
import { UserError } from '../errors';
import { imageConfigBytes } from './oci-config';
import { writeDockerArchive, type LayerFile } from '../oci/layout/image-files';
import { writeLayer } from '../oci/layer';
import { isTemporaryPath } from '../oci/run-changes';
import type { LayerEntry } from '../oci/layer';
import { tarEntries } from '../archive/tar-reader';

/** Where the locked .debs are mounted (read-only) while dpkg installs them. */
const DEBS_MOUNT = '/var/cache/reprokit-debs';

/**
 * What debootstrap's second stage does, once and offline: base-passwd and base-files first (the
 * others' scripts need /etc/passwd and the directory layout), then every package unpacked and all
 * configured. The files are already on disk (the first layer), so every maintainer script finds the
 * programs it calls whatever the order; --force-depends because the order is not apt's.
 */
const INSTALL_SCRIPT = `set -e
cd ${DEBS_MOUNT}
dpkg --force-depends --force-confold --install base-passwd_*.deb
dpkg --force-depends --force-confold --install base-files_*.deb
dpkg --force-depends --force-confold --skip-same-version --unpack *.deb
dpkg --force-depends --force-configure-any --force-confold --configure --pending
dpkg --audit
`;

/** What docker puts in every container (its marker, the files it mounts, the kernel's filesystems' contents). */
const RUNTIME_PATH = /^(\.dockerenv|etc\/(hostname|hosts|resolv\.conf|mtab)|(dev|proc|sys)\/.+)$/;

/**
 * The whole filesystem of a finished container as layer entries, without docker's runtime files,
 * the .deb mount, and what a RUN's layer would drop (logs, caches, *-old backups). Hard links
 * become copies (the layer writer writes files).
 */
async function exportedFilesystem(container: Docker.Container, scratch: string, what: string): Promise<LayerEntry[]> {
  const files = join(scratch, 'files');
  mkdirSync(files, { recursive: true });
  const archive = join(scratch, 'export.tar');
  await pipeline(await container.export(), createWriteStream(archive));
  const mount = DEBS_MOUNT.slice(1);
  const entries: LayerEntry[] = [];
  const copies = new Map<string, { path: string; size: number }>();
  try {
    for (const entry of tarEntries(archive, `${what}: docker export`, { safe: true })) {
      const name = entry.path.replace(/\/+$/, '');
      if (!name || RUNTIME_PATH.test(name) || name === mount || name.startsWith(mount + '/') || name.startsWith('tmp/') || isTemporaryPath(name)) continue;
      const meta = { name, mode: entry.mode & 0o7777, uid: entry.uid, gid: entry.gid };
      if (entry.type === 'directory') entries.push({ ...meta, type: 'directory' });
      else if (entry.type === 'symlink') entries.push({ ...meta, type: 'symlink', target: entry.link! });
      else if (entry.type === 'file') {
        const path = join(files, name);
        mkdirSync(dirname(path), { recursive: true });
        entry.copyTo(path);
        copies.set(name, { path, size: entry.size });
        entries.push({ ...meta, type: 'file', path, size: entry.size });
      } else if (entry.type === 'hardlink') {
        const target = copies.get(entry.link!.replace(/^\.?\/+/, ''));
        if (!target) throw new UserError(`${what}: /${name} is a hard link to /${entry.link}, which the export has not shown before`);
        entries.push({ ...meta, type: 'file', ...target });
      } else throw new UserError(`${what}: /${name} is a device or FIFO; an environment holds files, directories and links only`);
    }
  } finally {
    rmSync(archive, { force: true });
  }
  return entries;
}

/**
 * The layer of an environment whose packages are installed, not only unpacked
 * (`maintainerScripts`): the unpacked layer is loaded as a throwaway image, dpkg installs the
 * locked .debs in a container of it with no network, and the container's filesystem becomes the
 * image's one layer, normalized as a Dockerfile RUN's is (logs, caches and the databases' *-old
 * backups dropped, every mtime SOURCE_DATE_EPOCH, numeric owners). Maintainer scripts get SOURCE_DATE_EPOCH too (shadow's
 * password dates), so the layer is the same on every machine.
 */
export async function configureWithDpkg(
  docker: Docker,
  lock: BuildEnvLock,
  unpacked: LayerFile,
  debs: Map<string, string>,
  scratch: string,
  log: (line: string) => void,
): Promise<LayerFile> {
  const epoch = lock.sourceDateEpoch ?? 0;
  const config = imageConfigBytes({ architecture: lock.architecture, env: lock.env, user: '0:0', diffIds: [unpacked.diffId], createdBy: 'reprokit env build: unpacked (never shipped)', created: epoch });
  const tag = `reprokit-env-unpacked/${lock.name}:${process.pid}-${randomBytes(4).toString('hex')}`;
  const archive = join(scratch, 'unpacked.tar');
  writeDockerArchive(archive, config, [unpacked], tag);
  log('loading the unpacked packages to run their maintainer scripts');
  await loadDockerArchive(docker, archive);
  const debsDir = join(scratch, 'debs');
  mkdirSync(debsDir);
  for (const p of lock.packages) {
    const from = debs.get(p.name)!;
    const to = join(debsDir, basename(p.filename));
    try {
      linkSync(from, to);
    } catch {
      copyFileSync(from, to);
    }
  }
  try {
    log(`installing ${lock.packages.length} packages with dpkg (no network)`);
    const entries = await runInContainer(
      docker,
      {
        image: tag,
        cmd: ['/bin/sh', '-c', INSTALL_SCRIPT],
        user: '0:0',
        allowRoot: true,
        env: { ...lock.env, DEBIAN_FRONTEND: 'noninteractive', DEBCONF_NONINTERACTIVE_SEEN: 'true', SOURCE_DATE_EPOCH: String(epoch) },
        mounts: [{ host: debsDir, container: DEBS_MOUNT, readOnly: true }],
        workdir: '/',
        readOnlyRootfs: false,
        logPrefix: '[dpkg] ',
        log,
      },
      (container) => exportedFilesystem(container, join(scratch, 'export'), `env ${lock.name}: dpkg`),
    );
    return writeLayer(entries!, join(scratch, 'configured.tar'), epoch);
  } finally {
    await docker.getImage(tag).remove({ force: true }).catch(() => undefined);
  }
}
