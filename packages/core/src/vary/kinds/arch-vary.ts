import { join } from 'node:path';
import { buildArchPackages, type MakepkgBuild } from '../../arch/makepkg-build';
import { readBuildRecords } from '../../build/build-record';
import { prepareBuilder } from '../../build/container-build';
import { rmSync } from 'node:fs';
import { isUserError } from '../../errors';
import { runnerVariations, selectVariations } from '../applicability';
import type { VaryOptions, VaryResult } from './container-vary';
import { imageFacts } from '../image-facts';
import { runVariations, type BuildOutcome } from '../run-variations';
import type { Variation } from '../variations';

/** An `arch` target's build as vary runs it: buildArchPackages, as the executor calls it, in scratch directories. */
export interface VaryArchBuild extends Omit<MakepkgBuild, 'environment' | 'outputDir' | 'workDir' | 'logPrefix' | 'log' | 'overrides' | 'image'> {
  label: string;
  image: string;
  /** Host directory for the builds (emptied first; removed when everything reproduces). */
  workDir: string;
}

/** Why the source tarball is not compared: it is made before any build runs. */
const SOURCE_NOT_VARIED = 'reprokit makes the source tarball from git on the host before makepkg runs; no build condition reaches it';

/**
 * The packages (and repository database) under control conditions and under variations of the
 * makepkg container: clock, host and domain name, user, HOME, locale, TZ, an extra variable,
 * CPUs and personality. The control build is the arch target's own build.
 */
export async function varyArchBuild(build: VaryArchBuild, options: VaryOptions): Promise<VaryResult> {
  const builder = await prepareBuilder({ image: build.image, envLock: build.envLock, logPrefix: options.logPrefix, log: options.log });
  const facts = await imageFacts(builder.docker, builder.imageId, builder.user, options.logPrefix);
  const { applied, notApplied } = selectVariations('arch', facts, options.variations);
  const notVaried = new Map<string, string>();
  rmSync(build.workDir, { recursive: true, force: true });

  const run = async (label: string, variations: readonly Variation[]): Promise<BuildOutcome> => {
    const dir = join(build.workDir, label);
    const outputDir = join(dir, 'out');
    let result;
    try {
      result = await buildArchPackages({
        ...build,
        environment: 'container',
        outputDir,
        workDir: join(dir, 'work'),
        // SOURCE_DATE_EPOCH is the build's own in every build: the epoch given here only shapes conditions it is not part of.
        overrides: variations.length ? runnerVariations(facts, build.sourceDateEpoch ?? 0, variations) : undefined,
        logPrefix: `${options.logPrefix}[${label}] `,
        log: options.log,
      });
    } catch (error) {
      if (!isUserError(error) || label === 'control') throw error;
      return { failed: error.message.split('\n')[0] };
    }
    const files = new Map<string, string>();
    for (const record of await readBuildRecords(outputDir)) {
      if (record.absolutePath === result.source.file) notVaried.set(record.name, SOURCE_NOT_VARIED);
      else files.set(record.name, record.absolutePath);
    }
    return { files };
  };
  return runVariations({ label: build.label, image: build.image, imageId: builder.imageId, facts, applied, notApplied, notVaried, run, workDir: build.workDir, parallel: options.parallel });
}
