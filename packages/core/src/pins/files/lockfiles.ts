import { posix } from 'node:path';
import type { RawFinding } from '../rules';

const NODE_LOCKFILES = ['package-lock.json', 'npm-shrinkwrap.json', 'yarn.lock', 'pnpm-lock.yaml', 'bun.lock', 'bun.lockb'];
const DEPENDENCY_KEYS = ['dependencies', 'devDependencies', 'optionalDependencies'];

/** What the lockfile rules need to know about the repository. */
export interface RepositoryFiles {
  /** True when the repository has this file (a `/`-separated path relative to its root). */
  has(path: string): boolean;
  /** The content of a file of the repository, or undefined. */
  read(path: string): string | undefined;
}

/** Directories from `dir` up to the repository root, nearest first. */
function selfAndAncestors(dir: string): string[] {
  const dirs = [dir];
  while (dir !== '.') {
    dir = posix.dirname(dir);
    dirs.push(dir);
  }
  return dirs;
}

const inDir = (dir: string, name: string) => (dir === '.' ? name : `${dir}/${name}`);

/**
 * A Cargo.toml needs a Cargo.lock beside it, or in the root of the workspace it belongs to (the
 * nearest ancestor whose Cargo.toml has a `[workspace]` table). Every Cargo project counts: without
 * a lockfile `cargo build --locked` cannot work.
 */
export function checkCargoManifest(path: string, text: string, files: RepositoryFiles): RawFinding[] {
  const dir = posix.dirname(path);
  if (files.has(inDir(dir, 'Cargo.lock'))) return [];
  // A vendored copy (cargo vendor's layout) is pinned by the lock of the package that vendors it.
  if (dir.split('/').includes('vendor') || files.has(inDir(dir, '.cargo-checksum.json'))) return [];
  for (const ancestor of selfAndAncestors(dir)) {
    const manifest = ancestor === dir ? text : files.read(inDir(ancestor, 'Cargo.toml'));
    // A path dependency of a locked package above it builds with that package's lock.
    if (ancestor !== dir && manifest !== undefined && files.has(inDir(ancestor, 'Cargo.lock'))) {
      const paths = [...manifest.matchAll(/\bpath\s*=\s*["']([^"']+)["']/g)].map((m) => posix.normalize(posix.join(ancestor, m[1])).replace(/\/$/, ''));
      if (paths.includes(dir)) return [];
    }
    if (manifest !== undefined && /^\s*\[workspace\]/m.test(manifest)) {
      if (files.has(inDir(ancestor, 'Cargo.lock'))) return [];
      const where = ancestor === dir ? '' : ` (nor does its workspace root ${inDir(ancestor, 'Cargo.toml')})`;
      return [{ rule: 'cargo-lockfile-missing', line: 1, column: 1, message: `${path} has no Cargo.lock${where}` }];
    }
  }
  return [{ rule: 'cargo-lockfile-missing', line: 1, column: 1, message: `${path} has no Cargo.lock` }];
}

/**
 * A package.json that declares dependencies needs a lockfile in its directory or above it (npm, yarn
 * and pnpm workspaces keep one at their root). A package.json without dependencies (`{"type":
 * "module"}` markers, tool configuration) installs nothing, so it needs none.
 */
export function checkPackageJson(path: string, text: string, files: RepositoryFiles): RawFinding[] {
  let manifest: unknown;
  try {
    manifest = JSON.parse(text);
  } catch {
    return [{ rule: 'pins-unparsable', line: 1, column: 1, message: `${path} is not valid JSON` }];
  }
  const record = (manifest ?? {}) as Record<string, unknown>;
  const declares = DEPENDENCY_KEYS.some((key) => Object.keys((record[key] as object | undefined) ?? {}).length > 0) || record.workspaces !== undefined;
  if (!declares) return [];
  for (const dir of selfAndAncestors(posix.dirname(path))) {
    if (NODE_LOCKFILES.some((name) => files.has(inDir(dir, name)))) return [];
  }
  return [{ rule: 'npm-lockfile-missing', line: 1, column: 1, message: `${path} declares dependencies but has no lockfile (${NODE_LOCKFILES.slice(0, 4).join(', ')}) here or above` }];
}
