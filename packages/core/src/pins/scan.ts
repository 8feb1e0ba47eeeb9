import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, posix, relative, resolve, sep } from 'node:path';
import { describeFsError } from '../errors';
import { checkDockerfile } from './dockerfile';
import { checkCargoManifest, checkPackageJson, type RepositoryFiles } from './lockfiles';
import { checkMakefile } from './makefile';
import { checkPkgbuild } from './pkgbuild';
import { applyPolicy, EMPTY_POLICY, loadPolicy, POLICY_FILE, type LoadedPolicy } from './policy';
import type { Finding, RawFinding } from './rules';
import { checkShellScript } from './shell-rules';
import { MappedText } from './mapped-text';
import { checkWorkflow } from './workflow';

/** Bigger files are not read: nothing that pins inputs is that big, and it keeps the scan bounded. */
export const MAX_FILE_BYTES = 1024 * 1024;
const BINARY_PROBE_BYTES = 8192;
/** Skipped when walking a directory that is not a git work tree (in one, .gitignore decides). */
const WALK_SKIPPED = new Set(['node_modules', '.git', 'dist', 'target']);

export interface ScanOptions {
  /** A policy file applied to every repository; otherwise each repository's own reprokit.pins.json, if any. */
  policy?: string;
  /** `YYYY-MM-DD`, for exemption expiry; defaults to today (UTC). */
  today?: string;
}

export interface RepositoryResult {
  /** Absolute path of the repository root. */
  root: string;
  /** Sorted by file, line, column. */
  findings: Finding[];
  /** How many files were checked. */
  checked: number;
  /** Files that were not read, and why (binary, too big). */
  skipped: { file: string; reason: string }[];
}

type Kind = 'dockerfile' | 'shell' | 'makefile' | 'pkgbuild' | 'workflow' | 'action' | 'cargo' | 'npm' | 'maybe-shell';

/** Which checker a repository-relative path gets, by its name alone. */
export function classify(path: string): Kind | undefined {
  const name = posix.basename(path);
  if (/^(Dockerfile|Containerfile)(\..+)?$|\.(Dockerfile|Containerfile|dockerfile|containerfile)$/.test(name) && !name.endsWith('.dockerignore')) return 'dockerfile';
  if (/(^|\/)\.github\/workflows\/[^/]+\.ya?ml$/.test(path)) return 'workflow';
  if (name === 'action.yml' || name === 'action.yaml') return 'action';
  if (name === 'PKGBUILD') return 'pkgbuild';
  if (name === 'Makefile' || name === 'makefile' || name === 'GNUmakefile' || name.endsWith('.mk')) return 'makefile';
  if (name === 'Cargo.toml') return 'cargo';
  if (name === 'package.json') return 'npm';
  if (/\.(sh|bash)$/.test(name)) return 'shell';
  if (!name.includes('.')) return 'maybe-shell';
  return undefined;
}

const SHEBANG = /^#!\s*\S*?\b(?:env\s+(?:-\S+\s+)*)?(?:ba|da|k|z|a|mk)?sh\b/;

/** Checks one repository-relative file's text; `related` reads files it names. */
export function checkFile(path: string, text: string, files: RepositoryFiles, readRelated: (name: string) => string | undefined): RawFinding[] {
  const options = { readRelated };
  switch (classify(path)) {
    case 'dockerfile':
      return checkDockerfile(text, options);
    case 'workflow':
      return checkWorkflow(text, 'workflow', options);
    case 'action':
      return checkWorkflow(text, 'action', options);
    case 'pkgbuild':
      return checkPkgbuild(text, options);
    case 'makefile':
      return checkMakefile(text, options);
    case 'cargo':
      return checkCargoManifest(path, text, files);
    case 'npm':
      return checkPackageJson(path, text, files);
    case 'shell':
      return checkShellScript(MappedText.fromLines(text), { ...options, context: 'script' });
    case 'maybe-shell':
      return SHEBANG.test(text) ? checkShellScript(MappedText.fromLines(text), { ...options, context: 'script' }) : [];
    default:
      return [];
  }
}

/**
 * Scans each path: a directory is a repository of its own (and so is any directory below it that
 * has a `.git`); a file is scanned alone, as part of the git repository around it (or of its
 * directory). Results come per repository, in the order first named.
 */
export async function scanPins(paths: string[], options: ScanOptions = {}): Promise<RepositoryResult[]> {
  const shared = options.policy !== undefined ? loadPolicy(options.policy) : undefined;
  const today = options.today ?? new Date().toISOString().slice(0, 10);
  const targets = new Map<string, { files: Set<string>; listed: boolean }>();
  const addTarget = (root: string, files: string[], listed: boolean) => {
    const target = targets.get(root) ?? { files: new Set<string>(), listed };
    files.forEach((file) => target.files.add(file));
    target.listed &&= listed;
    targets.set(root, target);
  };
  const addDirectory = (root: string) => {
    const { files, nested } = listRepository(root);
    addTarget(root, files, true);
    nested.forEach(addDirectory);
  };
  for (const path of paths) {
    const absolute = resolve(path);
    let isDirectory: boolean;
    try {
      isDirectory = statSync(absolute).isDirectory();
    } catch (error) {
      throw describeFsError(error, path);
    }
    if (isDirectory) {
      addDirectory(absolute);
    } else {
      const root = gitRoot(dirname(absolute)) ?? dirname(absolute);
      addTarget(root, [toPosix(relative(root, absolute))], false);
    }
  }
  return [...targets].map(([root, { files, listed }]) => {
    const policyPath = shared?.path ?? (existsSync(join(root, POLICY_FILE)) ? join(root, POLICY_FILE) : undefined);
    const policy: LoadedPolicy = shared ?? (policyPath ? loadPolicy(policyPath) : EMPTY_POLICY);
    return scanRepository(root, [...files].sort(), listed, policy, {
      today,
      policyFile: policyPath ? toPosix(relative(root, policyPath)) : undefined,
    });
  });
}

