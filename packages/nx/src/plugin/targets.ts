import type { TargetConfiguration } from '@nx/devkit';
import type { ArchExecutorSchema } from '../executors/arch/schema';
import type { ElfExecutorSchema } from '../executors/elf/schema';
import type { NpmExecutorSchema } from '../executors/npm/schema';
import type { OciExecutorSchema } from '../executors/oci/schema';
import type { CargoFacts } from './cargo-manifest';
import { commandElfTarget, type DeclaredCommandTarget } from './command-target';
import { recordOutputs } from './record-outputs';

/** Options of the plugin entry in nx.json: target names, and defaults for every inferred elf target. */
export interface ReprokitPluginOptions {
  elfTargetName?: string;
  checksumTargetName?: string;
  reproduceTargetName?: string;
  pinsTargetName?: string;
  ociTargetName?: string;
  archTargetName?: string;
  reportTargetName?: string;
  publishedTargetName?: string;
  varyTargetName?: string;
  npmTargetName?: string;
  envCheckTargetName?: string;
  /** Options every inferred elf target starts from (e.g. the workspace's pinned builder image). */
  elf?: Partial<ElfExecutorSchema>;
  /** Options every inferred oci target starts from (e.g. the environment locks of its FROM images). */
  oci?: Partial<OciExecutorSchema>;
  /** Options every inferred npm target starts from (e.g. the pinned node-builder image and its lock). */
  npm?: Partial<NpmExecutorSchema>;
  /** Options every inferred arch target starts from (e.g. the pinned arch-builder image). */
  arch?: Partial<ArchExecutorSchema>;
  /** Options every elf target declared with a `command` (make, …) starts from (e.g. the pinned c-builder image). */
  elfCommand?: Partial<ElfExecutorSchema>;
  /**
   * Registries (`host[:port][/path]`) that hold the workspace's pinned builder and base images:
   * a build whose pin docker lacks pulls it from them before building it from its lock. Read by
   * @reprokit/core from nx.json itself (imageRegistries in core's env/), not passed to executors.
   */
  imageRegistries?: string[];
  /**
   * Registries holding package vaults (`reprokit env vault push`): builds of an environment from its
   * lock take the locked .debs from them after the cache and before apt. Read by @reprokit/core from
   * nx.json itself (debVaults in core's env/registry/), as imageRegistries.
   */
  debVaults?: string[];
}

export type InputDefinition = NonNullable<TargetConfiguration['inputs']>[number];

export const MANIFEST_FILE = 'repro-manifest.json';
export const OUTPUT_DIR = 'dist';

/** Which files a project directory has that reprokit infers targets from. */
export interface ProjectFacts {
  root: string;
  /** From Cargo.toml, when the project builds a Rust binary. */
  cargoBinary?: string;
  /** Where the Cargo package builds (its workspace root) and what else cargo reads for it. */
  cargo?: CargoFacts;
  hasManifest: boolean;
  /** The project has a Dockerfile: it builds an OCI image. */
  hasDockerfile?: boolean;
  /** The project has a PKGBUILD: an Arch Linux package. */
  hasPkgbuild?: boolean;
  /** Build targets the project declares itself (project.json targets using a reprokit build executor). */
  declaredBuildTargets?: string[];
  /** Of those, the elf targets with a `command`: the plugin completes them (defaults, inputs, outputs). */
  declaredCommandTargets?: DeclaredCommandTarget[];
  /**
   * A package.json that is not private, in a project with a manifest: npm pack's file name for it,
   * and the shipped node-builder lock relative to the workspace when it lies inside it (an input).
   */
  npmPackage?: { filename: string; defaultEnvLock?: string };
  /** The project at the workspace root: it gets the workspace-wide `report`. */
  isWorkspaceRoot?: boolean;
  /**
   * The inputs project.json declares for those targets; `undefined` for a target that declares
   * none (then every file of the project counts).
   */
  declaredBuildInputs?: (InputDefinition[] | undefined)[];
}

