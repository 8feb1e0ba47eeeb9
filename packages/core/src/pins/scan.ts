import { spawnSync } from 'node:child_process';
import { closeSync, constants, existsSync, fstatSync, lstatSync, openSync, readdirSync, readSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, posix, relative, resolve, sep } from 'node:path';
import { describeFsError, isUserError, UserError } from '../errors';
import { checkDockerfile } from './files/dockerfile';
import { envLockFindings } from './files/env-lock';
import { checkCargoManifest, checkPackageJson, type RepositoryFiles } from './files/lockfiles';
import { checkMakefile } from './files/makefile';
import { nugetRestoreLockedByRepository } from './files/nuget-repository';
import { checkPkgbuild } from './files/pkgbuild';
import { applyPolicy, EMPTY_POLICY, loadPolicy, POLICY_FILE, type LoadedPolicy } from './policy';
import type { Finding, RawFinding } from './rules';
import { checkShellScript } from './shell/shell-rules';
import { MappedText } from './mapped-text';
import { checkWorkflow } from './files/workflow';
import { notRegularFile } from '../fs/regular-file';

/**
 * Files up to this size are read whole and checked, whatever their size: a size-based skip would let a
 * Dockerfile padded with comments walk around the gate. A policy-relevant file above it is a finding
 * (pins-file-unchecked), never silently passed; the bound only keeps memory finite on hostile input.
 */
export const MAX_FILE_BYTES = 64 * 1024 * 1024;
const BINARY_PROBE_BYTES = 8192;
/** Skipped when walking a directory that is not a git work tree (in one, .gitignore decides). */
const WALK_SKIPPED = new Set(['node_modules', '.git', 'dist', 'target']);

export interface ScanOptions {
  /** A policy file applied to every repository; otherwise each repository's own reprokit.pins.json, if any. */
  policy?: string;
  /** `YYYY-MM-DD`, for exemption expiry; defaults to today (UTC). */
  today?: string;
  /** Ask the sources of environment locks whether every package is servable (default true; pins update does not need it). */
  envLocks?: boolean;
}

export interface RepositoryResult {
  /** Absolute path of the repository root. */
  root: string;
  /** Sorted by file, line, column. */
  findings: Finding[];
  /** How many files were checked. */
  checked: number;
  /** Files that were not read, and why (binary, too big, unreadable); each is also a finding. */
  skipped: { file: string; reason: string }[];
}

type Kind = 'dockerfile' | 'shell' | 'makefile' | 'pkgbuild' | 'workflow' | 'action' | 'cargo' | 'npm' | 'maybe-shell';

/** Which checker a repository-relative path gets, by its name alone. */
export function classify(path: string): Kind | undefined {
  const name = posix.basename(path);
  if (/\.(sh|bash)$/.test(name)) return 'shell';
  // Any name containing Dockerfile or Containerfile (`Dockerfile.dev`, `dev.Dockerfile`, `Dockerfile-ci`,
  // as Scorecard's `*Dockerfile*`), but not source or documents that merely mention it (`dockerfile.go`).
  if (/dockerfile|containerfile/i.test(name) && !NOT_DOCKERFILE.test(name)) return 'dockerfile';
  if (/(^|\/)\.github\/workflows\/[^/]+\.ya?ml$/.test(path)) return 'workflow';
  if (name === 'action.yml' || name === 'action.yaml') return 'action';
  if (name === 'PKGBUILD') return 'pkgbuild';
  if (name === 'Makefile' || name === 'makefile' || name === 'GNUmakefile' || name.endsWith('.mk')) return 'makefile';
  if (name === 'Cargo.toml') return 'cargo';
  if (name === 'package.json') return 'npm';
  if (!name.includes('.')) return 'maybe-shell';
  return undefined;
}

const NOT_DOCKERFILE = /\.(dockerignore|go|c|cc|cpp|h|hpp|rs|js|mjs|cjs|ts|tsx|py|pyc|java|kt|rb|php|cs|swift|md|rst|txt|adoc|html|json|ya?ml|toml|xml|lock|ps1|bat|orig|rej|patch|diff|snap)$/i;
const SHEBANG = /^#!\s*\S*?\b(?:env\s+(?:-\S+\s+)*)?(?:ba|da|k|z|a|mk)?sh\b/;

/** Checks one repository-relative file's text; `related` reads files it names. */
export function checkFile(
  path: string,
  text: string,
  files: RepositoryFiles,
  readRelated: (name: string) => string | undefined,
  nugetLocked?: () => boolean,
): RawFinding[] {
  const options = { readRelated, nugetLocked };
  switch (classify(path)) {
    case 'dockerfile':
      return checkDockerfile(text, { ...options, lockText: readRelated(`${basename(path)}.lock.json`) });
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
      const stats = statSync(absolute);
      isDirectory = stats.isDirectory();
      // Named on the command line, a FIFO or a device is a mistake to say, not a file to skip silently
      // (a FIFO would block the read, a device never end).
      if (!isDirectory && !stats.isFile()) throw notRegularFile(path, stats, 'a file or directory to check');
    } catch (error) {
      throw fsErrorLine(error, path);
    }
    if (isDirectory) {
      addDirectory(absolute);
    } else {
      const root = gitRoot(dirname(absolute)) ?? dirname(absolute);
      addTarget(root, [toPosix(relative(root, absolute))], false);
    }
  }
  const results: RepositoryResult[] = [];
  for (const [root, { files, listed }] of targets) {
    const policyPath = shared?.path ?? (existsSync(join(root, POLICY_FILE)) ? join(root, POLICY_FILE) : undefined);
    const policy: LoadedPolicy = shared ?? (policyPath ? loadPolicy(policyPath) : EMPTY_POLICY);
    // Environment locks: whether every package still has a source (asked over the network, so apart).
    const locks = options.envLocks === false ? undefined : await envLockFindings(root, [...files].sort());
    results.push(
      scanRepository(root, [...files].sort(), listed, policy, {
        today,
        policyFile: policyPath ? toPosix(relative(root, policyPath)) : undefined,
        extra: locks,
      }),
    );
  }
  return results;
}

