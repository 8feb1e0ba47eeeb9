import type { ExecutorContext } from '@nx/devkit';
import { buildArtifactInContainer, buildRustBinaryInContainer, buildRustBinaryOnHost, defaultCrateCacheRoot, fetchCrates, MANIFEST_FILE, sourceDateEpochFromGit, UserError } from '@reprokit/core';
import { basename, isAbsolute, relative, resolve } from 'node:path';
import { projectPaths, runUserFacing } from '../../project';
import { recordProvenance } from '../../provenance';
import type { ElfExecutorSchema } from './schema';

export default async function elfExecutor(options: ElfExecutorSchema, context: ExecutorContext) {
  return runUserFacing(context, async () => {
    const project = projectPaths(context);
    const where = `${project.root}/project.json: targets.${context.targetName}.options`;
    const outputDir = resolve(project.dir, options.outputDir ?? 'dist');
    const sourceDateEpoch = options.sourceDateEpoch ?? sourceDateEpochFromGit(project.dir, [MANIFEST_FILE]);
    const logPrefix = `[${project.name}:${context.targetName}] `;
    const provenance = recordProvenance(context, project, options, { outputDir, envLocks: [options.envLock && resolve(context.root, options.envLock)], logPrefix });
    // A Cargo workspace member builds at the workspace root (buildRoot), beside the shared Cargo.lock.
    const buildRoot = options.buildRoot === undefined ? project.dir : resolve(context.root, options.buildRoot);
    const fromRoot = relative(context.root, buildRoot);
    if (fromRoot.startsWith('..') || isAbsolute(fromRoot)) throw new UserError(`${where}.buildRoot: "${options.buildRoot}" is outside the workspace`);
    const common = { projectDir: buildRoot, binary: options.binary, package: options.package, outputDir, sourceDateEpoch, cargoArgs: options.cargoArgs, logPrefix, log: provenance.log };
    let summary: string;
    if ((options.environment ?? 'container') === 'container') {
      if (!options.image) throw new UserError(`${where}.image: required in container mode (name@sha256:<digest>)`);
      const envLock = options.envLock && resolve(context.root, options.envLock);
      let result;
      if (options.command) {
        if (!options.artifact) throw new UserError(`${where}.artifact: required with command (the path below /out the command leaves the binary at)`);
        result = await buildArtifactInContainer({
          ...common,
          name: options.binary,
          kind: 'elf',
          image: options.image,
          envLock,
          command: options.command,
          artifact: options.artifact,
          // Makefiles build next to their sources unless written for reprokit: copy by default.
          inTree: options.inTree ?? /^g?make$/.test(basename(options.command[0])),
          toolchainPackage: options.toolchainPackage ? new RegExp(options.toolchainPackage) : undefined,
        });
      } else {
        // Crates from registries: fetched first, with network, into a cache the build reads offline.
        const fetched =
          (options.fetch ?? 'auto') === 'auto'
            ? await fetchCrates({
                buildRoot,
                image: options.image,
                envLock,
                network: options.fetchNetwork ?? 'host',
                cacheRoot: options.crateCache ? resolve(context.root, options.crateCache) : defaultCrateCacheRoot(),
                logPrefix,
                log: provenance.log,
              })
            : undefined;
        result = await buildRustBinaryInContainer({ ...common, image: options.image, envLock, target: options.target ?? 'x86_64-unknown-linux-gnu', crates: fetched?.dir });
      }
      summary = `built ${result.file} in ${result.imageId}${result.toolchain ? ` (${result.toolchain})` : ''}`;
      await provenance.finish([result.file]);
    } else {
      if (!options.toolchain) throw new UserError(`${where}.toolchain: required in host mode ({ "tool": "rustc", "version": "…" })`);
      const result = await buildRustBinaryOnHost({
        ...common,
        workspaceRoot: project.workspaceRoot,
        toolchain: { tool: options.toolchain.tool ?? 'rustc', version: options.toolchain.version },
      });
      summary = `built ${result.file} with ${result.toolchain}`;
      await provenance.finish([result.file]);
    }
    process.stdout.write(`${logPrefix}${summary} (SOURCE_DATE_EPOCH=${sourceDateEpoch})\n`);
    return true;
  });
}