/** Where the inferred report target writes the page, the Markdown summary and the JSON. */
export const REPORT_DIR = 'dist/reprokit-report';

/** Where the pin policy lives, an input of every pins target. */
export const PINS_POLICY_FILE = 'reprokit.pins.json';

/**
 * The targets reprokit infers for one project: a pure function of the project's files, the plugin
 * options and where reprokit's own code lives (`reprokitInputs`), so it is cheap and testable.
 */
export function inferTargets(facts: ProjectFacts, options: ReprokitPluginOptions, reprokitInputs: InputDefinition[]): Record<string, TargetConfiguration> {
  const names = {
    elf: options.elfTargetName ?? 'elf',
    checksum: options.checksumTargetName ?? 'checksum',
    reproduce: options.reproduceTargetName ?? 'reproduce',
    pins: options.pinsTargetName ?? 'pins',
    oci: options.ociTargetName ?? 'oci',
    arch: options.archTargetName ?? 'arch',
    report: options.reportTargetName ?? 'report',
    published: options.publishedTargetName ?? 'published',
    vary: options.varyTargetName ?? 'vary',
    npm: options.npmTargetName ?? 'npm',
    envCheck: options.envCheckTargetName ?? 'env-check',
  };
  // Every project gets the pin policy gate: `nx run-many -t pins` / `nx affected -t pins`.
  const targets: Record<string, TargetConfiguration> = {
    [names.pins]: {
      executor: '@reprokit/nx:pins',
      cache: true,
      inputs: ['{projectRoot}/**/*', `{workspaceRoot}/${PINS_POLICY_FILE}`, ...reprokitInputs],
      // The report file, when asked for one, so that a cache hit restores it too.
      outputs: ['{options.outputFile}'],
      metadata: {
        description: 'Find inputs not pinned by content hash: unpinned images and actions, unlocked builds, unverified sources',
        technologies: ['reprokit'],
      },
    },
  };
  const buildTargets: string[] = [...(facts.declaredBuildTargets ?? [])];
  if (facts.cargoBinary && !buildTargets.includes(names.elf)) {
    buildTargets.push(names.elf);
    targets[names.elf] = elfTarget(facts.root, facts.cargoBinary, options.elf ?? {}, reprokitInputs, facts.cargo);
  }
  for (const declared of facts.declaredCommandTargets ?? []) {
    targets[declared.name] = commandElfTarget(facts.root, declared, options.elfCommand ?? {}, reprokitInputs);
  }
  // Always inferred, also when project.json declares the target: that declaration only adds options
  // (a registry to push to, a repository name) to the inferred inputs and outputs.
  if (facts.hasDockerfile) {
    if (!buildTargets.includes(names.oci)) buildTargets.push(names.oci);
    targets[names.oci] = ociTarget(facts.root, options.oci ?? {}, reprokitInputs);
  }
  if (facts.hasPkgbuild) {
    if (!buildTargets.includes(names.arch)) buildTargets.push(names.arch);
    targets[names.arch] = archTarget(facts.root, options.arch ?? {}, reprokitInputs);
  }
  if (facts.npmPackage) {
    if (!buildTargets.includes(names.npm)) buildTargets.push(names.npm);
    targets[names.npm] = npmTarget(facts.root, facts.npmPackage, options.npm ?? {}, reprokitInputs);
  }
  // A project that builds artifacts gets checksum and reproduce before it has a manifest: they say
  // how to record the first one (`checksum --update`).
  if (facts.hasManifest || buildTargets.length) {
    targets[names.checksum] = {
      executor: '@reprokit/nx:checksum',
      dependsOn: buildTargets,
      cache: false,
      metadata: {
        description: `Verify ${OUTPUT_DIR}/ against ${MANIFEST_FILE} (record it with --update)`,
        technologies: ['reprokit'],
      },
    };
    targets[names.reproduce] = {
      // The CLI, run as a command: Nx runs nx:run-commands without forking a process for an executor
      // (~0.4 s of Nx start-up), and reproduce runs on every invocation, since it is never cached:
      // whatever the builds restored from the cache is hashed again. The reproduce executor does the
      // same for targets written by hand.
      executor: 'nx:run-commands',
      dependsOn: buildTargets,
      cache: false,
      options: {
        command: `reprokit reproduce {projectRoot}/${MANIFEST_FILE} --record-command 'npx nx run {projectName}:${names.checksum} --update'`,
      },
      metadata: {
        description: 'Rebuild every artifact, verify it against the committed manifest, print the paper trail',
        technologies: ['reprokit'],
      },
    };
  }
  // With checksum and reproduce, not only once a manifest exists: Nx hashes a project's whole
  // configuration into every task of it, so a target that appeared with the manifest would make the
  // build that recorded it a cache miss for the reproduce after the commit.
  if (facts.hasManifest || buildTargets.length) targets[names.published] = publishedTarget();
  if (facts.isWorkspaceRoot) targets[names.report] = reportTarget([names.elf, names.oci, names.arch, names.npm]);
  if (facts.isWorkspaceRoot) targets[names.envCheck] = envCheckTarget();
  // vary has no npm kind yet: npm pack's own output is fixed (1985 mtimes, sorted entries); the
  // package's scripts are what could vary, and vary does not run them.
  const varied = buildTargets.filter((name) => name !== names.npm);
  if (varied.length) targets[names.vary] = varyTarget(varied, targets, facts.declaredBuildInputs ?? [], reprokitInputs);
  return targets;
}

