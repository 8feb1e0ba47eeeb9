/**
 * An artifact's build record and what its build writes beside it under the same name (provenance,
 * its times, the build log), as Nx outputs: a cache hit restores them with the artifact.
 */
export function recordOutputs(base: string): string[] {
  return ['.json', '.intoto.json', '.intoto.times.json', '.build.log'].map((suffix) => base + suffix);
}
