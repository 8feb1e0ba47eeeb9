import { at, firstOperand } from './command-words';
import { isContentPinnedUrl } from './downloads';
import type { RawFinding } from '../rules';
import type { Word } from './shell';
import { aptInstall } from './apt-install';

/**
 * Package managers asked for a package by name: pinned when the request names an exact version
 * (npm, gem, cargo install) or a commit, when the tool checks hashes (pip, choco), or when it installs
 * exactly what a committed lockfile records (npm ci, NuGet locked mode).
 */

export interface PackageManagerContext {
  readRelated?: (path: string) => string | undefined;
  /** Whether the repository's project files lock restores (central package management, RestoreLockedMode). */
  nugetLocked?: () => boolean;
  /**
   * In a Dockerfile RUN: whether `<Dockerfile>.lock.json` locks this apt install (its command as
   * written). Elsewhere undefined, and apt installs are not checked.
   */
  aptLocked?: (command: string, expanded: boolean) => boolean;
}

const EXACT_SEMVER = /^[=v]?\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/;
const FULL_COMMIT = /^[0-9a-f]{40}$/i;

export function checkPackageManager(name: string, words: Word[], context: PackageManagerContext): RawFinding[] | undefined {
  if ((name === 'apt-get' || name === 'apt') && context.aptLocked) return checkApt(words, context.aptLocked);
  if (name === 'npm') return checkNpm(words);
  if (name === 'yarn' || name === 'pnpm' || name === 'bun') return checkYarnLike(name, words);
  if (name === 'go') return checkGo(words);
  if (name === 'gem') return checkGem(words);
  if (name === 'choco' || name === 'choco.exe') return checkChoco(words);
  if (/^(nuget|dotnet|msbuild)(\.exe)?$/i.test(name)) return checkNuget(name.replace(/\.exe$/i, '').toLowerCase(), words, context);
  const pip = pipArguments(name, words);
  if (pip) return checkPip(words[0], pip, context);
  return undefined;
}

/** An npm package spec that fixes its content: an exact version, a commit, or something local. */
function isPinnedNpmSpec(spec: string): boolean {
  if (/^(\.{0,2}\/|~\/|file:)/.test(spec) || /^[^:]*\.(tgz|tar\.gz)$/.test(spec)) return true; // local directory or tarball
  if (/^(git\+|git:|github:|gitlab:|bitbucket:|https?:)/.test(spec) || /^[^@/\s]+\/[^@/\s]+#/.test(spec)) {
    const ref = spec.split('#')[1];
    return (ref !== undefined && FULL_COMMIT.test(ref)) || (/^https?:/.test(spec) && isContentPinnedUrl(spec));
  }
  const at = spec.lastIndexOf('@');
  if (at <= 0) return false; // no version: whatever `latest` is today
  const version = spec.slice(at + 1);
  return EXACT_SEMVER.test(version) || (version.startsWith('npm:') && isPinnedNpmSpec(version.slice(4)));
}

const NPM_INSTALL = new Set(['install', 'i', 'in', 'ins', 'inst', 'insta', 'instal', 'isnt', 'isnta', 'isntal', 'isntall', 'add']);
const NPM_INSTALL_TEST = new Set(['install-test', 'it']);
const NPM_VALUED = new Set(['--prefix', '--omit', '--include', '--registry', '--cache', '--loglevel', '--workspace', '-w', '--tag', '--userconfig', '--install-strategy']);

function checkNpm(words: Word[]): RawFinding[] {
  const subcommand = firstOperand(words, 1, (flag) => NPM_VALUED.has(flag));
  if (!subcommand) return [];
  const sub = subcommand.text;
  const rest = words.slice(words.indexOf(subcommand) + 1);
  const global = words.some((word) => word.text === '-g' || word.text === '--global' || word.text === '--location=global');
  if (sub === 'update' || sub === 'up' || sub === 'upgrade') {
    return [at(words[0], 'npm-install-unpinned', `npm ${sub} moves dependencies to the newest versions their ranges allow`)];
  }
  if (!NPM_INSTALL.has(sub) && !NPM_INSTALL_TEST.has(sub)) return [];
  const packages = rest.filter((word, i) => !word.text.startsWith('-') && !(i > 0 && NPM_VALUED.has(rest[i - 1].text)));
  if (packages.length === 0) {
    // npm 11 links the current directory into the global prefix: no lockfile applies, nothing is pinned.
    if (global) return [at(words[0], 'npm-install-unpinned', `npm ${sub} -g with no package installs the current directory globally, where no lockfile applies`)];
    // Everywhere, as Scorecard does: a developer's script runs it too, and it may rewrite the lock.
    return [at(words[0], 'npm-install-not-ci', `npm ${sub} may update package-lock.json instead of installing what it records`)];
  }
  return packages.flatMap((word) => {
    // A global install has no lockfile: even an exact version resolves its own dependencies afresh.
    if (global) return [at(word, 'npm-install-unpinned', `npm ${sub} -g ${word.text}: a global install has no lockfile, its dependencies resolve to whatever is newest`)];
    if (word.expanded || isPinnedNpmSpec(word.text)) return [];
    return [at(word, 'npm-install-unpinned', `npm ${sub} ${word.text}: not an exact version or commit`)];
  });
}