/**
 * The publication check: no build (it compares what was published with the committed hashes, not
 * with a rebuild) and never cached, since the publication can change under the same inputs.
 */
function publishedTarget(): TargetConfiguration {
  return {
    executor: 'nx:run-commands',
    cache: false,
    options: { command: `reprokit published {projectRoot}/${MANIFEST_FILE} --if-listed` },
    metadata: {
      description: `Download every published location ${MANIFEST_FILE} lists (release files, registry images, pacman repositories) and compare it with the committed hashes`,
      technologies: ['reprokit'],
    },
  };
}

/**
 * Which packages of the workspace's environment locks each source (cache, vaults, apt, snapshot,
 * mirrors) can serve now. Never cached: the answer changes while the locks do not (Debian drops a
 * version, a vault is filled), which is the rot it is there to see.
 */
function envCheckTarget(): TargetConfiguration {
  return {
    executor: 'nx:run-commands',
    cache: false,
    options: { command: 'reprokit env check', cwd: '{workspaceRoot}' },
    metadata: {
      description: 'For every env.lock.json of the workspace, which packages the .deb cache, the package vaults, apt, snapshot and mirrors can serve now; fails naming the packages no source serves',
      technologies: ['reprokit'],
    },
  };
}

/**
 * The workspace's report: every project's builds first (not reproduce, which fails on a mismatch,
 * and a mismatch is what a report must show), then `reprokit report` over every manifest. Never
 * cached: it describes the disk as it is.
 */
function reportTarget(buildTargetNames: string[]): TargetConfiguration {
  return {
    executor: 'nx:run-commands',
    dependsOn: buildTargetNames.map((target) => ({ projects: '*', target })),
    cache: false,
    options: { command: `reprokit report --out ${REPORT_DIR}`, cwd: '{workspaceRoot}' },
    metadata: {
      description: `Check every manifest and the pin policy across the workspace; write ${REPORT_DIR}/index.html, report.md (for $GITHUB_STEP_SUMMARY) and report.json`,
      technologies: ['reprokit'],
    },
  };
}

/**
 * `vary` runs the project's builds again under varied conditions, so its cache key is everything
 * its builds read: the union of their inputs (a declared target without inputs: every project
 * file). It depends on no target: it builds for itself, in its own directories.
 */
