import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { explainDifference } from '../diff/diff';
import { renderDiff } from '../diff/render';
import type { DiffResult } from '../diff/types';
import { isUserError } from '../errors';
import { readManifest, type Artifact } from '../manifest/manifest';
import type { ArtifactCheck, VerifyResult } from '../manifest/verify-result';
import { workspaceRootOf } from '../fs/workspace-root';
import { downloadToFile, type FetchOptions } from '../net/bounded-fetch';
import { releaseOnSignal, removeOnSignal } from '../net/temp-files';
import { findInPacmanRepository, pacmanServer } from '../published/pacman';
import { defaultKeepDir, KeepStore } from './keep-store';

/** What a MISMATCH differs in, against the expected bytes, or why that cannot be said. */
export interface MismatchExplanation {
  artifact: string;
  /** Where the expected bytes came from: `kept copy` or a published URL. */
  expectedFrom?: string;
  /** `reprokit diff EXPECTED ACTUAL`. */
  diff?: DiffResult;
  /** When there is no diff: why (no copy of the expected bytes, and what to do next). */
  note?: string;
}

export interface ExplainOptions {
  /** The keep store's directory; default defaultKeepDir(the manifest's directory). */
  keepDir?: string;
  /** Published locations are fetched with this idle timeout (default 30 s). */
  timeoutMs?: number;
  /** Loopback, link-local and private addresses allowed (--allow-private-network); default REPROKIT_ALLOW_PRIVATE_NETWORK. */
  allowPrivateNetwork?: boolean;
  /** Fetch the expected bytes from published locations when no copy is kept (default true; the report asks only with --published). */
  fetchPublished?: boolean;
  log?: (line: string) => void;
}

/**
 * The step after `verify` when something failed: every MISMATCH is explained by `reprokit diff`
 * against the expected bytes: the kept copy with the manifest's sha256 (keepMatchedArtifacts), else
 * a published location (a release URL or pacman repository) that serves exactly those bytes.
 * Loaded only then (it brings the HTTP client and the format readers).
 */
export async function explainMismatches(result: VerifyResult, options: ExplainOptions = {}): Promise<MismatchExplanation[]> {
  const mismatches = result.checks.filter((check) => check.status === 'mismatch' && check.expected && check.actual);
  if (mismatches.length === 0) return [];
  const store = new KeepStore(options.keepDir ?? defaultKeepDir(dirname(resolve(result.manifestPath))));
  const manifest = await readManifest(result.manifestPath);
  const explanations: MismatchExplanation[] = [];
  for (const check of mismatches) {
    const artifact = manifest.artifacts.find((a) => a.name === check.name);
    explanations.push(await explainOne(check, artifact, store, options));
  }
  return explanations;
}

async function explainOne(check: ArtifactCheck, artifact: Artifact | undefined, store: KeepStore, options: ExplainOptions): Promise<MismatchExplanation> {
  const { sha256, size } = check.expected!;
  const label = `expected (sha256 ${sha256.slice(0, 16)}…)`;
  const kept = await store.find(sha256, size);
  if (kept) return { artifact: check.name, expectedFrom: 'kept copy', diff: explainDifference(kept, check.file, [label, check.path]) };
  const work = mkdtempSync(join(tmpdir(), 'reprokit-expected-'));
  removeOnSignal(work);
  // The manifest's locations are input: file:// inside its workspace only, the network guard on (net/).
  const fetch: Omit<FetchOptions, 'maxBytes'> = { timeoutMs: options.timeoutMs, allowPrivateNetwork: options.allowPrivateNetwork, files: { root: workspaceRootOf(dirname(resolve(check.file))) } };
  const tried: string[] = [];
  try {
    for (const location of options.fetchPublished === false ? [] : (artifact?.published ?? [])) {
      if (!('url' in location) && !('pacman' in location)) continue;
      let url: string;
      try {
        if ('url' in location) url = location.url;
        else {
          const server = pacmanServer(location.pacman, location.repo, basename(check.path));
          const entry = await findInPacmanRepository(server, location.repo, basename(check.path), fetch);
          if (!entry) {
            tried.push(`${location.repo}.db lists no ${basename(check.path)}`);
            continue;
          }
          url = `${server}/${encodeURIComponent(entry.filename)}`;
        }
        options.log?.(`fetching the expected bytes of ${check.name} from ${url}`);
        const got = await downloadToFile(url, join(work, `${tried.length}-${basename(check.path)}`), { ...fetch, maxBytes: size });
        if (got.truncated || got.sha256 !== sha256) {
          tried.push(`${url} serves other bytes (reprokit published says what differs)`);
          continue;
        }
        // Kept like a match: the next MISMATCH of these bytes needs no download.
        store.keep(got.file, sha256, size);
        return { artifact: check.name, expectedFrom: url, diff: explainDifference(got.file, check.file, [`${url} ${label}`, check.path]) };
      } catch (error) {
        if (!isUserError(error)) throw error;
        tried.push(error.message.split('\n')[0]);
      }
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
    releaseOnSignal(work);
  }
  const why = tried.length ? ` (${tried.join('; ')})` : '';
  return {
    artifact: check.name,
    note: `no copy of the expected bytes${why}: a build that matches keeps one (nx run <project>:reproduce or checksum), or add where it was published (reprokit published add MANIFEST ${check.name} --url URL)`,
  };
}

/** The explanations under the verify table: `NAME: what differs from …` then `reprokit diff`'s lines, indented. */
export function renderExplanations(explanations: MismatchExplanation[]): string {
  const lines: string[] = [];
  for (const explanation of explanations) {
    if (explanation.diff) {
      lines.push(`${explanation.artifact}: what differs from the expected bytes (${explanation.expectedFrom}):`);
      lines.push(renderDiff(explanation.diff, '    ').trimEnd());
    } else {
      lines.push(`${explanation.artifact}: ${explanation.note}`);
    }
  }
  return lines.length ? lines.join('\n') + '\n' : '';
}

/**
 * The verify table with the explanations under its MISMATCH details, before its summary line (the
 * table itself is verify's; this only inserts).
 */
export function renderVerifyExplained(table: string, explanations: MismatchExplanation[]): string {
  const text = renderExplanations(explanations);
  if (!text) return table;
  const cut = table.lastIndexOf('\n');
  return cut < 0 ? `${text}${table}` : `${table.slice(0, cut + 1)}${text}${table.slice(cut + 1)}`;
}
