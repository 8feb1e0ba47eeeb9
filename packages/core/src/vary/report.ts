import type { VaryResult } from './kinds/container-vary';

/** True when every artifact of every build reproduced under all variations. */
export function varyPassed(results: readonly VaryResult[]): boolean {
  return results.every((result) => result.artifacts.every((artifact) => artifact.reproducible));
}

/**
 * The report a person reads: per artifact `REPRODUCIBLE UNDER n VARIATIONS`, or `NOT REPRODUCIBLE`
 * with each variation that changes it and the first thing that differs; then what was varied and
 * what could not be.
 */
export function renderVaryReport(results: readonly VaryResult[]): string {
  const lines: string[] = [];
  for (const result of results) {
    const n = result.applied.length;
    for (const artifact of result.artifacts) {
      if (artifact.notVaried !== undefined) {
        lines.push(`${result.build} ${artifact.name}: not varied: ${artifact.notVaried}`);
        continue;
      }
      if (artifact.reproducible) {
        lines.push(`${result.build} ${artifact.name}: REPRODUCIBLE UNDER ${n} VARIATION${n === 1 ? '' : 'S'}`);
        continue;
      }
      const names = artifact.culprits.map((c) => c.variation);
      lines.push(`${result.build} ${artifact.name}: NOT REPRODUCIBLE${names.length ? ` under ${names.join(', ')}` : ''}`);
      for (const culprit of artifact.culprits) {
        const description = result.applied.find((a) => a.name === culprit.variation)?.description;
        lines.push(`  ${culprit.variation} (${description}): ${culprit.difference}`);
      }
      if (artifact.note) lines.push(`  ${artifact.note}`);
      if (artifact.allAtOnce && !artifact.culprits.length) lines.push(`  all variations at once: ${artifact.allAtOnce}`);
    }
    lines.push(`  varied: ${result.applied.map((a) => a.name).join(', ') || 'nothing'} (image ${result.image})`);
    for (const skipped of result.notApplied) lines.push(`  not varied: ${skipped.name}: ${skipped.reason}`);
    if (result.keptIn) lines.push(`  the builds' outputs are kept in ${result.keptIn}`);
  }
  return lines.join('\n') + '\n';
}
