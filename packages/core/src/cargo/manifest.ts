import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, posix } from 'node:path';
import { UserError } from '../errors';
import { readTomlFile, string, table } from './toml-file';

/** What reprokit needs from one Cargo.toml, read as cargo reads it (a TOML parser, not lines). */
export interface CargoManifest {
  /** The directory holding the Cargo.toml, relative to the Nx workspace ('.' for its root). */
  dir: string;
  /** `[package] name`; undefined for a virtual manifest (a `[workspace]` with no package). */
  packageName?: string;
  /** `package.workspace`: the workspace root a package names explicitly, relative to `dir`. */
  workspacePath?: string;
  /** The binaries cargo builds for the package, explicit `[[bin]]` first, then discovered ones. */
  bins: string[];
  /**
   * Files and directories the package's build reads, relative to `dir`: `src/`, the build script
   * and `Cargo.toml`, plus explicit target and build script paths outside `src/`.
   */
  sources: string[];
  /** `[workspace]`, when this manifest is a workspace root. */
  workspace?: { members: string[]; exclude: string[]; pathDependencies: Record<string, string> };
  /**
   * Path dependencies (normal, build, dev and per-target), as directories relative to `dir`; a
   * `{ workspace = true }` dependency is listed by name in `inheritedDependencies` until the
   * workspace root resolves it.
   */
  pathDependencies: string[];
  inheritedDependencies: string[];
}

const DEPENDENCY_TABLES = ['dependencies', 'dev-dependencies', 'dev_dependencies', 'build-dependencies', 'build_dependencies'];

/** Reads `<workspaceRoot>/<dir>/Cargo.toml`; errors name the file and the key. */
export function readCargoManifest(workspaceRoot: string, dir: string): CargoManifest {
  const file = join(workspaceRoot, dir, 'Cargo.toml');
  const where = posix.join(dir, 'Cargo.toml');
  const toml = readTomlFile(file);
  const pkg = table(toml.package) ?? table(toml.project);
  const manifest: CargoManifest = { dir, bins: [], sources: ['src', 'build.rs', 'Cargo.toml'], pathDependencies: [], inheritedDependencies: [] };
  if (pkg) {
    const name = string(pkg.name);
    if (!name) throw new UserError(`${where}: package.name: a package needs a name (a string)`);
    if (!/^[A-Za-z0-9_-]+$/.test(name)) throw new UserError(`${where}: package.name: "${name}" is not a valid crate name`);
    manifest.packageName = name;
    if (pkg.workspace !== undefined) {
      const path = string(pkg.workspace);
      if (path === undefined) throw new UserError(`${where}: package.workspace: must be a path (a string)`);
      manifest.workspacePath = path;
    }
    manifest.bins = binaries(join(workspaceRoot, dir), toml, pkg, name, where);
    const explicit = [string(pkg.build), string(table(toml.lib)?.path), ...(Array.isArray(toml.bin) ? toml.bin.map((bin) => string(table(bin)?.path)) : [])];
    for (const path of explicit) {
      const clean = path === undefined ? undefined : posix.normalize(path);
      if (clean && !clean.startsWith('../') && !posix.isAbsolute(clean) && !clean.startsWith('src/') && !manifest.sources.includes(clean)) manifest.sources.push(clean);
    }
  }
  const workspace = table(toml.workspace);
  if (workspace) {
    const members = stringList(workspace.members, `${where}: workspace.members`);
    const exclude = stringList(workspace.exclude, `${where}: workspace.exclude`);
    const pathDependencies: Record<string, string> = {};
    for (const [name, spec] of Object.entries(table(workspace.dependencies) ?? {})) {
      const path = string(table(spec)?.path);
      if (path !== undefined) pathDependencies[name] = path;
    }
    manifest.workspace = { members, exclude, pathDependencies };
  }
  const dependencyTables = DEPENDENCY_TABLES.map((key) => table(toml[key]));
  for (const platform of Object.values(table(toml.target) ?? {})) {
    for (const key of DEPENDENCY_TABLES) dependencyTables.push(table(table(platform)?.[key]));
  }
  for (const deps of dependencyTables) {
    for (const [name, spec] of Object.entries(deps ?? {})) {
      const dep = table(spec);
      if (!dep) continue;
      const path = string(dep.path);
      if (path !== undefined) manifest.pathDependencies.push(path);
      else if (dep.workspace === true) manifest.inheritedDependencies.push(name);
    }
  }
  return manifest;
}

function stringList(value: unknown, where: string): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.some((item) => typeof item !== 'string')) throw new UserError(`${where}: must be a list of strings`);
  return value as string[];
}

/**
 * The package's binaries as cargo's target discovery finds them: `[[bin]]` entries, then (unless
 * `autobins = false`) `src/main.rs` named after the package and `src/bin/<name>.rs` /
 * `src/bin/<name>/main.rs`.
 */
function binaries(dir: string, toml: Record<string, unknown>, pkg: Record<string, unknown>, packageName: string, where: string): string[] {
  const bins: string[] = [];
  // Files explicit targets use: cargo infers no other binary from them.
  const taken = new Set<string>();
  const explicit = toml.bin === undefined ? [] : toml.bin;
  if (!Array.isArray(explicit)) throw new UserError(`${where}: bin: must be an array of tables ([[bin]])`);
  explicit.forEach((entry, index) => {
    const name = string(table(entry)?.name);
    if (!name || !/^[A-Za-z0-9][A-Za-z0-9._+-]*$/.test(name)) throw new UserError(`${where}: bin[${index}].name: a binary needs a valid name`);
    bins.push(name);
    const path = string(table(entry)?.path);
    if (path !== undefined) taken.add(posix.normalize(path));
    else if (name === packageName) taken.add('src/main.rs');
  });
  const lib = string(table(toml.lib)?.path);
  if (lib !== undefined) taken.add(posix.normalize(lib));
  if (pkg.autobins === false) return bins;
  const isFile = (path: string) => existsSync(join(dir, path)) && statSync(join(dir, path)).isFile();
  const infer = (name: string, path: string) => {
    if (!taken.has(path) && !bins.includes(name)) bins.push(name);
  };
  if (isFile('src/main.rs')) infer(packageName, 'src/main.rs');
  const binDir = join(dir, 'src', 'bin');
  if (existsSync(binDir) && statSync(binDir).isDirectory()) {
    for (const entry of readdirSync(binDir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (entry.isFile() && entry.name.endsWith('.rs')) infer(entry.name.slice(0, -3), `src/bin/${entry.name}`);
      else if (entry.isDirectory() && isFile(`src/bin/${entry.name}/main.rs`)) infer(entry.name, `src/bin/${entry.name}/main.rs`);
    }
  }
  return bins;
}
