import { rmSync } from 'node:fs';
import { UserError } from '../errors';
import { describeDifference } from './compare';
import type { ArtifactVerdict, VaryResult } from './kinds/container-vary';
import type { ImageFacts, Variation, VariationName } from './variations';

/**
 * A build's outcome: its artifacts by name (host paths, regular files the build left), or why it
 * failed. The build is not trusted: the kind's runner checks that each file is one.
 */
export type BuildOutcome = { files: Map<string, string> } | { failed: string };

/** One kind of build (command, oci, arch) as the variation driver sees it. */
export interface VariedBuild {
  /** Names the build in the report, e.g. `asdf:oci`. */
  label: string;
  /** The pinned builder image, as the target names it, and the ID docker knows it by. */
  image: string;
  imageId: string;
  facts: ImageFacts;
  applied: readonly Variation[];
  notApplied: { name: VariationName; reason: string }[];
  /** Artifacts the build makes that vary does not compare, with why (e.g. made on the host). */
  notVaried?: Map<string, string>;
  /** Runs one build (a fresh one every time) under the given variations; `label` names its directory. */
  run(label: string, variations: readonly Variation[]): Promise<BuildOutcome>;
  /** Where the builds' outputs lie: removed when everything reproduces, kept for diffoscope otherwise. */
  workDir: string;
  /** Builds run at the same time (default 2: a control and a varied build side by side). */
  parallel?: number;
}

/** Runs `jobs` with at most `limit` at a time, results in order. */
export async function pool<T>(jobs: (() => Promise<T>)[], limit: number): Promise<T[]> {
  const results: T[] = new Array(jobs.length);
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const index = next++;
      results[index] = await jobs[index]();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, jobs.length) }, worker));
  return results;
}

/**
 * The control build and a build under every applied variation at once, side by side; when an
 * artifact differs, each variation alone, to name the ones that change it; when every variation or
 * none alone changes it, a second control build to tell plain nondeterminism from a combination.
 */
export async function runVariations(build: VariedBuild): Promise<VaryResult> {
  const parallel = Math.max(1, build.parallel ?? 2);
  const [control, all] = await pool([() => build.run('control', []), () => build.run('all-variations', build.applied)], parallel);
  // The control build varies nothing: when it fails, the build fails as it is, and no variation is to blame.
  if ('failed' in control) throw new UserError(`${build.label}: the control build (no variation applied) failed: ${control.failed}: make the build pass on its own first (run its build target), then vary it`);
  if (!control.files.size) throw new UserError(`${build.label}: the control build (no variation applied) left no artifact: check the artifact paths the target names (its binary, artifact or output options)`);
  const names = [...control.files.keys()];
  const compare = (name: string, outcome: BuildOutcome): string | undefined => {
    if ('failed' in outcome) return `the build failed: ${outcome.failed}`;
    const varied = outcome.files.get(name);
    return varied ? describeDifference(control.files.get(name)!, varied) : `the build left no ${name}`;
  };
  const verdicts: ArtifactVerdict[] = names.map((name) => {
    const allAtOnce = compare(name, all);
    return { name, reproducible: allAtOnce === undefined, ...(allAtOnce === undefined ? {} : { allAtOnce }), culprits: [] };
  });
  const result = (keptIn?: string): VaryResult => ({
    build: build.label,
    image: build.image,
    imageId: build.imageId,
    applied: build.applied.map((v) => ({ name: v.name, description: v.describe(build.facts) })),
    notApplied: build.notApplied,
    artifacts: [...verdicts, ...[...(build.notVaried ?? new Map<string, string>())].map(([name, why]): ArtifactVerdict => ({ name, reproducible: true, culprits: [], notVaried: why }))],
    ...(keptIn ? { keptIn } : {}),
  });
  if (verdicts.every((v) => v.reproducible)) {
    rmSync(build.workDir, { recursive: true, force: true });
    return result();
  }

  // Something differs: each variation alone names the culprits.
  const alone = await pool(
    build.applied.map((variation) => () => build.run(variation.name, [variation])),
    parallel,
  );
  build.applied.forEach((variation, index) => {
    names.forEach((name, a) => {
      const difference = compare(name, alone[index]);
      if (difference !== undefined) verdicts[a].culprits.push({ variation: variation.name, difference });
    });
  });
  // Every variation "changes" it, or none does alone: does the same build twice differ?
  const unexplained = verdicts.filter((v) => !v.reproducible && (v.culprits.length === 0 || (build.applied.length > 1 && v.culprits.length === build.applied.length)));
  if (unexplained.length) {
    const again = await build.run('control-again', []);
    names.forEach((name, a) => {
      const verdict = verdicts[a];
      if (!unexplained.includes(verdict)) return;
      const twice = compare(name, again);
      if (twice !== undefined) {
        verdict.note = `two builds under the same conditions differ (${twice}): the build is nondeterministic, whatever the variation`;
        verdict.culprits = [];
      } else if (verdict.culprits.length === 0) {
        verdict.note = 'no single variation changes it: only variations combined do';
      }
    });
  }
  return result(build.workDir);
}
