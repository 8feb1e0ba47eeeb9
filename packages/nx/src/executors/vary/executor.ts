import { readTargetOptions, type ExecutorContext } from '@nx/devkit';
import {
  MANIFEST_FILE,
  renderVaryReport,
  rustContainerCommand,
  sourceDateEpochFromGit,
  UserError,
  varyArchBuild,
  varyCommandBuild,
  varyOciBuild,
  varyPassed,
  varyResultDocuments,
  varyWorkDir,
  writeVaryResultFiles,
  type VaryCommandBuild,
  type VaryResult,
} from '@reprokit/core';
import { resolve } from 'node:path';
import { projectPaths, runUserFacing, type ProjectPaths } from '../../project';
import { makepkgInput } from '../arch/makepkg-input';
import type { ArchExecutorSchema } from '../arch/schema';
import type { ElfExecutorSchema } from '../elf/schema';
import { imageBuildInput } from '../oci/image-input';
import type { OciExecutorSchema } from '../oci/schema';
import type { VaryExecutorSchema } from './schema';

/** The executors whose builds vary knows how to run. */
const BUILD_EXECUTORS = ['@reprokit/nx:elf', '@reprokit/nx:oci', '@reprokit/nx:arch'];

/** An elf target's build as vary runs it: the same command, image and environment as the executor's. */
function elfBuild(project: ProjectPaths, target: string, options: ElfExecutorSchema, root: string): VaryCommandBuild {
  const where = `${project.root}: targets.${target}.options`;
  if ((options.environment ?? 'container') !== 'container') throw new UserError(`${where}.environment: vary builds in containers only (host builds use whatever the host has)`);
  if (!options.image) throw new UserError(`${where}.image: required (name@sha256:<digest>)`);
  const outputDir = options.outputDir ?? 'dist';
  let spec: Pick<VaryCommandBuild, 'command' | 'env' | 'artifacts'>;
  if (options.command) {
    if (!options.artifact) throw new UserError(`${where}.artifact: required with command`);
    spec = { command: options.command, artifacts: [{ name: options.binary, path: options.artifact }] };
  } else {
    const cargo = rustContainerCommand({ binary: options.binary, target: options.target ?? 'x86_64-unknown-linux-gnu', cargoArgs: options.cargoArgs });
    spec = { command: cargo.command, env: cargo.env, artifacts: [{ name: options.binary, path: cargo.artifact }] };
  }
  const label = `${project.name}:${target}`;
  return {
    ...spec,
    label,
    projectDir: project.dir,
    image: options.image,
    envLock: options.envLock && resolve(root, options.envLock),
    sourceDateEpoch: options.sourceDateEpoch ?? sourceDateEpochFromGit(project.dir, [MANIFEST_FILE]),
    exclude: [outputDir, 'target', MANIFEST_FILE],
    workDir: varyWorkDir(project.dir, label),
  };
}

export default async function varyExecutor(options: VaryExecutorSchema, context: ExecutorContext) {
  return runUserFacing(context, async () => {
    const project = projectPaths(context);
    const targets = context.projectsConfigurations.projects[project.name].targets ?? {};
    const names = options.targets ?? Object.keys(targets).filter((name) => BUILD_EXECUTORS.includes(targets[name].executor ?? ''));
    if (!names.length) throw new UserError(`${project.root}: no build target to vary (elf, oci or arch)`);
    const logPrefix = `[${project.name}:${context.targetName}] `;
    const log = (line: string) => process.stderr.write(line + '\n');
    const results: VaryResult[] = [];
    for (const name of names) {
      const target = targets[name];
      if (!target) throw new UserError(`${project.root}: targets.${context.targetName}.options.targets: no target ${JSON.stringify(name)}`);
      const targetOptions = readTargetOptions({ project: project.name, target: name, configuration: context.configurationName }, context);
      const vary = { variations: options.variations, logPrefix, log };
      const label = `${project.name}:${name}`;
      let result: VaryResult;
      if (target.executor === '@reprokit/nx:elf') {
        result = await varyCommandBuild(elfBuild(project, name, targetOptions as ElfExecutorSchema, context.root), vary);
      } else if (target.executor === '@reprokit/nx:oci') {
        const oci = targetOptions as OciExecutorSchema;
        // What the oci executor builds, in vary's own directories.
        result = await varyOciBuild({ ...imageBuildInput(project, oci, context.root), label, workDir: varyWorkDir(project.dir, label) }, vary);
      } else {
        const arch = targetOptions as ArchExecutorSchema;
        const where = `${project.root}: targets.${name}.options`;
        if ((arch.environment ?? 'container') !== 'container') throw new UserError(`${where}.environment: vary builds in containers only (host builds use whatever the host has)`);
        if (!arch.image) throw new UserError(`${where}.image: required (name@sha256:<digest>)`);
        // What the arch executor builds, in vary's own directories.
        result = await varyArchBuild({ ...makepkgInput(project, arch, context.root), label, image: arch.image, workDir: varyWorkDir(project.dir, label) }, vary);
      }
      results.push(result);
      // Beside the build's own records, where the workspace report and verify look (an output of this target).
      writeVaryResultFiles(resolve(project.dir, (targetOptions as { outputDir?: string }).outputDir ?? 'dist'), varyResultDocuments(result));
    }
    process.stdout.write(options.json ? JSON.stringify(results, null, 2) + '\n' : renderVaryReport(results));
    return varyPassed(results);
  });
}
