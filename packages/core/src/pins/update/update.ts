import type Docker from 'dockerode';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { connectDocker } from '../../docker/docker';
import { isUserError } from '../../errors';
import { writeFileAtomic } from '../../manifest/json-file';
import { compareStrings } from '../../manifest/manifest';
import { resolveImageDigest } from './resolve-digest';
import type { Finding } from '../rules';
import { scanPins, type ScanOptions } from '../scan';
import { unifiedDiffOfLineEdits } from './unified-diff';

/** The findings `pins update` can fix: an image reference written out where the finding points. */
const FIXABLE_RULES = new Set(['docker-from-unpinned', 'container-image-unpinned']);

export interface PinEdit {
  repository: string;
  file: string;
  line: number;
  column: number;
  from: string;
  to: string;
}

export interface UnresolvedPin {
  repository: string;
  finding: Finding;
  reason: string;
}

export interface PinUpdateResult {
  edits: PinEdit[];
  unresolved: UnresolvedPin[];
  /** Unified diffs per changed file, in file order. */
  diff: string;
}

/** The image reference written at a finding's position: the word there, quotes removed. */
function referenceAt(line: string, column: number): { text: string; start: number } | undefined {
  const start = column - 1;
  const match = /^["']?([^\s"'\\;|&)]+)/.exec(line.slice(start));
  if (!match) return undefined;
  return { text: match[1], start: start + (match[0].length - match[1].length) };
}

/**
 * `reprokit pins update`: rewrites each unpinned image reference (`FROM name:tag`, `docker run
 * name:tag`, …) to `name:tag@sha256:…`, with the digest from the local docker daemon or the
 * registry. Nothing is guessed: a reference written as a variable, or one neither knows, stays as it
 * is and is reported. With `dryRun` nothing is written; the diff says what would change.
 */
export async function updatePins(paths: string[], options: ScanOptions & { dryRun?: boolean; docker?: Docker | null } = {}): Promise<PinUpdateResult> {
  const results = await scanPins(paths, { ...options, envLocks: false });
  let docker: Docker | undefined;
  if (options.docker !== null) {
    docker = options.docker ?? (await connectDocker().catch((error) => (isUserError(error) ? undefined : Promise.reject(error))));
  }
  const edits: PinEdit[] = [];
  const unresolved: UnresolvedPin[] = [];
  let diff = '';
  for (const result of results) {
    const byFile = new Map<string, Finding[]>();
    for (const finding of result.findings.filter((f) => FIXABLE_RULES.has(f.rule))) {
      byFile.set(finding.file, [...(byFile.get(finding.file) ?? []), finding]);
    }
    for (const [file, findings] of byFile) {
      const path = join(result.root, file);
      const before = readFileSync(path, 'utf8');
      const lines = before.split('\n');
      // Right to left within a line, so earlier columns stay valid.
      for (const finding of [...findings].sort((x, y) => y.line - x.line || y.column - x.column)) {
        const ref = referenceAt(lines[finding.line - 1] ?? '', finding.column);
        if (!ref || ref.text.includes('$')) {
          unresolved.push({ repository: result.root, finding, reason: 'the image is written as a variable: pin its value where it is set' });
          continue;
        }
        const resolved = await resolveImageDigest(ref.text, docker);
        if (!resolved) {
          unresolved.push({ repository: result.root, finding, reason: `neither docker${docker ? '' : ' (not reachable)'} nor a registry knows ${ref.text}` });
          continue;
        }
        const line = lines[finding.line - 1];
        lines[finding.line - 1] = line.slice(0, ref.start) + resolved.pinned + line.slice(ref.start + ref.text.length);
        edits.push({ repository: result.root, file, line: finding.line, column: ref.start + 1, from: ref.text, to: resolved.pinned });
      }
      const after = lines.join('\n');
      if (after === before) continue;
      diff += unifiedDiffOfLineEdits(file, before, after);
      if (!options.dryRun) writeFileAtomic(path, after, statSync(path).mode & 0o7777);
    }
  }
  // Reported in file order, whatever order they were applied in.
  edits.sort((x, y) => compareStrings(x.repository, y.repository) || compareStrings(x.file, y.file) || x.line - y.line || x.column - y.column);
  const at = (u: UnresolvedPin) => u.finding;
  unresolved.sort((x, y) => compareStrings(x.repository, y.repository) || compareStrings(at(x).file, at(y).file) || at(x).line - at(y).line || at(x).column - at(y).column);
  return { edits, unresolved, diff };
}