const YARN_VALUED = new Set(['--cwd', '--registry', '--filter', '-F', '--dir', '-C', '--modules-folder', '--network-timeout']);

/** `yarn add`, `yarn global add`, `pnpm add|install PKG`, `bun add`: the same specs as npm. */
function checkYarnLike(tool: string, words: Word[]): RawFinding[] {
  const operands = words.slice(1).filter((word, i, all) => !word.text.startsWith('-') && !(i > 0 && YARN_VALUED.has(all[i - 1].text)));
  let index = 0;
  const global = operands[0]?.text === 'global' || words.some((word) => word.text === '-g' || word.text === '--global');
  if (operands[0]?.text === 'global') index = 1;
  const sub = operands[index]?.text;
  const adds = sub === 'add' || (tool !== 'yarn' && (sub === 'install' || sub === 'i') && operands.length > index + 1);
  if (!adds) {
    if (sub === 'upgrade' || sub === 'up' || sub === 'update') return [at(words[0], 'npm-install-unpinned', `${tool} ${sub} moves dependencies to the newest versions their ranges allow`)];
    return [];
  }
  return operands.slice(index + 1).flatMap((word) => {
    if (global) return [at(word, 'npm-install-unpinned', `${tool} global add ${word.text}: a global install has no lockfile, its dependencies resolve to whatever is newest`)];
    if (word.expanded || isPinnedNpmSpec(word.text)) return [];
    return [at(word, 'npm-install-unpinned', `${tool} ${sub} ${word.text}: not an exact version or commit`)];
  });
}

const GO_VALUED = new Set(['-tags', '-ldflags', '-gcflags', '-asmflags', '-modfile', '-mod', '-o', '-C', '-p', '-pkgdir', '-toolexec', '-overlay', '-buildmode', '-compiler', '-installsuffix', '-pgo', '-covermode', '-coverpkg']);
/** A Go module version that names fixed content: a full semantic version (pseudo-versions included) or a commit. */
const GO_FIXED_VERSION = /^(v\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?|[0-9a-f]{40,}|none)$/;

/**
 * `go get|install MOD@VERSION`: go.sum and the checksum database pin a full semantic version's content,
 * so that is pinned; `@latest`, `@upgrade`, `@patch`, branches, tags and `@v1.2` move. `go get MOD`
 * without a version upgrades; `go install PKG` without one builds what go.mod requires (pinned).
 */
function checkGo(words: Word[]): RawFinding[] {
  const sub = words[1]?.text;
  if (sub !== 'install' && sub !== 'get' && sub !== 'run') return [];
  const args = words.slice(2);
  const flags = args.filter((word) => word.text.startsWith('-')).map((word) => word.text.replace(/=.*$/, ''));
  const operands = args.filter((word, i) => !word.text.startsWith('-') && !(i > 0 && GO_VALUED.has(args[i - 1].text)));
  const findings: RawFinding[] = [];
  if (sub === 'get' && flags.some((flag) => flag === '-insecure' || /^-u$/.test(flag))) {
    const flag = args.find((word) => word.text === '-u' || word.text.startsWith('-u=') || word.text === '-insecure')!;
    findings.push(at(flag, 'go-install-latest', `go get ${flag.text}: ${flag.text === '-insecure' ? 'skips checksum verification' : 'upgrades the dependencies of what it gets to their newest versions'}`));
  }
  for (const word of operands) {
    const text = word.text;
    if (word.expanded) continue;
    const atSign = text.lastIndexOf('@');
    if (atSign < 0) {
      // A package path, not a module query: local (./…), standard library or resolved through go.mod.
      if (sub === 'get' && /^[a-z0-9-]+(\.[a-z0-9-]+)+\//i.test(text)) {
        findings.push(at(word, 'go-install-latest', `go get ${text}: without a version go get upgrades to the newest release`));
      }
      continue;
    }
    const version = text.slice(atSign + 1);
    if (!GO_FIXED_VERSION.test(version)) {
      findings.push(at(word, 'go-install-latest', `go ${sub} ${text}: ${version} is not a full semantic version or commit, so it resolves to whatever it names today`));
    }
  }
  return findings;
}