function varyTarget(
  buildTargets: string[],
  targets: Record<string, TargetConfiguration>,
  declaredInputs: (InputDefinition[] | undefined)[],
  reprokitInputs: InputDefinition[],
): TargetConfiguration {
  const union = new Map<string, InputDefinition>();
  const add = (input: InputDefinition) => union.set(JSON.stringify(input), input);
  for (const name of buildTargets) {
    const inferred = targets[name]?.inputs;
    if (inferred) inferred.forEach(add);
  }
  for (const inputs of declaredInputs) (inputs ?? ['{projectRoot}/**/*']).forEach(add);
  // What vary does not copy into its builds: outputs, its own work directories, the manifest.
  [`!{projectRoot}/${OUTPUT_DIR}/**/*`, '!{projectRoot}/target/**/*', `!{projectRoot}/${MANIFEST_FILE}`].forEach(add);
  reprokitInputs.forEach(add);
  // The result files it leaves beside each build's records, so that a cache hit restores them: in
  // the default output directory, and in any other an inferred build target is given.
  const outputDirs = new Set([OUTPUT_DIR, ...buildTargets.map((name) => targets[name]?.options?.outputDir).filter((dir): dir is string => typeof dir === 'string')]);
  return {
    executor: '@reprokit/nx:vary',
    cache: true,
    inputs: [...union.values()],
    outputs: [...outputDirs].map((dir) => `{projectRoot}/${dir}/.reprokit/*.vary.json`),
    options: { targets: buildTargets },
    metadata: {
      description: 'Rebuild under varied build path, clock, host name, user, umask, locale, TZ, CPUs and file order; name what changes an artifact',
      technologies: ['reprokit'],
    },
  };
}

/** SOURCE_DATE_EPOCH: the last commit touching the project, the manifest left out. */
export function commitDateInput(root: string): InputDefinition {
  return { runtime: `git log -1 --format=%ct -- ${root} ':(exclude)${root}/${MANIFEST_FILE}'` };
}

function ociTarget(root: string, defaults: Partial<OciExecutorSchema>, reprokitInputs: InputDefinition[]): TargetConfiguration {
  const outputDir = `{projectRoot}/${defaults.outputDir ?? OUTPUT_DIR}`;
  return {
    executor: '@reprokit/nx:oci',
    cache: true,
    inputs: [
      // The build context is the project (its .dockerignore decides what COPY sees); the Dockerfile
      // pins every base image by digest, so the images are inputs through it.
      '{projectRoot}/**/*',
      `!${outputDir}/**/*`,
      '!{projectRoot}/target/**/*',
      `!{projectRoot}/${MANIFEST_FILE}`,
      commitDateInput(root),
      ...(defaults.envLocks ?? []).map((lock) => `{workspaceRoot}/${lock}`),
      ...reprokitInputs,
    ],
    outputs: [`${outputDir}/{projectName}-image.tar`, `${outputDir}/{projectName}-image.oci`, ...recordOutputs(`${outputDir}/.reprokit/{projectName}-image`)],
    options: { ...defaults },
    metadata: {
      description: 'Build the Dockerfile into a reproducible OCI image (layout + docker-archive, same image ID on every machine)',
      technologies: ['docker', 'reprokit'],
    },
  };
}

function elfTarget(root: string, binary: string, defaults: Partial<ElfExecutorSchema>, reprokitInputs: InputDefinition[], cargo?: CargoFacts): TargetConfiguration {
  const options: Partial<ElfExecutorSchema> = { binary, ...defaults };
  if (cargo) {
    // `cargo build -p <package> --bin <binary>` at the workspace root, with its shared Cargo.lock.
    options.package = cargo.package;
    if (cargo.buildRoot !== root) options.buildRoot = cargo.buildRoot;
  }
  // The package's and its path dependencies' sources, every Cargo.toml up to the workspace root,
  // the shared Cargo.lock, configs, toolchain files and vendored sources (cargo-manifest.ts).
  const inputs: InputDefinition[] = cargo?.inputs ?? ['{projectRoot}/src/**/*', '{projectRoot}/Cargo.toml', '{projectRoot}/Cargo.lock', '{projectRoot}/build.rs'];
  inputs.push(
    commitDateInput(root),
    // The host toolchain: what `elf:host` builds with (the container's is pinned by the image digest, an option).
    { runtime: 'rustc -vV' },
    ...reprokitInputs,
  );
  if (options.envLock) inputs.push(`{workspaceRoot}/${options.envLock}`);
  return {
    executor: '@reprokit/nx:elf',
    cache: true,
    inputs,
    outputs: [`{projectRoot}/${OUTPUT_DIR}/${binary}`, ...recordOutputs(`{projectRoot}/${OUTPUT_DIR}/.reprokit/${binary}`)],
    options,
    configurations: { host: { environment: 'host' } },
    metadata: {
      description: `Build the ${binary} ELF binary hermetically (cargo --locked, ${options.environment === 'host' ? 'pinned host toolchain' : 'pinned builder image, no network'})`,
      technologies: ['rust', 'reprokit'],
    },
  };
}

