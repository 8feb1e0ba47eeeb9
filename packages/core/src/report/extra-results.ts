import { lstatSync, readdirSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { readResultFile, recordDirOf, unreadableReason } from './result-files';
import { VARY_RESULT_LABEL } from './variation-results';

export interface ExtraResult {
  source: string;
  label: string;
  text: string;
}

/** One line about a result document, from the fields the wave's result formats carry. */
function summarize(label: string, data: unknown): string {
  if (typeof data !== 'object' || data === null) return 'present';
  const doc = data as Record<string, unknown>;
  if (typeof doc.summary === 'string') return doc.summary;
  if (typeof doc.verdict === 'string') return doc.verdict;
  if (typeof doc.predicateType === 'string') {
    const subject = Array.isArray(doc.subject) ? doc.subject.length : 0;
    return `in-toto statement, ${doc.predicateType}, ${subject} subject${subject === 1 ? '' : 's'}`;
  }
  if (typeof doc.payloadType === 'string') return `signed envelope (${doc.payloadType})`;
  return `${label} result`;
}

/**
 * What other reprokit commands left about an artifact beside its build record
 * (`<outputDir>/.reprokit/<artifact>.<label>.json`: provenance, variation builds, …), one line each.
 * Only regular files inside the project's output directory are read.
 */
export function extraResults(manifestDir: string, outputDir: string, artifact: string, workspaceRoot: string, artifacts: readonly string[] = [artifact]): ExtraResult[] {
  // `asdf.pkg.vary.json` starts with `asdf.` too: a file belongs to the longest artifact name it starts with.
  const longer = artifacts.filter((other) => other.length > artifact.length && other.startsWith(`${artifact}.`));
  const recordDir = recordDirOf(manifestDir, outputDir);
  if (!recordDir) return [];
  let names: string[];
  try {
    if (!lstatSync(recordDir).isDirectory()) return [];
    names = readdirSync(recordDir);
  } catch {
    return [];
  }
  const prefix = `${artifact}.`;
  const results: ExtraResult[] = [];
  for (const name of names.sort()) {
    if (!name.startsWith(prefix) || !name.endsWith('.json') || longer.some((other) => name.startsWith(`${other}.`))) continue;
    const label = name.slice(prefix.length, -'.json'.length);
    // `<artifact>.json` is the build record itself; `<artifact>.<kind>.json` of an arch build are records too.
    // The statements' run times are deliberately unsigned side files, not results.
    // Variation results have their own column (variation-results.ts).
    if (!label || ['pkg', 'source', 'db', 'files', VARY_RESULT_LABEL].includes(label) || label.endsWith('.times')) continue;
    const file = join(recordDir, name);
    const source = relative(workspaceRoot, file).split(sep).join('/');
    let text: string;
    try {
      text = readResultFile(file, 'a result file');
    } catch (error) {
      results.push({ source, label, text: `not read: ${unreadableReason(error, file)}` });
      continue;
    }
    try {
      results.push({ source, label, text: summarize(label, JSON.parse(text)) });
    } catch {
      results.push({ source, label, text: 'not valid JSON' });
    }
  }
  return results;
}
