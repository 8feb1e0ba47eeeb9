import { spawnSync } from 'node:child_process';
import { closeSync, lstatSync, openSync, readdirSync, readlinkSync, type Stats } from 'node:fs';
import { join, posix } from 'node:path';
import { UserError } from '../errors';
import { compareStrings } from '../manifest/manifest';
import { TarWriter } from '../archive/tar-writer';

/**
 * The files of a project that an in-tree build gets: what git would check out (tracked files plus
 * untracked ones not ignored, as Nx's `{projectRoot}/**` input sees them), so a leftover object file
 * from a build on the host cannot make `make` skip a step the clean clone would run. Outside a git
 * work tree, every file. Paths are relative, `/`-separated and sorted; `excluded` top-level names
 * (the output directory, target/, the manifest) are left out with everything below them.
 */
export function sourceFiles(projectDir: string, excluded: string[]): string[] {
  const skip = (path: string) => path === '.git' || path.startsWith('.git/') || excluded.some((name) => path === name || path.startsWith(name + '/'));
  const listed = spawnSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard', '--', '.'], { cwd: projectDir, encoding: 'utf8', maxBuffer: 1 << 30 });
  const inGit = !listed.error && listed.status === 0;
  const paths: string[] = [];
  const walk = (rel: string) => {
    for (const entry of readdirSync(join(projectDir, rel))) {
      const path = rel ? `${rel}/${entry}` : entry;
      if (skip(path)) continue;
      if (lstatSync(join(projectDir, path)).isDirectory()) walk(path);
      else paths.push(path);
    }
  };
  if (!inGit) walk('');
  else {
    for (const path of listed.stdout.split('\0')) {
      if (!path || skip(path)) continue;
      if (path.split('/').includes('..') || posix.isAbsolute(path)) throw new UserError(`${projectDir}: git lists ${JSON.stringify(path)}, outside the project`);
      let stat: Stats;
      try {
        stat = lstatSync(join(projectDir, path));
      } catch {
        continue; // Tracked but deleted in the work tree: a checkout of it would not have it either.
      }
      // A submodule is listed as one path: its files are the build's too.
      if (stat.isDirectory()) walk(path);
      else paths.push(path);
    }
  }
  return [...new Set(paths)].sort(compareStrings);
}

export interface SourceCopyOptions {
  /** Every entry's mtime: SOURCE_DATE_EPOCH, so `make` sees no file newer than another. */
  mtime: number;
  /** The build user, who owns the copy so the build can write into it. */
  uid: number;
  gid: number;
  /** Top-level names left out (the output directory, target/, the manifest). */
  excluded: string[];
  /**
   * The order entries are written (and so created when unpacked): `name` (default), or `reverse`,
   * every directory's entries in reverse name order, parents still first. On tmpfs a directory
   * lists its entries by creation order, so this is how `vary` changes what readdir returns.
   */
  order?: 'name' | 'reverse';
}

/** Paths in reverse name order within every directory, parents' order reversed too. */
function reverseTreeOrder(paths: string[]): string[] {
  const byComponents = (a: string, b: string) => {
    const x = a.split('/');
    const y = b.split('/');
    for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return -compareStrings(x[i], y[i]);
    return x.length - y.length;
  };
  return [...paths].sort(byComponents);
}

/**
 * Writes the project as a tar for an in-tree build: entries sorted by name, directories made for
 * every parent, every mtime the same, owned by the build user, modes normalized to 0755 for
 * directories and executables and 0644 otherwise (a checkout's modes depend on the cloner's umask),
 * symbolic links kept as links (never followed), special files refused. The copy depends only on
 * the files' content, their names and their executable bits.
 */
export function writeSourceCopyTar(projectDir: string, outPath: string, options: SourceCopyOptions): { files: number; size: number } {
  const sorted = sourceFiles(projectDir, options.excluded);
  const files = options.order === 'reverse' ? reverseTreeOrder(sorted) : sorted;
  const owner = { uid: options.uid, gid: options.gid };
  const fd = openSync(outPath, 'w', 0o600);
  try {
    const tar = new TarWriter(fd, options.mtime);
    const made = new Set<string>();
    const parents = (path: string) => {
      const parts = path.split('/');
      for (let i = 1; i < parts.length; i++) {
        const dir = parts.slice(0, i).join('/');
        if (made.has(dir)) continue;
        made.add(dir);
        tar.directory(dir, { mode: 0o755, ...owner });
      }
    };
    for (const path of files) {
      const full = join(projectDir, path);
      const stat = lstatSync(full);
      parents(path);
      if (stat.isSymbolicLink()) tar.symlink(path, readlinkSync(full), { mode: 0o777, ...owner });
      else if (stat.isFile()) tar.file(path, full, stat.size, { mode: stat.mode & 0o111 ? 0o755 : 0o644, ...owner });
      else throw new UserError(`${full}: device, socket or FIFO in the project: an in-tree build copies regular files, directories and links only`);
    }
    const { size } = tar.finish();
    return { files: files.length, size };
  } finally {
    closeSync(fd);
  }
}
