import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { prepareBuilder } from '../../build/container-build';
import { connectDocker, parsePinnedImageRef } from '../../docker/docker';
import { findEnvLockForImage } from '../../env/build-env';
import { isUserError, UserError } from '../../errors';
import { buildOciImage, type OciBuildInput } from '../../oci/build-image';
import { planDockerfile } from '../../oci/dockerfile/dockerfile';
import { writeDockerArchive } from '../../oci/layout/image-files';
import { runnerVariations, selectVariations } from '../applicability';
import type { VaryOptions, VaryResult } from './container-vary';
import { imageFacts } from '../image-facts';
import { runVariations, type BuildOutcome } from '../run-variations';
import type { Variation, VariationName } from '../variations';

/** An `oci` target's build as vary runs it: reprokit's own image builder, as the executor calls it. */
export interface VaryOciBuild extends Omit<OciBuildInput, 'workDir' | 'logPrefix' | 'log' | 'runOverrides'> {
  label: string;
  /** The image artifact's name: `<name>.tar` is what is compared (the docker-archive the target installs). */
  name: string;
  tag: string;
  /** Host directory for the builds (emptied first; removed when everything reproduces). */
  workDir: string;
}

/**
 * The image under control conditions and under variations of what its RUN instructions see (the
 * clock, host and domain name, CPUs and the environment a machine could leak in, under the
 * Dockerfile's own ENV). The variation facts are the first FROM image's: the builder a multi-stage
 * Dockerfile starts with, where RUN instructions run.
 */
export async function varyOciBuild(build: VaryOciBuild, options: VaryOptions): Promise<VaryResult> {
  const docker = await connectDocker();
  if (!existsSync(build.dockerfile)) throw new UserError(`${build.dockerfile}: no such Dockerfile`);
  // The same validation the build does, every refusal naming its line.
  const first = planDockerfile(readFileSync(build.dockerfile, 'utf8'), build.dockerfile, { buildArgs: build.buildArgs }).fromImages[0];
  if (!first) {
    const why = 'the Dockerfile names no image (FROM scratch only): no RUN runs, nothing can vary';
    return { build: build.label, image: '', imageId: '', applied: [], notApplied: [], artifacts: [{ name: build.name, reproducible: true, culprits: [], notVaried: why }] };
  }
  const envLock = findEnvLockForImage(parsePinnedImageRef(first).digest, build.envLocks ?? []);
  const builder = await prepareBuilder({ docker, image: first, envLock, logPrefix: options.logPrefix, log: options.log });
  const facts = await imageFacts(docker, builder.imageId, builder.user, options.logPrefix);
  const { applied, notApplied } = selectVariations('oci', facts, options.variations);
  rmSync(build.workDir, { recursive: true, force: true });

  const run = async (label: string, variations: readonly Variation[]): Promise<BuildOutcome> => {
    const dir = join(build.workDir, label);
    const prefix = `${options.logPrefix}[${label}] `;
    let built;
    try {
      built = await buildOciImage(docker, {
        ...build,
        workDir: join(dir, 'work'),
        runOverrides: variations.length ? runnerVariations(facts, build.sourceDateEpoch, variations) : undefined,
        logPrefix: prefix,
        log: options.log,
      });
    } catch (error) {
      if (!isUserError(error) || label === 'control') throw error;
      return { failed: error.message.split('\n')[0] };
    }
    if (label === 'all-variations') reached = { runs: built.runs, env: new Set(built.overridesReached) };
    const archive = join(dir, `${build.name}.tar`);
    writeDockerArchive(archive, built.config, built.layers, build.tag);
    return { files: new Map([[build.name, archive]]) };
  };
  let reached: { runs: number; env: Set<string> } | undefined;
  const result = await runVariations({ label: build.label, image: first, imageId: builder.imageId, facts, applied, notApplied, run, workDir: build.workDir, parallel: options.parallel });
  return reached ? withoutUnreached(result, reached, (name) => Object.keys(runnerVariations(facts, build.sourceDateEpoch, applied.filter((v) => v.name === name)).env)) : result;
}

/**
 * The variations no RUN saw, moved to "not varied" with why: a RUN's environment is the image's
 * and the Dockerfile's ENV first (as under docker build), so a variable they set (rust-builder's
 * TZ and LC_ALL) is not varied whatever vary passes; and without a RUN nothing is.
 */
function withoutUnreached(result: VaryResult, reached: { runs: number; env: Set<string> }, variablesOf: (name: VariationName) => string[]): VaryResult {
  const applied: VaryResult['applied'] = [];
  const notApplied = [...result.notApplied];
  for (const variation of result.applied) {
    // All of a variation's variables must reach a RUN (LANG without LC_ALL changes no locale);
    // cpus is docker's cpuset first, which every RUN gets.
    const masked = variation.name === 'cpus' ? [] : variablesOf(variation.name).filter((name) => !reached.env.has(name));
    if (reached.runs === 0) notApplied.push({ name: variation.name, reason: 'the Dockerfile has no RUN: nothing runs under it' });
    else if (masked.length) notApplied.push({ name: variation.name, reason: `every RUN's environment sets ${masked.join(', ')} itself (the image's or the Dockerfile's ENV), as under docker build` });
    else applied.push(variation);
  }
  return { ...result, applied, notApplied };
}
