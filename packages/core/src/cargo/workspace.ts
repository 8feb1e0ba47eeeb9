import { existsSync, lstatSync } from 'node:fs';
import { join, posix } from 'node:path';
import { includedFiles } from './included-files';
import { type CargoManifest, readCargoManifest } from './manifest';
import { readTomlFile, string, table } from './toml-file';

/** A package as cargo sees it inside an Nx workspace. Directories are relative to the Nx workspace root. */
export interface CargoPackage {
  dir: string;
  name: string;
  bins: string[];
  /** What its build reads, relative to `dir` (CargoManifest.sources). */
  sources: string[];
  /** Files its sources include at compile time (`include_str!` …), relative to the workspace root. */
  includes: string[];
  /** The Cargo workspace root cargo finds for it: where it builds, beside the shared Cargo.lock. */
  buildRoot: string;
  /** Direct path dependencies inside the Nx workspace (workspace-inherited ones resolved). */
  pathDependencies: string[];
}

export interface CargoModel {
  /** Packages by directory; vendored crates are not among them. */
  packages: Map<string, CargoPackage>;
  /** Directories of manifests left out as vendored (a `vendor/` directory, `.cargo-checksum.json`, or below a source replacement). */
  vendored: Set<string>;
  /** `.cargo/config.toml` (or legacy `.cargo/config`) files, by the directory holding `.cargo/`. */
  configs: Map<string, CargoConfig>;
}

export interface CargoConfig {
  /** The config files that exist, relative to the Nx workspace root. */
  files: string[];
  /** Directories that `[source.*] directory` / `local-registry` replacements point at, relative to the Nx workspace root. */
  sourceDirectories: string[];
}

/** The directory and its ancestors up to the Nx workspace root ('.'), nearest first. */
export function ancestors(dir: string): string[] {
  const dirs = [dir];
  while (dir !== '.') {
    dir = posix.dirname(dir);
    dirs.push(dir);
  }
  return dirs;
}

/** `a/b` joined with a relative path from a manifest, normalized; undefined when it leaves the Nx workspace. */
function resolveDir(from: string, path: string): string | undefined {
  if (posix.isAbsolute(path)) return undefined;
  const dir = posix.normalize(posix.join(from, path)).replace(/\/$/, '');
  return dir === '..' || dir.startsWith('../') ? undefined : dir || '.';
}

function isInside(dir: string, root: string): boolean {
  return root === '.' || dir === root || dir.startsWith(root + '/');
}

