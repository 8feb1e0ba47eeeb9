import { ancestors, type CargoModel, configsFrom, packagesOfBuildRoot, pathDependencyClosure } from '@reprokit/core';
import { posix } from 'node:path';
import type { InputDefinition } from './targets';

/** What the elf target of one Cargo package needs: what to build, where, and every file cargo reads for it. */
export interface CargoFacts {
  /** The binary the elf target builds (the first one cargo finds); undefined for a library crate. */
  binary?: string;
  package: string;
  /** The Cargo workspace root, relative to the Nx workspace; the project's own root when it is not in a workspace. */
  buildRoot: string;
  /** Input patterns, relative to the workspace root, for everything cargo reads to build the package. */
  inputs: InputDefinition[];
}

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
  // The package and every path dependency: src/, build scripts, manifests; a target or build
  // script outside src/ with the directory it is in (its `mod`s live there).
  for (const crate of pathDependencyClosure(model, dir)) {
    for (const source of model.packages.get(crate)!.sources) {
      const parent = posix.dirname(source);
      inputs.push(at(crate, source === 'src' ? 'src/**/*' : parent === '.' ? source : `${parent}/**/*`));
    }
    // What its sources include at compile time, wherever it lies (`include_str!("../README.md")`).
    for (const file of model.packages.get(crate)!.includes) inputs.push(at('.', file));
  }
  // Every Cargo.toml cargo loads: the member's way up to the root, and every member of the workspace.
  const manifests = new Set<string>();
  for (const a of ancestors(dir)) {
    manifests.add(at(a, 'Cargo.toml'));
    if (a === pkg.buildRoot) break;
  }
  for (const member of packagesOfBuildRoot(model, pkg.buildRoot)) manifests.add(at(member.dir, 'Cargo.toml'));
  inputs.push(...manifests, at(pkg.buildRoot, 'Cargo.lock'));
  for (const a of ancestors(pkg.buildRoot)) for (const file of CONTEXT_FILES) inputs.push(at(a, file));
  // Vendored sources a source replacement points at.
  for (const source of configsFrom(model, pkg.buildRoot).sourceDirectories) inputs.push(at(source, '**/*'));
  return { binary: pkg.bins[0], package: pkg.name, buildRoot: pkg.buildRoot, inputs: [...new Set(inputs)] };
}
