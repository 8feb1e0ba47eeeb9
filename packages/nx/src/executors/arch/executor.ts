import type { ExecutorContext } from '@nx/devkit';
import { buildArchPackages, renderArchVerify, UserError, verifyArchPackage } from '@reprokit/core';
import { join, relative, resolve } from 'node:path';
import { projectPaths, runUserFacing } from '../../project';
import { recordProvenance } from '../../provenance';
import { makepkgInput } from './makepkg-input';
import type { ArchExecutorSchema } from './schema';

export default async function archExecutor(options: ArchExecutorSchema, context: ExecutorContext) {
  return runUserFacing(context, async () => {
    const project = projectPaths(context);
    const where = `${project.root}/project.json: targets.${context.targetName}.options`;
    const environment = options.environment ?? 'container';
    if (environment === 'container' && !options.image) throw new UserError(`${where}.image: required in container mode (name@sha256:<digest>)`);
    const logPrefix = `[${project.name}:${context.targetName}] `;
    const outputDir = resolve(project.dir, options.outputDir ?? 'dist');
    const provenance = recordProvenance(context, project, options, { outputDir, envLocks: [options.envLock && resolve(context.root, options.envLock)], logPrefix });
    const result = await buildArchPackages({
      ...makepkgInput(project, options, context.root),
      environment,
      image: options.image,
      outputDir,
      workDir: join(project.dir, 'target', 'reprokit-arch'),
      logPrefix,
      log: provenance.log,
    });
    await provenance.finish([...result.packages.map((built) => built.file), result.source.file, ...result.repoFiles]);
    const builtIn = result.environment.type === 'container' ? `in ${result.environment.image}` : `with ${result.environment.toolchain}`;
    for (const { file, archive } of result.packages) {
      process.stdout.write(`${logPrefix}built ${relative(process.cwd(), file)} ${builtIn} (SOURCE_DATE_EPOCH=${result.sourceDateEpoch}, builddir ${archive.buildinfo.builddir})\n`);
    }
    process.stdout.write(`${logPrefix}source ${relative(process.cwd(), result.source.file)} sha256:${result.source.sha256} (git archive ${result.source.commit.slice(0, 12)})\n`);
    for (const file of result.repoFiles) process.stdout.write(`${logPrefix}repository ${relative(process.cwd(), file)}\n`);
    if (!options.verify) return true;
    if (environment !== 'container') throw new UserError(`${where}.verify: rebuild verification needs container mode`);
    const rebuild = { projectDir: project.dir, image: options.image!, sourceTarball: options.sourceTarball ?? 'src.tgz' };
    let reproducible = true;
    for (const { file } of result.packages) {
      const verdict = await verifyArchPackage({
        packageFile: file,
        rebuild,
        envLock: options.envLock && resolve(context.root, options.envLock),
        logPrefix: `${logPrefix}verify: `,
      });
      process.stdout.write(renderArchVerify(verdict));
      reproducible &&= verdict.reproducible;
    }
    return reproducible;
  });
}
