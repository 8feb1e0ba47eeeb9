import { createNodesFromFiles, type CreateNodes, type CreateNodesResult } from '@nx/devkit';
import { BUILDER_ID_ENV, NODE_BUILDER_LOCK, npmPackFilename, readCargoModel } from '@reprokit/core';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, sep } from 'node:path';
import { cargoFacts } from './plugin/cargo-manifest';
import { declaredCommandTarget, type DeclaredCommandTarget } from './plugin/command-target';
import { inferTargets, MANIFEST_FILE, type InputDefinition, type ProjectFacts, type ReprokitPluginOptions } from './plugin/targets';

export type { ReprokitPluginOptions } from './plugin/targets';

/**
 * reprokit's own code as a cache input. Nx hashes an installed plugin by its version
 * (externalDependencies); a plugin that is part of the workspace, linked by npm workspaces (as in
 * reprokit's own repository), is hashed by its sources, which Nx would not do by itself. The
 * lockfile tells which is which, as it does for Nx's own external nodes.
 */
export function reprokitInputs(workspaceRoot: string): InputDefinition[] {
  let packages: Record<string, { link?: boolean; resolved?: string }> = {};
  try {
    packages = JSON.parse(readFileSync(join(workspaceRoot, 'package-lock.json'), 'utf8')).packages ?? {};
  } catch {
    // No npm lockfile: treat reprokit as installed.
  }
  const local: string[] = [];
  const installed: string[] = [];
  for (const pkg of ['@reprokit/core', '@reprokit/nx']) {
    const entry = packages[`node_modules/${pkg}`];
    if (!entry?.link || !entry.resolved) {
      installed.push(pkg);
      continue;
    }
    const rel = entry.resolved;
    local.push(`{workspaceRoot}/${rel}/package.json`, `{workspaceRoot}/${rel}/src/**/*`, `!{workspaceRoot}/${rel}/src/**/*.spec.ts`);
    // arch/: the makepkg.conf and scripts every arch build runs.
    for (const dir of ['schema', 'validators', 'arch']) {
      if (existsSync(join(workspaceRoot, rel, dir))) local.push(`{workspaceRoot}/${rel}/${dir}/**/*`);
    }
    if (existsSync(join(workspaceRoot, rel, 'executors.json'))) local.push(`{workspaceRoot}/${rel}/executors.json`);
  }
  // A local reprokit's own dependencies are external nodes; an installed reprokit brings its own.
  const external = local.length ? ['ajv', 'dockerode', '@noble/hashes', 'fzstd', 'smol-toml', ...installed] : installed;
  // Every build writes the builder's identity into its provenance: a cache entry made by one builder
  // must not be restored for another (an independent rebuilder sets its own id).
  return [...local, { externalDependencies: external }, { env: BUILDER_ID_ENV }];
}

/** reprokit's executors that build artifacts a manifest records. */
const BUILD_EXECUTORS = new Set(['@reprokit/nx:elf', '@reprokit/nx:oci', '@reprokit/nx:arch', '@reprokit/nx:npm']);

/**
 * A project's npm package, when it is one to pack: a package.json that is not private, with a name
 * and a version, beside a manifest. Anything unreadable is no package here (the npm target reports
 * a broken package.json itself when it runs).
 */
function npmPackage(dir: string, workspaceRoot: string, hasManifest: boolean): ProjectFacts['npmPackage'] {
  if (!hasManifest) return undefined;
  let pkg: { name?: unknown; version?: unknown; private?: unknown };
  try {
    pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  } catch {
    return undefined;
  }
  if (!pkg || pkg.private === true || typeof pkg.name !== 'string' || typeof pkg.version !== 'string') return undefined;
  const lock = relative(workspaceRoot, NODE_BUILDER_LOCK);
  return { filename: npmPackFilename(pkg.name, pkg.version), defaultEnvLock: lock.startsWith('..') || isAbsolute(lock) ? undefined : lock.split(sep).join('/') };
}

type DeclaredTargets = Record<string, { executor?: string; inputs?: InputDefinition[]; options?: Record<string, unknown> }>;