/** Cargo's `workspace.members` globs (the glob crate: `*`, `?`, `[...]`, `**`), matched against a relative directory. */
export function memberGlob(pattern: string): RegExp {
  let source = '';
  const clean = posix.normalize(pattern).replace(/\/$/, '');
  for (let i = 0; i < clean.length; i++) {
    const c = clean[i];
    if (c === '*' && clean[i + 1] === '*') {
      source += '.*';
      i++;
    } else if (c === '*') source += '[^/]*';
    else if (c === '?') source += '[^/]';
    else if (c === '[') {
      const end = clean.indexOf(']', i + 2);
      if (end < 0) source += '\\[';
      else {
        const body = clean.slice(i + 1, end);
        source += `[${body.startsWith('!') ? '^' + body.slice(1) : body}]`.replace(/\\/g, '\\\\');
        i = end;
      }
    } else source += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

/**
 * Reads every Cargo.toml Nx lists (paths relative to the workspace root) and works out what cargo
 * would: which manifests are vendored copies (never projects), each package's workspace root and
 * its path dependencies. Manifests are read lazily-free: vendored ones are not parsed at all, so a
 * broken vendored manifest cannot break the graph.
 */
export function readCargoModel(workspaceRoot: string, manifestFiles: string[]): CargoModel {
  const configs = new Map<string, CargoConfig>();
  const configAt = (dir: string): CargoConfig | undefined => {
    if (configs.has(dir)) return configs.get(dir);
    const files: string[] = [];
    const sourceDirectories: string[] = [];
    // Cargo reads `.cargo/config` when there is no `.cargo/config.toml` beside it.
    for (const name of ['config.toml', 'config']) {
      const rel = posix.join(dir, '.cargo', name);
      const abs = join(workspaceRoot, rel);
      if (!existsSync(abs) || !lstatSync(abs).isFile()) continue;
      files.push(rel);
      if (files.length > 1) continue;
      for (const source of Object.values(table(readTomlFile(abs).source) ?? {})) {
        for (const key of ['directory', 'local-registry']) {
          const path = string(table(source)?.[key]);
          const resolved = path === undefined ? undefined : resolveDir(dir, path);
          if (resolved) sourceDirectories.push(resolved);
        }
      }
    }
    const config = files.length ? { files, sourceDirectories } : undefined;
    if (config) configs.set(dir, config);
    return config;
  };
  const dirs = manifestFiles.map((file) => posix.dirname(file)).sort();
  for (const dir of dirs) for (const a of ancestors(dir)) configAt(a);
  const replaced = [...configs.values()].flatMap((config) => config.sourceDirectories);
  const vendored = new Set<string>();
  const manifests = new Map<string, CargoManifest>();
  for (const dir of dirs) {
    const isVendored =
      dir.split('/').includes('vendor') || existsSync(join(workspaceRoot, dir, '.cargo-checksum.json')) || replaced.some((source) => isInside(dir, source));
    if (isVendored) vendored.add(dir);
    else manifests.set(dir, readCargoManifest(workspaceRoot, dir));
  }

  // Workspace roots and their members: the globs, the root package, then (transitively) path
  // dependencies inside the root directory, as cargo adds them; `exclude` wins over all three.
  const members = new Map<string, Set<string>>();
  const directPaths = (manifest: CargoManifest, root: string | undefined): string[] => {
    const inherited = root ? manifests.get(root)?.workspace?.pathDependencies ?? {} : {};
    const paths = manifest.pathDependencies.map((path) => resolveDir(manifest.dir, path));
    for (const name of manifest.inheritedDependencies) {
      if (inherited[name] !== undefined) paths.push(resolveDir(root!, inherited[name]));
    }
    return [...new Set(paths.filter((dir): dir is string => dir !== undefined && manifests.has(dir)))];
  };
  for (const [root, manifest] of manifests) {
    if (!manifest.workspace) continue;
    const excluded = (dir: string) => manifest.workspace!.exclude.some((path) => {
      const ex = resolveDir(root, path);
      return ex !== undefined && isInside(dir, ex);
    });
    const globs = manifest.workspace.members.map(memberGlob);
    const set = new Set<string>();
    if (manifest.packageName) set.add(root);
    for (const dir of manifests.keys()) {
      if (dir === root || !isInside(dir, root) || excluded(dir)) continue;
      const rel = root === '.' ? dir : dir.slice(root.length + 1);
      if (globs.some((glob) => glob.test(rel))) set.add(dir);
    }
    const queue = [...set];
    while (queue.length) {
      for (const dep of directPaths(manifests.get(queue.shift()!)!, root)) {
        if (!set.has(dep) && isInside(dep, root) && !excluded(dep)) {
          set.add(dep);
          queue.push(dep);
        }
      }
    }
    members.set(root, set);
  }

  const packages = new Map<string, CargoPackage>();
  for (const [dir, manifest] of manifests) {
    if (!manifest.packageName) continue;
    let buildRoot = dir;
    const explicit = manifest.workspacePath === undefined ? undefined : resolveDir(dir, manifest.workspacePath);
    if (explicit !== undefined) buildRoot = explicit;
    else {
      // The nearest manifest with [workspace] above (or at) the package; cargo treats a package
      // that such a root does not list (nor excludes) as an error, reprokit as its own root.
      const root = ancestors(dir).find((a) => manifests.get(a)?.workspace);
      if (root !== undefined && members.get(root)?.has(dir)) buildRoot = root;
    }
    packages.set(dir, { dir, name: manifest.packageName, bins: manifest.bins, sources: manifest.sources, includes: includedFiles(workspaceRoot, dir, manifest.sources), buildRoot, pathDependencies: directPaths(manifest, buildRoot) });
  }
  return { packages, vendored, configs };
}

/** The package and every package it reaches through path dependencies, itself first. */
export function pathDependencyClosure(model: CargoModel, dir: string): string[] {
  const seen = [dir];
  for (let i = 0; i < seen.length; i++) {
    for (const dep of model.packages.get(seen[i])?.pathDependencies ?? []) if (!seen.includes(dep)) seen.push(dep);
  }
  return seen;
}

/** The workspace members sharing a build root (its Cargo.lock). */
export function packagesOfBuildRoot(model: CargoModel, buildRoot: string): CargoPackage[] {
  return [...model.packages.values()].filter((pkg) => pkg.buildRoot === buildRoot);
}

/** The config files and replaced-source directories cargo reads when it runs in `dir`: from there up to the Nx workspace root. */
export function configsFrom(model: CargoModel, dir: string): CargoConfig {
  const files: string[] = [];
  const sourceDirectories: string[] = [];
  for (const a of ancestors(dir)) {
    const config = model.configs.get(a);
    if (!config) continue;
    files.push(...config.files);
    sourceDirectories.push(...config.sourceDirectories);
  }
  return { files, sourceDirectories };
}
