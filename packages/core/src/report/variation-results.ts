import { join, relative, sep } from 'node:path';
import type { ArtifactReport } from './report-types';
import { readResultFile, recordDirOf, unreadableReason } from './result-files';

export type VariationReport = NonNullable<ArtifactReport['variations']>;

/** What `reprokit vary` leaves beside an artifact's build record (see vary/result-file.ts). */
export const VARY_RESULT_LABEL = 'vary';

/** Culprits and variations shown: far more than the catalogue has, so a hostile file cannot flood the page. */
const MAX_ITEMS = 64;
/** Text from the file is cut here: one line in a table cell or a list item. */
const MAX_TEXT = 500;

const VERDICTS = ['reproducible', 'not reproducible', 'not varied'] as const;

const oneLine = (value: unknown): string | undefined =>
  typeof value === 'string' ? value.replace(/[\r\n\t]+/g, ' ').slice(0, MAX_TEXT) : undefined;

/**
 * The variation result of one artifact, or undefined when `vary` has not run for it. The file comes
 * from the workspace (a build's output, or a cache restore of one): it is read only as a regular
 * file inside the project's output directory, bounded, and taken field by field; a file that is
 * not what `vary` writes is reported as such, never trusted in part.
 */
export function readVariationResult(manifestDir: string, outputDir: string, artifact: string, workspaceRoot: string): VariationReport | undefined {
  const recordDir = recordDirOf(manifestDir, outputDir);
  if (!recordDir) return undefined;
  const file = join(recordDir, `${artifact}.${VARY_RESULT_LABEL}.json`);
  const source = relative(workspaceRoot, file).split(sep).join('/');
  const unreadable = (why: string): VariationReport => ({ verdict: 'not varied', summary: `variation result not read: ${why}`, variations: [], culprits: [], source });
  let text: string;
  try {
    text = readResultFile(file, 'a variation result');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    return unreadable(unreadableReason(error, file));
  }
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return unreadable('not valid JSON');
  }
  const verdict = VERDICTS.find((v) => v === doc?.verdict);
  const summary = oneLine(doc?.summary);
  if (!verdict || !summary || !Array.isArray(doc.variations) || !Array.isArray(doc.culprits)) return unreadable('not a vary result (verdict, summary, variations, culprits)');
  const variations = doc.variations.slice(0, MAX_ITEMS).map(oneLine).filter((v): v is string => v !== undefined);
  const culprits = doc.culprits.slice(0, MAX_ITEMS).flatMap((c: unknown) => {
    const variation = oneLine((c as Record<string, unknown>)?.variation);
    const difference = oneLine((c as Record<string, unknown>)?.difference);
    return variation !== undefined && difference !== undefined ? [{ variation, difference }] : [];
  });
  const note = oneLine(doc.note);
  return { verdict, summary, variations, culprits, ...(note ? { note } : {}), source };
}

/** The result as lines under an artifact: the summary, then each culprit with what differs. */
export function variationLines(result: VariationReport): string[] {
  return [
    `variations: ${result.summary} (${result.source})`,
    ...result.culprits.map((c) => `variation ${c.variation} changes it: ${c.difference}`),
    ...(result.note ? [`variations: ${result.note}`] : []),
  ];
}

/** The table cell: a symbol and a word, never colour alone. */
export function variationCell(result: VariationReport | undefined): string {
  if (!result) return '-';
  if (result.verdict === 'reproducible') return `✓ ${result.variations.length} variations`;
  if (result.verdict === 'not reproducible') return `✗ ${result.culprits.map((c) => c.variation).join(', ') || 'combined'}`;
  return 'not varied';
}