/** `gem install NAME` needs `-v|--version EXACT` or `NAME:VERSION`; a local `.gem` file is pinned. */
function checkGem(words: Word[]): RawFinding[] {
  if (words[1]?.text !== 'install' && words[1]?.text !== 'i') return [];
  const args = words.slice(2);
  const versionIndex = args.findIndex((word) => word.text === '-v' || word.text === '--version');
  const version = versionIndex >= 0 ? args[versionIndex + 1]?.text : args.find((word) => word.text.startsWith('--version='))?.text.slice(10);
  const exact = version !== undefined && /^=?\s*\d+(\.[0-9A-Za-z]+)*$/.test(version.trim());
  const valued = new Set(['-v', '--version', '-i', '--install-dir', '-n', '--bindir', '-s', '--source', '-p', '--http-proxy', '--platform', '-g', '--file']);
  const gems = args.filter((word, i) => !word.text.startsWith('-') && !(i > 0 && valued.has(args[i - 1].text)));
  return gems.flatMap((word) => {
    if (word.expanded || word.text.endsWith('.gem') || /:[=\s]*\d+(\.[0-9A-Za-z]+)*$/.test(word.text) || exact) return [];
    return [at(word, 'gem-install-unpinned', `gem install ${word.text}: ${version === undefined ? 'no -v' : `-v ${version} is a range`}, so the newest matching release is installed`)];
  });
}

/** `choco install` verifies package downloads only with --requirechecksum(s) (Scorecard's rule). */
function checkChoco(words: Word[]): RawFinding[] {
  if (words[1]?.text.toLowerCase() !== 'install') return [];
  if (words.slice(2).some((word) => /^--?(requirechecksums?|require-checksums)(=.*)?$/i.test(word.text))) return [];
  return [at(words[0], 'choco-unverified', 'choco install without --requirechecksums: downloads are not checked against package checksums')];
}

/** NuGet: `nuget install` needs -Version, restores need locked mode, `dotnet add package` needs --version. */
function checkNuget(tool: string, words: Word[], context: PackageManagerContext): RawFinding[] {
  const args = words.slice(1).map((word) => word.text);
  const has = (...flags: string[]) => args.some((arg) => flags.some((flag) => arg.toLowerCase() === flag.toLowerCase()));
  const lower = args.map((arg) => arg.toLowerCase());
  const restore = (tool !== 'msbuild' && lower[0] === 'restore') || tool === 'msbuild';
  // A restore is pinned when the repository's project files lock it, whatever the command line says.
  const found = (message: string) => (restore && context.nugetLocked?.() ? [] : [at(words[0], 'nuget-unlocked', message)]);
  if (tool === 'nuget' && lower[0] === 'install') {
    if (args.length === 1 || args[1].endsWith('packages.config') || has('-Version')) return [];
    return found(`nuget install ${args[1]} without -Version installs the newest release`);
  }
  if (tool === 'nuget' && lower[0] === 'restore') return has('-LockedMode') ? [] : found('nuget restore without -LockedMode may resolve other versions than packages.lock.json');
  if (tool === 'dotnet' && lower[0] === 'restore') return has('--locked-mode') ? [] : found('dotnet restore without --locked-mode may resolve other versions than packages.lock.json');
  if (tool === 'dotnet' && lower[0] === 'add' && (lower[1] === 'package' || lower[2] === 'package')) {
    return has('-v', '--version') ? [] : found('dotnet add package without --version adds the newest release');
  }
  if (tool === 'msbuild' && lower.some((arg) => /^[-/]t(arget)?:(.*;)?restore(;.*)?$/.test(arg))) {
    return lower.some((arg) => /^[-/]p(roperty)?:restorelockedmode=true$/.test(arg)) ? [] : found('msbuild /t:restore without /p:RestoreLockedMode=true may resolve other versions than packages.lock.json');
  }
  return [];
}

/** The arguments after `install` of `pip install`, `pip3.12 install`, `python3 -m pip install`, `uv pip install`. */
function pipArguments(name: string, words: Word[]): Word[] | undefined {
  let i: number;
  if (/^pip[0-9.]*$/.test(name)) i = 1;
  else if (/^python[0-9.]*$/.test(name) && words[1]?.text === '-m' && words[2]?.text === 'pip') i = 3;
  else if (name === 'uv' && words[1]?.text === 'pip') i = 2;
  else return undefined;
  return words[i]?.text === 'install' ? words.slice(i + 1) : undefined;
}

const PIP_VALUED = new Set(['-r', '--requirement', '-c', '--constraint', '-e', '--editable', '-i', '--index-url', '--extra-index-url', '-f', '--find-links', '-t', '--target', '--prefix', '--root', '--platform', '--python-version', '--implementation', '--abi', '--src', '--upgrade-strategy', '--progress-bar', '--log', '--cache-dir', '--trusted-host', '--proxy', '--timeout', '--retries', '--no-binary', '--only-binary', '--config-settings', '-C', '--global-option']);

