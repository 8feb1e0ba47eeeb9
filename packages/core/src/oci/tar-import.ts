import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { UserError } from '../errors';
import type { LayerEntry } from './layer';
import { tarEntries } from '../archive/tar-reader';

/**
 * Extracts an archive's files into `dir` (content only; names, modes and owners are kept as data,
 * not applied to the host) and returns them as layer entries, in archive order. Entries that could
 * write outside a root are refused by the reader; hard links become copies of their target;
 * devices and FIFOs are refused.
 */
export function extractTar(archive: string, dir: string, what: string): LayerEntry[] {
  mkdirSync(dir, { recursive: true });
  const entries: LayerEntry[] = [];
  const files = new Map<string, { path: string; size: number }>();
  for (const entry of tarEntries(archive, what, { safe: true })) {
    const name = entry.path;
    const meta = { name, mode: entry.mode & 0o7777, uid: entry.uid, gid: entry.gid };
    if (entry.type === 'directory') {
      if (name !== '' && name !== '.') entries.push({ ...meta, type: 'directory' });
    } else if (entry.type === 'symlink') {
      entries.push({ ...meta, type: 'symlink', target: entry.link! });
    } else if (entry.type === 'file') {
      // Under its own name (safe: no `..`, and no link is ever created on the host to follow).
      const path = join(dir, name);
      mkdirSync(dirname(path), { recursive: true });
      entry.copyTo(path);
      files.set(name, { path, size: entry.size });
      entries.push({ ...meta, type: 'file', path, size: entry.size });
    } else if (entry.type === 'hardlink') {
      const target = files.get(entry.link!.replace(/^\.\//, ''));
      if (!target) throw new UserError(`${what}: ${name}: hard link to ${entry.link}, which the archive does not hold before it`);
      entries.push({ ...meta, type: 'file', ...target });
    } else {
      throw new UserError(`${what}: ${name}: a device or FIFO; images built by reprokit hold files, directories and links only`);
    }
  }
  return entries;
}
