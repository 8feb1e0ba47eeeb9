import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join, posix } from 'node:path';
import { UserError } from '../../errors';
import { resolveInside } from '../../fs/contained-path';
import { compareStrings } from '../../manifest/manifest';
import { globToRegExp } from '../../pins/glob';
import { imagePath, type LayerEntry } from '../layer';
import type { Owner } from './dockerfile';
import { componentRegExp, hasWildcard } from './wildcard';

interface IgnoreRule {
  pattern: RegExp;
  negated: boolean;
}

/**
 * The build context: a directory and its `.dockerignore`. Patterns are relative to the context
 * root (`*.md` is only the root's, `**∕*.md` any depth), `!` re-includes, the last match wins, and
 * an excluded directory excludes everything below it.
 */
export class BuildContext {
  private readonly rules: IgnoreRule[];

  constructor(readonly dir: string) {
    const ignoreFile = join(dir, '.dockerignore');
    const lines = existsSync(ignoreFile) ? readFileSync(ignoreFile, 'utf8').split('\n') : [];
    this.rules = lines
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('#'))
      .map((line) => {
        const negated = line.startsWith('!');
        const glob = posix.normalize(negated ? line.slice(1).trim() : line).replace(/^\/+|\/+$/g, '');
        return { pattern: globToRegExp('/' + glob), negated };
      });
  }

  isIgnored(relativePath: string): boolean {
    const parts = relativePath.split('/');
    let ignored = false;
    // A path is excluded when it or one of its directories matches (last rule wins at each level).
    for (let depth = 1; depth <= parts.length; depth++) {
      const prefix = parts.slice(0, depth).join('/');
      for (const rule of this.rules) if (rule.pattern.test(prefix)) ignored = !rule.negated;
    }
    return ignored;
  }

  /**
   * The context paths a COPY source names: itself, or what its wildcards match (component by
   * component, as docker build matches them), sorted, never what .dockerignore excludes.
   */
  match(source: string, where: string): string[] {
    const relativeSource = posix.normalize(source).replace(/^\/+|\/+$/g, '') || '.';
    if (!hasWildcard(relativeSource)) return [relativeSource];
    if (relativeSource === '..' || relativeSource.startsWith('../')) throw new UserError(`${where}: COPY ${source}: outside the build context ${this.dir}`);
    let found = [''];
    for (const part of relativeSource.split('/')) {
      const next: string[] = [];
      for (const base of found) {
        const dir = join(this.dir, base);
        if (!hasWildcard(part)) {
          const path = base ? `${base}/${part}` : part;
          if (existsSync(join(this.dir, path)) && !this.isIgnored(path)) next.push(path);
          continue;
        }
        if (!existsSync(dir) || !lstatSync(dir).isDirectory()) continue;
        const pattern = componentRegExp(part);
        for (const name of readdirSync(dir).sort(compareStrings)) {
          const path = base ? `${base}/${name}` : name;
          if (pattern.test(name) && !this.isIgnored(path)) next.push(path);
        }
      }
      found = next;
    }
    if (found.length === 0) throw new UserError(`${where}: COPY ${source}: no file of the build context ${this.dir} matches`);
    return found;
  }

  /**
   * The entries `COPY <source> <dest>` adds: a file to `dest` (or into it when `dest` ends in `/`),
   * a directory's contents into `dest`. Owners are `--chown` or 0:0; modes are `--chmod`, else
   * 0755 for directories and executable files and 0644 for the rest. Modes are normalized because a
   * git checkout's depend on the umask of whoever cloned it, and the image must not.
   */
  copyEntries(source: string, dest: string, owner: Owner | undefined, chmod: number | undefined, where: string): LayerEntry[] {
    const relativeSource = posix.normalize(source).replace(/^\/+|\/+$/g, '') || '.';
    if (relativeSource === '..' || relativeSource.startsWith('../')) throw new UserError(`${where}: COPY ${source}: outside the build context ${this.dir}`);
    // A directory on the way that is a symlink (`COPY link/passwd`, link -> /etc) must not reach the host.
    const absolute = relativeSource === '.' ? this.dir : resolveInside(this.dir, relativeSource, `${where}: COPY ${source}`, { allowFinalSymlink: true });
    if (!existsSync(absolute) || (relativeSource !== '.' && this.isIgnored(relativeSource))) {
      throw new UserError(`${where}: COPY ${source}: not found in the build context ${this.dir}${existsSync(absolute) ? ' (excluded by .dockerignore)' : ''}`);
    }
    const { uid, gid } = owner ?? { uid: 0, gid: 0 };
    const entryFor = (path: string, name: string): LayerEntry => {
      const stat = lstatSync(path);
      if (stat.isSymbolicLink()) return { name, type: 'symlink', target: readlinkSync(path), mode: 0o777, uid, gid };
      if (stat.isDirectory()) return { name, type: 'directory', mode: chmod ?? 0o755, uid, gid };
      if (!stat.isFile()) throw new UserError(`${where}: COPY ${source}: ${path} is not a file, directory or symlink`);
      return { name, type: 'file', path, size: stat.size, mode: chmod ?? (stat.mode & 0o100 ? 0o755 : 0o644), uid, gid };
    };
    const stat = lstatSync(absolute);
    if (!stat.isDirectory()) {
      const target = dest.endsWith('/') ? posix.join(dest, posix.basename(relativeSource)) : dest;
      return [entryFor(absolute, imagePath(target))];
    }
    const entries: LayerEntry[] = [];
    const walk = (dir: string, relative: string) => {
      for (const name of readdirSync(dir).sort(compareStrings)) {
        const childRelative = relative === '.' ? name : `${relative}/${name}`;
        if (this.isIgnored(childRelative)) continue;
        const child = join(dir, name);
        const inside = relativeSource === '.' ? childRelative : childRelative.slice(relativeSource.length + 1);
        const entry = entryFor(child, imagePath(posix.join(dest, inside)));
        entries.push(entry);
        if (entry.type === 'directory') walk(child, childRelative);
      }
    };
    walk(absolute, relativeSource);
    return entries;
  }
}
