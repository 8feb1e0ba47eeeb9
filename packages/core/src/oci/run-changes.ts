import type Docker from 'dockerode';
import { createWriteStream, mkdirSync, rmSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { UserError } from '../errors';
import { tarEntries } from '../archive/tar-reader';
import type { LayerEntry } from './layer';
import { OPAQUE_WHITEOUT, WHITEOUT_PREFIX } from './stage-files';

/**
 * What a RUN leaves behind that an image should not ship: temporary files and package manager
 * caches and logs (downloaded indexes, timestamps). Dropped unless `keepTemporaryFiles` is set;
 * deletions under them are kept.
 */
export const TEMPORARY_PATHS = ['tmp', 'var/tmp', 'var/cache/apt', 'var/lib/apt/lists', 'var/cache/apk', 'var/log/apt', 'var/log/dpkg.log', 'var/log/alternatives.log', 'root/.cache', 'var/cache/ldconfig/aux-cache'];

/**
 * The backups dpkg and debconf make of their databases on every change (status-old, config.dat-old):
 * dropped, while the databases themselves stay (apt and dpkg in a later RUN need them).
 */
const DATABASE_BACKUP = /^var\/(lib\/dpkg|cache\/debconf)\/[^/]+-old$/;

const under = (path: string, roots: string[]) => roots.some((root) => path === root || path.startsWith(root + '/'));

/** Whether a RUN's change at `path` is a temporary file, a cache or a log, not part of the image. */
export const isTemporaryPath = (path: string) => under(path, TEMPORARY_PATHS) || DATABASE_BACKUP.test(path);

/** docker's change kinds (`docker diff`): 0 modified, 1 added, 2 deleted. */
interface Change {
  Path: string;
  Kind: 0 | 1 | 2;
}

/**
 * The changes a finished RUN made to its container's filesystem, as layer entries: every added or
 * modified path with its mode, numeric owner and content (from `docker export`, only the changed
 * paths kept), and an OCI whiteout for every deleted one. Mount points (RUN --mount targets, /tmp)
 * and temporary paths are left out. Extended attributes are not kept.
 */
export async function runChanges(container: Docker.Container, scratch: string, options: { mountTargets: string[]; keepTemporaryFiles: boolean; what: string }): Promise<LayerEntry[]> {
  const changes = ((await container.changes()) ?? []) as Change[];
  const mounts = options.mountTargets.map((target) => target.replace(/^\/+/, ''));
  const wanted = new Map<string, Change['Kind']>();
  const deleted = new Set<string>();
  for (const change of changes) {
    const path = change.Path.replace(/^\/+/, '');
    if (path === '') continue;
    if (change.Kind === 2) {
      deleted.add(path);
      continue;
    }
    // A mount point docker had to create, and whatever is under a mount, are not the command's doing.
    if (change.Kind === 1 && under(path, mounts)) continue;
    if (!options.keepTemporaryFiles && isTemporaryPath(path) && !(path === 'tmp' && change.Kind === 0)) continue;
    wanted.set(path, change.Kind);
  }
  const entries: LayerEntry[] = [];
  for (const path of deleted) {
    if (wanted.has(path)) {
      // Deleted and made again (a directory emptied by `rm -rf` and re-created): an opaque directory.
      entries.push({ name: `${path}/${OPAQUE_WHITEOUT}`, type: 'whiteout', mode: 0, uid: 0, gid: 0 });
      continue;
    }
    const dir = posix.dirname(path);
    entries.push({ name: (dir === '.' ? '' : dir + '/') + WHITEOUT_PREFIX + posix.basename(path), type: 'whiteout', mode: 0, uid: 0, gid: 0 });
  }
  if (wanted.size === 0) return entries;
  const archive = join(scratch, 'export.tar');
  const files = join(scratch, 'files');
  mkdirSync(files, { recursive: true });
  await pipeline(await container.export(), createWriteStream(archive));
  try {
    const seen = new Map<string, { path: string; size: number }>();
    const missingLinks = new Map<string, LayerEntry>();
    const copy = (entry: { path: string; size: number; copyTo(path: string): void }) => {
      const target = join(files, entry.path);
      mkdirSync(dirname(target), { recursive: true });
      entry.copyTo(target);
      return { path: target, size: entry.size };
    };
    for (const entry of tarEntries(archive, `${options.what}: docker export`, { safe: true })) {
      const name = entry.path;
      const meta = { name, mode: entry.mode & 0o7777, uid: entry.uid, gid: entry.gid };
      if (entry.type === 'file' && wanted.has(name)) {
        const copied = copy(entry);
        seen.set(name, copied);
        entries.push({ ...meta, type: 'file', ...copied });
      } else if (!wanted.has(name)) {
        continue;
      } else if (entry.type === 'directory') entries.push({ ...meta, type: 'directory' });
      else if (entry.type === 'symlink') entries.push({ ...meta, type: 'symlink', target: entry.link! });
      else if (entry.type === 'hardlink') {
        const target = entry.link!.replace(/^\.?\/+/, '');
        const content = seen.get(target);
        const file: LayerEntry = { ...meta, type: 'file', path: content?.path ?? '', size: content?.size ?? 0 };
        if (!content) missingLinks.set(target, file);
        entries.push(file);
      } else throw new UserError(`${options.what}: the command made /${name}, a device or FIFO; images built by reprokit hold files, directories and links only`);
    }
    if (missingLinks.size > 0) {
      // Hard links to files the command did not change: the layer gets a copy of their content.
      for (const entry of tarEntries(archive, `${options.what}: docker export`, { safe: true })) {
        const link = missingLinks.get(entry.path);
        if (link && link.type === 'file' && entry.type === 'file') Object.assign(link, copy(entry));
      }
    }
  } finally {
    rmSync(archive, { force: true });
  }
  return entries;
}