/** A pip requirement that downloads nothing: a local path, or a VCS URL at a full commit. */
function isPinnedPipSource(spec: string, editable: boolean): boolean {
  // pip reads an editable `git://…` as `git+git://…` (parse_editable prefixes a bare VCS scheme).
  if (editable && BARE_VCS_URL.test(spec)) spec = spec.replace(/^([a-z]+):/i, (_, vcs: string) => `${vcs.toLowerCase()}+${vcs}:`);
  // git and Mercurial revisions are content hashes; Subversion and Bazaar revisions are not.
  if (/^(git|hg)\+/.test(spec)) return /@[0-9a-f]{40}(#.*)?$/i.test(spec);
  if (/^(svn|bzr)\+/.test(spec)) return false;
  if (/^[a-z]+:\/\//i.test(spec)) return isContentPinnedUrl(spec);
  // Not a URL and not a bare name: a local directory, wheel or sdist (package names have no `/` or extension).
  return /^(\.|\/|~)/.test(spec) || spec.includes('/') || /\.(whl|tar\.gz|zip)$/.test(spec);
}

/** A VCS URL without pip's `vcs+` prefix: pip refuses it as a requirement (unless editable). */
const BARE_VCS_URL = /^(git|hg|svn|bzr):\/\//i;

function checkPip(commandWord: Word, args: Word[], context: PackageManagerContext): RawFinding[] {
  if (args.some((word) => word.text === '--require-hashes')) return [];
  const requirementFiles: Word[] = [];
  const requirements: Word[] = [];
  const editables = new Set<Word>();
  args.forEach((word, i) => {
    const text = word.text;
    if ((text === '-r' || text === '--requirement') && args[i + 1]) requirementFiles.push(args[i + 1]);
    else if (text.startsWith('--requirement=')) requirementFiles.push({ ...word, text: text.slice('--requirement='.length) });
    else if (/^-r./.test(text)) requirementFiles.push({ ...word, text: text.slice(2) });
    else if (text.startsWith('--editable=')) editables.add(requirements[requirements.push({ ...word, text: text.slice('--editable='.length) }) - 1]);
    else if (!text.startsWith('-') && !(i > 0 && PIP_VALUED.has(args[i - 1].text) && !['-e', '--editable'].includes(args[i - 1].text))) {
      requirements.push(word);
      if (i > 0 && ['-e', '--editable'].includes(args[i - 1].text)) editables.add(word);
    }
  });
  // pip refuses `git://…` as a plain requirement ("Invalid requirement") before installing anything,
  // so the command installs nothing: no finding, as for gsutil without cp.
  if (requirements.some((word) => !editables.has(word) && !word.expanded && BARE_VCS_URL.test(word.text))) return [];
  // pip checks hashes of everything once any requirement carries one.
  const contents = requirementFiles.map((file) => (file.expanded ? undefined : context.readRelated?.(file.text)));
  if (contents.some((text) => text !== undefined && /^[^#\n]*--hash[= ]/m.test(text))) return [];
  // --no-deps of local paths or commit-pinned VCS URLs fetches nothing unpinned (Scorecard accepts `-e` only; any local path is the same).
  const noDeps = args.some((word) => word.text === '--no-deps');
  if (noDeps && requirementFiles.length === 0 && requirements.length > 0 && requirements.every((word) => isPinnedPipSource(word.text, editables.has(word)))) return [];
  const why =
    requirementFiles.length === 0
      ? requirements.some((word) => word.text.endsWith('.whl'))
        ? 'a wheel still resolves its dependencies unhashed; add --no-deps or --require-hashes'
        : 'no --require-hashes'
      : requirementFiles.map((file, i) => `${file.text} ${contents[i] === undefined ? 'not found' : 'has no --hash= lines'}`).join(', ');
  return [at(commandWord, 'pip-unhashed', `pip install without hash checking (${why})`)];
}

/** A Dockerfile's `apt-get install` that its lock does not cover installs what the archive has that day. */
function checkApt(words: Word[], locked: (command: string, expanded: boolean) => boolean): RawFinding[] {
  const install = aptInstall(words.map((word) => word.text));
  if (!install || install.packages.length === 0) return [];
  if (locked(install.command, words.some((word) => word.expanded))) return [];
  const unversioned = install.packages.filter((name) => !name.includes('='));
  const why = unversioned.length ? `${unversioned.join(', ')} unversioned, ` : '';
  return [at(words[0], 'apt-install-unlocked', `${install.command}: ${why}no <Dockerfile>.lock.json locks it, so the packages are whatever the archive has on the day of the build`)];
}