function scanRepository(root: string, files: string[], listed: boolean, policy: LoadedPolicy, context: { today: string; policyFile?: string }): RepositoryResult {
  const listedSet = new Set(files);
  const read = (path: string): string | undefined => {
    try {
      const stats = lstatSync(path);
      return stats.isFile() && stats.size <= MAX_FILE_BYTES ? readFileSync(path, 'utf8') : undefined;
    } catch {
      return undefined;
    }
  };
  // Listed: only what git would commit counts (an ignored Cargo.lock is not committed); a single file: the disk.
  const repositoryFiles: RepositoryFiles = {
    has: (path) => (listed ? listedSet.has(path) : existsSync(join(root, path))),
    read: (path) => (listed && !listedSet.has(path) ? undefined : read(join(root, path))),
  };
  const raw: Omit<Finding, 'severity' | 'fix'>[] = [];
  const skipped: RepositoryResult['skipped'] = [];
  let checked = 0;
  for (const file of files) {
    if (!classify(file)) continue;
    const absolute = join(root, file);
    const content = readCandidate(absolute);
    if (content === undefined) continue;
    if ('skipped' in content) {
      skipped.push({ file, reason: content.skipped });
      continue;
    }
    checked++;
    const readRelated = (name: string) => read(resolve(dirname(absolute), name)) ?? read(resolve(root, name));
    for (const finding of checkFile(file, content.text, repositoryFiles, readRelated)) raw.push({ ...finding, file });
  }
  const findings = applyPolicy(raw, policy, context).sort(
    (a, b) => compare(a.file, b.file) || a.line - b.line || a.column - b.column || compare(a.rule, b.rule),
  );
  return { root, findings: dedupe(findings), checked, skipped };
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The same finding reached twice (an aliased YAML node, a stage used twice) is reported once. */
function dedupe(findings: Finding[]): Finding[] {
  const seen = new Set<string>();
  return findings.filter((finding) => {
    const key = `${finding.file}:${finding.line}:${finding.column}:${finding.rule}`;
    return !seen.has(key) && (seen.add(key), true);
  });
}

/** A file's text, or why it was skipped; undefined when it is not a regular file. */
function readCandidate(path: string): { text: string } | { skipped: string } | undefined {
  let stats;
  try {
    stats = lstatSync(path);
  } catch {
    return undefined; // listed by git but deleted from the work tree
  }
  if (!stats.isFile()) return undefined;
  if (stats.size > MAX_FILE_BYTES) return { skipped: `larger than ${MAX_FILE_BYTES} bytes` };
  const buffer = readFileSync(path);
  if (buffer.subarray(0, BINARY_PROBE_BYTES).includes(0)) return { skipped: 'binary' };
  return { text: buffer.toString('utf8') };
}

function toPosix(path: string): string {
  return path.split(sep).join('/');
}

function git(cwd: string, args: string[]): string | undefined {
  const result = spawnSync('git', args, { cwd, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, env: { ...process.env, LC_ALL: 'C' } });
  return result.status === 0 ? result.stdout : undefined;
}

function gitRoot(dir: string): string | undefined {
  const top = git(dir, ['rev-parse', '--show-toplevel'])?.trim();
  return top ? resolve(top) : undefined;
}

/**
 * The files of a repository rooted at `root`, relative to it, and the roots of repositories nested
 * in it. Inside a git work tree git decides (tracked and untracked files, .gitignore respected);
 * otherwise the directory is walked.
 */
function listRepository(root: string): { files: string[]; nested: string[] } {
  const output = git(root, ['ls-files', '-z', '--cached', '--others', '--exclude-standard']);
  if (output === undefined) return walk(root);
  const files: string[] = [];
  const nested: string[] = [];
  for (const entry of new Set(output.split('\0').filter((entry) => entry !== ''))) {
    const path = entry.replace(/\/$/, '');
    const absolute = join(root, path);
    let isDirectory = false;
    try {
      isDirectory = lstatSync(absolute).isDirectory();
    } catch {
      continue;
    }
    // A submodule or an untracked repository inside this one is a repository of its own.
    if (isDirectory) {
      if (existsSync(join(absolute, '.git'))) nested.push(absolute);
    } else {
      files.push(path);
    }
  }
  return { files, nested };
}

function walk(root: string): { files: string[]; nested: string[] } {
  const files: string[] = [];
  const nested: string[] = [];
  const visit = (dir: string) => {
    for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
      const path = dir === '' ? entry.name : `${dir}/${entry.name}`;
      if (entry.isDirectory()) {
        if (WALK_SKIPPED.has(entry.name)) continue;
        if (existsSync(join(root, path, '.git'))) nested.push(join(root, path));
        else visit(path);
      } else if (entry.isFile()) {
        files.push(path);
      }
    }
  };
  visit('');
  return { files, nested };
}
