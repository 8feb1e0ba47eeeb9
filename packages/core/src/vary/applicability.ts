import type { RunnerOverrides } from '../build/runner-overrides';
import { controlConditions, VARIATIONS, type ImageFacts, type Variation, type VariationName } from './variations';

/** The kinds of build vary runs: a command in the builder image (elf), an image (oci), makepkg (arch). */
export type VariedKind = 'command' | 'oci' | 'arch';

/**
 * Variations that cannot apply to a kind of build whatever the image, with why: the build itself
 * fixes what the variation would change, or records it in the artifact by design.
 */
const NOT_FOR_KIND: Record<VariedKind, Partial<Record<VariationName, string>>> = {
  command: {},
  oci: {
    'build-path': "an image's paths are its Dockerfile's (WORKDIR, COPY); where the context lies on the host reaches no RUN",
    user: "a RUN runs as the Dockerfile's USER, part of what the image is",
    umask: "reprokit runs every RUN under umask 022, whatever the builder's",
    'file-order': "a RUN lists its stage's files on docker's overlay filesystem, in the backing filesystem's order, not the order they were written in (reprokit writes every layer sorted)",
    personality: "a RUN runs the Dockerfile's command as it is, in each stage's own image",
  },
  arch: {
    'build-path': 'makepkg records BUILDDIR and the start directory in .BUILDINFO: another path is another package by design',
    umask: 'makepkg sets umask 0022 itself',
    'file-order': "makepkg unpacks the source tarball itself, in the tarball's sorted order, into a bind-mounted directory listed in the host filesystem's own order",
  },
};

export interface SelectedVariations {
  applied: Variation[];
  notApplied: { name: VariationName; reason: string }[];
}

/** The variations asked for (default all), split into those applied and those that cannot be, with why. */
export function selectVariations(kind: VariedKind, facts: ImageFacts, wanted?: readonly VariationName[]): SelectedVariations {
  const selected: SelectedVariations = { applied: [], notApplied: [] };
  for (const variation of VARIATIONS) {
    if (wanted && !wanted.includes(variation.name)) continue;
    const reason = NOT_FOR_KIND[kind][variation.name] ?? variation.unavailable(facts);
    if (reason) selected.notApplied.push({ name: variation.name, reason });
    else selected.applied.push(variation);
  }
  return selected;
}

/**
 * What a build runner (oci's RUN containers, arch's makepkg container) gets under variations: only
 * what differs from the control conditions, so that the control build is the runner's own build,
 * unchanged. The environment lies under the build's own (a Dockerfile's ENV, reprokit's fixed
 * SOURCE_DATE_EPOCH and paths) except for what a machine's environment would decide.
 */
export type RunnerVariations = RunnerOverrides & { env: Record<string, string>; wrapper: string[] };

export function runnerVariations(facts: ImageFacts, sourceDateEpoch: number, variations: readonly Variation[]): RunnerVariations {
  const control = controlConditions(facts, sourceDateEpoch);
  const varied = controlConditions(facts, sourceDateEpoch);
  for (const variation of variations) variation.apply(varied, facts);
  const env = Object.fromEntries(Object.entries(varied.env).filter(([name, value]) => control.env[name] !== value));
  const changed = <K extends 'user' | 'hostname' | 'domainname' | 'cpuset'>(key: K) => (varied[key] !== control[key] ? { [key]: varied[key] } : {});
  return { env, ...changed('user'), ...changed('hostname'), ...changed('domainname'), ...changed('cpuset'), wrapper: varied.wrapper };
}