/** The targets of a project's project.json (none when it has none). */
function declaredTargets(dir: string): DeclaredTargets {
  const path = join(dir, 'project.json');
  if (!existsSync(path)) return {};
  try {
    return (JSON.parse(readFileSync(path, 'utf8')).targets ?? {}) as DeclaredTargets;
  } catch {
    return {}; // Nx reports a broken project.json itself.
  }
}

/** Targets a project.json declares with a reprokit build executor: what its reproduce depends on. */
function declaredBuildTargets(targets: DeclaredTargets): string[] {
  return Object.keys(targets).filter((name) => BUILD_EXECUTORS.has(targets[name].executor ?? ''));
}

/** Declared elf targets with a `command` and a `binary`: the plugin completes their inputs and outputs. */
function declaredCommandTargets(targets: DeclaredTargets): DeclaredCommandTarget[] {
  return Object.entries(targets).flatMap(([name, target]) => declaredCommandTarget(name, target) ?? []);
}

/** The files a project directory can have, in the order that decides which one reports it. */
const PROJECT_FILES = ['project.json', 'package.json', 'Cargo.toml', 'PKGBUILD', MANIFEST_FILE];

/**
 * Infers reprokit's targets: `pins` for every project, `elf` for a Cargo project, `arch` for a
 * project with a PKGBUILD, `checksum` and
 * `reproduce` for a project that builds artifacts or has a committed repro-manifest.json.
 */
export const createNodes: CreateNodes<ReprokitPluginOptions> = [
  `**/{${PROJECT_FILES.join(',')}}`,
  async (files, options, context) => {
    const inputs = reprokitInputs(context.workspaceRoot);
    // All Cargo.toml files at once: workspaces, members, path dependencies and vendored copies are
    // facts about several manifests together.
    const cargoModel = readCargoModel(context.workspaceRoot, files.filter((file) => file === 'Cargo.toml' || file.endsWith('/Cargo.toml')));
    return createNodesFromFiles(
      (file, opts): CreateNodesResult => {
        const root = dirname(file);
        const dir = join(context.workspaceRoot, root);
        const has = (name: string) => existsSync(join(dir, name));
        // One result per project directory: from the first of its files in PROJECT_FILES' order.
        const own = file.slice(root === '.' ? 0 : root.length + 1);
        if (PROJECT_FILES.slice(0, PROJECT_FILES.indexOf(own)).some(has)) return {};
        // A vendored crate is a copy of someone else's package, never a project (its package.json too).
        if (cargoModel.vendored.has(root)) return {};
        // A project is a directory Nx already knows (project.json or package.json) or a Cargo package;
        // a library crate is a project (a node path dependencies point at) without an elf target.
        const named = has('project.json') || has('package.json');
        const cargo = cargoFacts(cargoModel, root);
        if (!cargo && !named) return {};
        const declared = declaredTargets(dir);
        const facts = {
          root,
          cargoBinary: cargo?.binary,
          cargo,
          hasManifest: has(MANIFEST_FILE),
          hasDockerfile: has('Dockerfile'),
          hasPkgbuild: has('PKGBUILD'),
          npmPackage: has('package.json') ? npmPackage(dir, context.workspaceRoot, has(MANIFEST_FILE)) : undefined,
          declaredBuildTargets: declaredBuildTargets(declared),
          declaredCommandTargets: declaredCommandTargets(declared),
          isWorkspaceRoot: root === '.',
          // What their vary target is cached on, besides what the plugin infers for them.
          declaredBuildInputs: declaredBuildTargets(declared).map((name) => declared[name].inputs),
        };
        const targets = inferTargets(facts, opts ?? {}, inputs);
        // A bare Cargo package is a project of its own, named after its binary (a library after its package).
        return { projects: { [root]: named ? { targets } : { name: cargo!.binary ?? cargo!.package, targets } } };
      },
      files,
      options ?? {},
      context,
    );
  },
];

/** @deprecated Nx 24 calls `createNodes`; kept for Nx versions that look for the old name. */
export const createNodesV2 = createNodes;

/** Cargo path dependencies as project graph edges (plugin/cargo-dependencies.ts). */
export { createCargoDependencies as createDependencies } from './plugin/cargo-dependencies';
