import { ancestors, type CargoModel, configsFrom, packagesOfBuildRoot, pathDependencyClosure } from '@reprokit/core';
import type { InputDefinition } from './targets';

/** What the elf target of one Cargo package needs: what to build, where, and every file cargo reads for it. */
export interface CargoFacts {
  /** The binary the elf target builds (the first one cargo finds); undefined for a library crate. */
  binary?: string;
  package: string;
  /** The Cargo workspace root, relative to the Nx workspace; the project's own root when it is not in a workspace. */
  buildRoot: string;
  /** Input patterns for everything cargo reads besides the project's own `{projectRoot}` files. */
  inputs: InputDefinition[];
}

const MANIFEST_FILE = 'repro-manifest.json';

/** `{workspaceRoot}/<dir>/<rest>` without a `./` for the root. */
function at(dir: string, rest: string): string {
  return dir === '.' ? `{workspaceRoot}/${rest}` : `{workspaceRoot}/${dir}/${rest}`;
}

/** Files in a build root and its ancestors that cargo and rustup read when run there (listed whether they exist or not: adding one changes the build). */
const CONTEXT_FILES = ['.cargo/config.toml', '.cargo/config', 'rust-toolchain.toml', 'rust-toolchain'];

/**
 * The facts of the Cargo package at `dir`, or undefined when cargo would not build it there
 * (no package, or a vendored copy).
 */
export function cargoFacts(model: CargoModel, dir: string): CargoFacts | undefined {
  const pkg = model.packages.get(dir);
  if (!pkg) return undefined;
  const inputs: InputDefinition[] = [];
  const excluded: string[] = [];
  // The package and every path dependency, sources and all (include_str!, build.rs, …), without
  // what builds write there.
  const closure = pathDependencyClosure(model, dir);
  for (const crate of closure) {
    if (crate !== dir) inputs.push(at(crate, '**/*'));
  }
  const withOutputs = new Set([pkg.buildRoot]);
  for (const crate of closure) {
    for (const other of model.packages.keys()) if (other === crate || other.startsWith(crate === '.' ? '' : crate + '/')) withOutputs.add(other);
  }
  for (const other of [...withOutputs].sort()) {
    excluded.push(`!${at(other, 'target/**/*')}`, `!${at(other, 'dist/**/*')}`, `!${at(other, MANIFEST_FILE)}`);
  }
  // Every Cargo.toml cargo loads: the member's way up to the root, and every member of the workspace.
  const manifests = new Set<string>();
  for (const a of ancestors(dir)) {
    manifests.add(at(a, 'Cargo.toml'));
    if (a === pkg.buildRoot) break;
  }
  for (const member of packagesOfBuildRoot(model, pkg.buildRoot)) manifests.add(at(member.dir, 'Cargo.toml'));
  inputs.push(...[...manifests].filter((m) => m !== at(dir, 'Cargo.toml')), at(pkg.buildRoot, 'Cargo.lock'));
  for (const a of ancestors(pkg.buildRoot)) for (const file of CONTEXT_FILES) inputs.push(at(a, file));
  // Vendored sources a source replacement points at.
  for (const source of configsFrom(model, pkg.buildRoot).sourceDirectories) inputs.push(at(source, '**/*'));
  return { binary: pkg.bins[0], package: pkg.name, buildRoot: pkg.buildRoot, inputs: [...new Set(inputs), ...excluded] };
}
