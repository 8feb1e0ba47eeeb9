import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { RECORD_DIR } from '../build/build-record';
import { UserError } from '../errors';
import { writeFileAtomic } from '../manifest/json-file';
import type { VaryResult } from './kinds/container-vary';

/**
 * What `vary` leaves about each artifact beside its build record, for the workspace report (which
 * shows `summary`) and anyone scripting on it: `<outputDir>/.reprokit/<artifact>.vary.json`.
 */
export const VARY_RESULT_SUFFIX = '.vary.json';

export interface VaryResultDocument {
  /** One line: `REPRODUCIBLE UNDER 11 VARIATIONS`, `NOT REPRODUCIBLE UNDER: clock, build-path`, `not varied: <why>`. */
  summary: string;
  verdict: 'reproducible' | 'not reproducible' | 'not varied';
  artifact: string;
  /** The variations applied (the catalogue's names, as `--variations` takes them). */
  variations: string[];
  /** The variations that change the artifact alone, each with what differs (one line). */
  culprits: { variation: string; difference: string }[];
  /** The builder image's ID the builds ran in (`sha256:…`); empty when nothing was built. */
  image: string;
  /** The variations that could not be applied, with why. */
  notVaried?: { variation: string; why: string }[];
  /** When no single variation explains a difference: a combination, or plain nondeterminism. */
  note?: string;
}

/** One document per artifact of a vary result. */
export function varyResultDocuments(result: VaryResult): VaryResultDocument[] {
  const variations = result.applied.map((a) => a.name);
  const notVaried = result.notApplied.map((n) => ({ variation: n.name, why: n.reason }));
  return result.artifacts.map((artifact) => {
    const base = { artifact: artifact.name, variations, image: result.imageId, notVaried };
    if (artifact.notVaried !== undefined) return { ...base, summary: `not varied: ${artifact.notVaried}`, verdict: 'not varied', variations: [], culprits: [] };
    if (artifact.reproducible) {
      const n = variations.length;
      return { ...base, summary: `REPRODUCIBLE UNDER ${n} VARIATION${n === 1 ? '' : 'S'}`, verdict: 'reproducible', culprits: [] };
    }
    const culprits = artifact.culprits.map((c) => ({ variation: c.variation, difference: c.difference }));
    const under = culprits.length ? culprits.map((c) => c.variation).join(', ') : 'all variations at once (no single one alone)';
    const note = artifact.note ?? (culprits.length ? undefined : artifact.allAtOnce);
    return { ...base, summary: `NOT REPRODUCIBLE UNDER: ${under}`, verdict: 'not reproducible', culprits, ...(note ? { note } : {}) };
  });
}

/** A document for an artifact vary did not build, e.g. a build kind it cannot run. */
export function notVariedDocument(artifact: string, why: string): VaryResultDocument {
  return { summary: `not varied: ${why}`, verdict: 'not varied', artifact, variations: [], culprits: [], image: '' };
}

/** Writes the documents atomically into `<outputDir>/.reprokit/`; returns the files written. */
export function writeVaryResultFiles(outputDir: string, documents: readonly VaryResultDocument[]): string[] {
  const dir = join(outputDir, RECORD_DIR);
  mkdirSync(dir, { recursive: true });
  return documents.map((document) => {
    // Names come from options and packages: one plain file name, never a path.
    if (!/^[A-Za-z0-9_+][A-Za-z0-9._+-]*$/.test(document.artifact)) throw new UserError(`${dir}: artifact name ${JSON.stringify(document.artifact)} is not a plain file name`);
    const file = join(dir, `${document.artifact}${VARY_RESULT_SUFFIX}`);
    writeFileAtomic(file, JSON.stringify(document, null, 2) + '\n');
    return file;
  });
}