/**
 * npm pack in the pinned Node image. Its inputs are every file the pack can read: the project's
 * files (what the copy at /src holds; prepack scripts read any of them), the lockfiles that decide
 * the node_modules mounted for the scripts, the commit date (SOURCE_DATE_EPOCH), the image's lock.
 */
function npmTarget(root: string, pkg: NonNullable<ProjectFacts['npmPackage']>, defaults: Partial<NpmExecutorSchema>, reprokitInputs: InputDefinition[]): TargetConfiguration {
  const outputDir = `{projectRoot}/${defaults.outputDir ?? OUTPUT_DIR}`;
  const envLock = defaults.image ? defaults.envLock : pkg.defaultEnvLock;
  return {
    executor: '@reprokit/nx:npm',
    cache: true,
    inputs: [
      '{projectRoot}/**/*',
      `!${outputDir}/**/*`,
      '!{projectRoot}/target/**/*',
      '!{projectRoot}/node_modules/**/*',
      `!{projectRoot}/${MANIFEST_FILE}`,
      '{workspaceRoot}/package-lock.json',
      commitDateInput(root),
      ...(envLock ? [`{workspaceRoot}/${envLock}`] : []),
      ...reprokitInputs,
    ],
    outputs: [`${outputDir}/${pkg.filename}`, ...recordOutputs(`${outputDir}/.reprokit/${pkg.filename}`)],
    options: { ...defaults },
    metadata: {
      description: `npm pack into ${pkg.filename} in the pinned Node image, no network (prepack/prepare as npm runs them), bit for bit on every machine`,
      technologies: ['npm', 'reprokit'],
    },
  };
}

/** The build records an arch target writes, by the artifact names makepkg-build gives. */
const ARCH_RECORDS = ['pkg', 'source', 'db', 'files'].flatMap((kind) => recordOutputs(`{projectRoot}/${OUTPUT_DIR}/.reprokit/*.${kind}`));

function archTarget(root: string, defaults: Partial<ArchExecutorSchema>, reprokitInputs: InputDefinition[]): TargetConfiguration {
  const inputs: InputDefinition[] = [
    // What `git archive` puts in the source tarball: the PKGBUILD, the sources, Cargo.lock, …
    '{projectRoot}/**/*',
    `!{projectRoot}/${MANIFEST_FILE}`,
    // The commit archived (the tarball's pax header names it) and its date, SOURCE_DATE_EPOCH.
    { runtime: `git log -1 --format=%H:%ct -- ${root} ':(exclude)${root}/${MANIFEST_FILE}'` },
    ...(defaults.envLock ? [`{workspaceRoot}/${defaults.envLock}`] : []),
    ...reprokitInputs,
  ];
  return {
    executor: '@reprokit/nx:arch',
    cache: true,
    inputs,
    outputs: [`{projectRoot}/${OUTPUT_DIR}/arch`, ...ARCH_RECORDS],
    options: { ...defaults },
    configurations: { host: { environment: 'host' } },
    metadata: {
      description: `Build the PKGBUILD's pacman packages with makepkg (${defaults.environment === 'host' ? 'host makepkg' : 'pinned builder image, no network'}), sources from git`,
      technologies: ['arch', 'reprokit'],
    },
  };
}
