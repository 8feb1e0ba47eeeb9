import { closeSync, openSync } from 'node:fs';
import { posix } from 'node:path';
import { UserError } from '../errors';
import { TarWriter } from '../archive/tar-writer';
import type { LayerFile } from './layout/image-files';

/** One entry of a layer reprokit writes: a path inside the image (no leading `/`) and what it is. */
export type LayerEntry = {
  name: string;
  mode: number;
  uid: number;
  gid: number;
} & ({ type: 'directory' } | { type: 'file'; path: string; size: number } | { type: 'symlink'; target: string } | { type: 'whiteout' });

/** Orders by path components, so that every directory comes right before what it holds. */
function compareImagePaths(a: string, b: string): number {
  const x = a.split('/');
  const y = b.split('/');
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    if (x[i] !== y[i]) return x[i] < y[i] ? -1 : 1;
  }
  return x.length - y.length;
}

/** `/a/./b/` → `a/b`; refuses paths that climb out of the image root. */
export function imagePath(path: string): string {
  const normalized = posix.normalize('/' + path);
  if (normalized.split('/').includes('..')) throw new UserError(`${path}: climbs out of the image root`);
  return normalized.replace(/^\/+/, '').replace(/\/+$/, '');
}

/**
 * Writes a layer: entries sorted by path (a later entry for the same path replaces an earlier one),
 * every mtime `mtime` (SOURCE_DATE_EPOCH), modes and owners exactly as given, no user or group
 * names, no access or change times. The same entries give the same bytes, so the same diffID.
 */
export function writeLayer(entries: LayerEntry[], outPath: string, mtime: number): LayerFile {
  const byName = new Map<string, LayerEntry>();
  for (const entry of entries) {
    if (entry.name === '') continue;
    byName.set(entry.name, entry);
  }
  const fd = openSync(outPath, 'w', 0o644);
  try {
    const tar = new TarWriter(fd, mtime);
    for (const name of [...byName.keys()].sort(compareImagePaths)) {
      const entry = byName.get(name)!;
      const meta = { mode: entry.mode, uid: entry.uid, gid: entry.gid };
      if (entry.type === 'directory') tar.directory(name, meta);
      else if (entry.type === 'symlink') tar.symlink(name, entry.target, meta);
      // An OCI whiteout: an empty file `.wh.NAME` beside what a RUN deleted (mode 0, root, as docker writes them).
      else if (entry.type === 'whiteout') tar.buffer(name, Buffer.alloc(0), { mode: 0, uid: 0, gid: 0 });
      else tar.file(name, entry.path, entry.size, meta);
    }
    const { size, sha256 } = tar.finish();
    return { path: outPath, diffId: `sha256:${sha256}`, size };
  } finally {
    closeSync(fd);
  }
}