/** Node's filesystem errors as one line naming the path (ELOOP, ENAMETOOLONG… included). */
export function fsErrorLine(error: unknown, path: string): UserError {
  const described = describeFsError(error, path);
  return isUserError(described) ? described : new UserError(`${path}: ${fsErrorReason(error)}`);
}

/** Why a filesystem call failed, in words (`too many levels of symbolic links`). */
function fsErrorReason(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code ? (FS_ERRORS[code] ?? code) : String((error as Error | undefined)?.message ?? error).split('\n')[0];
}

const FS_ERRORS: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EISDIR: 'is a directory',
  ELOOP: 'too many levels of symbolic links',
  ENAMETOOLONG: 'file name too long',
  ENOTDIR: 'a path component is not a directory',
  EIO: 'input/output error',
};

function scanRepository(
  root: string,
  files: string[],
  listed: boolean,
  policy: LoadedPolicy,
  context: { today: string; policyFile?: string; extra?: { findings: Omit<Finding, 'severity' | 'fix'>[]; checked: string[] } },
): RepositoryResult {
  const listedSet = new Set(files);
  const realRoot = safeRealpath(root) ?? root;
  // A file a script names (a pip requirements file) is read only when it is a regular file inside the root.
  const read = (path: string): string | undefined => {
    const real = safeRealpath(path);
    if (real === undefined || !isInside(realRoot, real)) return undefined;
    const content = readRegularFile(path);
    return content && 'text' in content ? content.text : undefined;
  };
  // Listed: only what git would commit counts (an ignored Cargo.lock is not committed); a single file: the disk.
  const repositoryFiles: RepositoryFiles = {
    has: (path) => (listed ? listedSet.has(path) : existsSync(join(root, path))),
    read: (path) => (listed && !listedSet.has(path) ? undefined : read(join(root, path))),
  };
  // Computed once, when a NuGet restore is first seen.
  let nugetLockedValue: boolean | undefined;
  const nugetLocked = () => (nugetLockedValue ??= nugetRestoreLockedByRepository(files, (path) => repositoryFiles.read(path)));
  const raw: Omit<Finding, 'severity' | 'fix'>[] = [];
  const skipped: RepositoryResult['skipped'] = [];
  let checked = 0;
  for (const file of files) {
    const kind = classify(file);
    if (!kind) continue;
    const absolute = join(root, file);
    const content = readRegularFile(absolute);
    if (content === undefined) continue;
    if ('skipped' in content) {
      // A file that can hold pins and was not checked fails the gate; anything else is listed as a note.
      const relevant = kind !== 'maybe-shell' || SHEBANG.test(content.head);
      skipped.push({ file, reason: content.skipped });
      raw.push(
        relevant
          ? { rule: 'pins-file-unchecked', file, line: 1, column: 1, message: `${file} was not checked: ${content.skipped}` }
          : { rule: 'pins-file-skipped', file, line: 1, column: 1, message: `${file} was not checked: ${content.skipped}` },
      );
      continue;
    }
    checked++;
    const readRelated = (name: string) => read(resolve(dirname(absolute), name)) ?? read(resolve(root, name));
    for (const finding of checkFile(file, content.text, repositoryFiles, readRelated, nugetLocked)) raw.push({ ...finding, file });
  }
  raw.push(...(context.extra?.findings ?? []));
  checked += context.extra?.checked.length ?? 0;
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

/**
 * A regular file's text, or why it was not read; undefined when it is not a regular file (a symlink, a
 * FIFO, a device: never opened, so never followed out of the repository and never blocking).
 */
function readRegularFile(path: string): { text: string } | { skipped: string; head: string } | undefined {
  let fd: number;
  try {
    if (!lstatSync(path).isFile()) return undefined;
    // O_NONBLOCK: a file swapped for a FIFO after the lstat does not block the open; O_NOFOLLOW: nor for a symlink.
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ELOOP') return undefined; // deleted from the work tree, or became a symlink
    return { skipped: `cannot be read: ${fsErrorReason(error)}`, head: '' };
  }
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) return undefined;
    const probe = Buffer.allocUnsafe(Math.min(BINARY_PROBE_BYTES, stats.size));
    const probed = readSync(fd, probe, 0, probe.length, 0);
    const head = probe.subarray(0, probed);
    if (head.includes(0)) return { skipped: 'binary (a NUL byte in its first 8 KiB)', head: head.toString('latin1') };
    if (stats.size > MAX_FILE_BYTES) return { skipped: `larger than ${MAX_FILE_BYTES} bytes`, head: head.toString('latin1') };
    // Only the bytes read are used, so the buffer need not be zeroed.
    const buffer = Buffer.allocUnsafe(stats.size);
    let length = 0;
    while (length < buffer.length) {
      const n = readSync(fd, buffer, length, buffer.length - length, length);
      if (n === 0) break;
      length += n;
    }
    return { text: buffer.toString('utf8', 0, length) };
  } catch (error) {
    return { skipped: `cannot be read: ${fsErrorReason(error)}`, head: '' };
  } finally {
    closeSync(fd);
  }
}

function safeRealpath(path: string): string | undefined {
  try {
    return realpathSync(path);
  } catch {
    return undefined;
  }
}

function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
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
    let entries;
    try {
      entries = readdirSync(join(root, dir), { withFileTypes: true });
    } catch (error) {
      throw fsErrorLine(error, join(root, dir));
    }
    for (const entry of entries) {
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
