import { at, commandName, commandWords, firstOperand } from './command-words';
import { DownloadScope, SHELLS } from './downloads';
import { MappedText } from '../mapped-text';
import { checkPackageManager } from './package-managers';
import { isPinnedImage, type RawFinding } from '../rules';
import { allPipelines, parseShell, ShellParseError, type Pipeline, type SimpleCommand, type Word } from './shell';

/** Where a script comes from: `npm install` is only a finding where `npm ci` belongs (CI, images). */
export type ShellContext = 'script' | 'makefile' | 'dockerfile' | 'workflow' | 'pkgbuild';

export interface ShellCheckOptions {
  context: ShellContext;
  /** A file the script names (a pip requirements file), relative to the scanned file; undefined when absent. */
  readRelated?: (path: string) => string | undefined;
  /**
   * What was downloaded earlier in the same scope (the script, the Dockerfile stage, the workflow job),
   * so that a download run by a later statement is found; a new scope when absent.
   */
  downloads?: DownloadScope;
  /** How many `sh -c '…'` levels this script is inside. */
  nesting?: number;
  /** Whether the repository's project files lock NuGet restores (so a restore without the flag is pinned). */
  nugetLocked?: () => boolean;
  /** In a Dockerfile RUN: whether its lock covers an apt install (see PackageManagerContext). */
  aptLocked?: (command: string, expanded: boolean) => boolean;
}

/** `sh -c 'sh -c "…"'` is read this many levels deep; deeper is a finding, not a recursion without end. */
const MAX_SCRIPT_NESTING = 16;

export function checkShellScript(source: MappedText, options: ShellCheckOptions): RawFinding[] {
  let pipelines: Pipeline[];
  try {
    pipelines = parseShell(source);
  } catch (error) {
    if (!(error instanceof ShellParseError)) throw error;
    return [{ rule: 'pins-unparsable', ...error.position, message: `shell script not checked: ${error.message}` }];
  }
  return checkPipelines(pipelines, options);
}

export function checkPipelines(pipelines: Pipeline[], options: ShellCheckOptions): RawFinding[] {
  const scoped: ShellCheckOptions = { ...options, downloads: options.downloads ?? new DownloadScope(options.readRelated) };
  const findings: RawFinding[] = [];
  for (const pipeline of allPipelines(pipelines)) {
    findings.push(...scoped.downloads!.check(pipeline));
    for (const command of pipeline.commands) findings.push(...checkCommand(command, scoped));
  }
  return findings;
}

function checkCommand(command: SimpleCommand, options: ShellCheckOptions): RawFinding[] {
  const words = commandWords(command);
  const name = commandName(words);
  if (name === undefined) return [];
  const script = inlineScript(name, words);
  if (script) return checkInlineScript(script, options);
  if (name === 'docker' || name === 'podman' || name === 'nerdctl' || name === 'buildah') return checkContainerImage(name, words);
  if (name === 'cargo') return checkCargo(words);
  return checkPackageManager(name, words, { readRelated: options.readRelated, nugetLocked: options.nugetLocked, aptLocked: options.aptLocked }) ?? [];
}

/** The script a command runs from its arguments: `sh -c '…'`, `su -c '…'`, `eval '…'`. */
function inlineScript(name: string, words: Word[]): Word | undefined {
  if (name === 'eval') return words.length === 2 ? words[1] : undefined;
  if (SHELLS.has(name) || name === 'su' || name === 'runuser') {
    const dashC = words.findIndex((word, i) => i > 0 && (/^-[a-z]*c$/.test(word.text) || word.text === '--command'));
    if (dashC > 0) return words[dashC + 1];
    const long = words.find((word) => word.text.startsWith('--command='));
    if (long) return { ...long, text: long.text.slice('--command='.length) };
  }
  return undefined;
}

/** An inline script is checked like a file, in the same download scope: `curl -o f …; sh -c "./f"` is found. */
function checkInlineScript(script: Word, options: ShellCheckOptions): RawFinding[] {
  if (script.expanded && script.substitutions.length === 0) return []; // `sh -c "$CMD"`: not known here
  const nesting = (options.nesting ?? 0) + 1;
  if (nesting > MAX_SCRIPT_NESTING) {
    return [{ rule: 'pins-unparsable', ...script.position, message: `shell script not checked: sh -c nested more than ${MAX_SCRIPT_NESTING} deep` }];
  }
  if (script.expanded) return []; // its substitutions are checked as pipelines of their own
  const quoted = /^['"]/.test(script.raw) ? 1 : 0;
  const origin = { line: script.position.line, column: script.position.column + quoted };
  return checkShellScript(MappedText.fromLines(script.text, origin), { ...options, nesting });
}

/** Options of `docker run`/`create`/`pull`, `podman …`, `buildah from` that take no value. */
const FLAGS_WITHOUT_VALUE = new Set([
  '--rm', '--detach', '--interactive', '--tty', '--privileged', '--init', '--read-only', '--publish-all', '--no-healthcheck',
  '--oom-kill-disable', '--sig-proxy', '--quiet', '--disable-content-trust', '--all-tags', '--help', '--replace', '--rmi',
  '--tls-verify', '--http-proxy', '--env-host', '--no-hosts', '--read-only-tmpfs', '--rootfs', '--pull-always', '--pull-never', '--debug',
]);
const SHORT_FLAGS_WITHOUT_VALUE: Record<string, string> = { run: 'ditPq', create: 'ditPq', pull: 'aq', from: 'q' };
/** Options before the subcommand (`docker --context x run …`) that take no value. */
const GLOBAL_FLAGS_WITHOUT_VALUE = new Set(['-D', '--debug', '--tls', '--tlsverify', '--remote', '-r']);

function checkContainerImage(tool: string, words: Word[]): RawFinding[] {
  let i = 1;
  while (words[i]?.text.startsWith('-')) i += GLOBAL_FLAGS_WITHOUT_VALUE.has(words[i].text) || words[i].text.includes('=') ? 1 : 2;
  let subcommand = words[i]?.text;
  if (subcommand === 'container' || subcommand === 'image') subcommand = words[++i]?.text;
  const checked = tool === 'buildah' ? ['from', 'pull'] : ['run', 'create', 'pull'];
  if (subcommand === undefined || !checked.includes(subcommand)) return [];
  const image = firstOperand(words, i + 1, (flag) => takesValue(flag, subcommand!, tool));
  if (!image || image.expanded || image.text === 'scratch' || isPinnedImage(image.text)) return [];
  return [at(image, 'container-image-unpinned', `${tool} ${subcommand} ${image.text}: the image is not pinned by digest`)];
}

function takesValue(flag: string, subcommand: string, tool: string): boolean {
  if (flag.includes('=')) return false;
  if (flag.startsWith('--')) return !(FLAGS_WITHOUT_VALUE.has(flag) || (tool === 'buildah' && flag === '--pull'));
  // A cluster of short options (`-it`, `-dp 80:80`) takes a value when its last letter does.
  return !(SHORT_FLAGS_WITHOUT_VALUE[subcommand] ?? '').includes(flag[flag.length - 1]);
}

const CARGO_RESOLVING = new Set(['build', 'b', 'install', 'run', 'r']);
const CARGO_GLOBAL_VALUED = new Set(['-Z', '--config', '-C', '--color']);
const CARGO_INSTALL_VALUED = new Set(['--version', '--vers', '--git', '--branch', '--tag', '--rev', '--path', '--root', '--index', '--registry', '--target', '--target-dir', '--features', '-F', '--profile', '-j', '--jobs', '--bin', '--example', '--config', '--color', '-Z']);

function checkCargo(words: Word[]): RawFinding[] {
  const end = words.findIndex((word) => word.text === '--');
  const own = end < 0 ? words : words.slice(0, end);
  const start = own[1]?.text.startsWith('+') ? 2 : 1; // `cargo +nightly build`
  const subcommandWord = firstOperand(own, start, (flag) => CARGO_GLOBAL_VALUED.has(flag));
  const subcommand = subcommandWord?.text;
  if (!subcommand || !CARGO_RESOLVING.has(subcommand)) return [];
  const findings = subcommand === 'install' ? checkCargoInstall(own.slice(own.indexOf(subcommandWord!) + 1)) : [];
  if (own.some((word) => word.text === '--locked' || word.text === '--frozen')) return findings;
  return [at(words[0], 'cargo-unlocked', `cargo ${subcommand} without --locked: dependencies may resolve to other versions than Cargo.lock records`), ...findings];
}

/**
 * `cargo install CRATE` installs the newest release unless `--version X.Y.Z` (exact without an operator,
 * per cargo's docs) or `CRATE@X.Y.Z` says which; `--git` needs `--rev <full commit>`; `--path` is local.
 */
function checkCargoInstall(args: Word[]): RawFinding[] {
  const value = (flag: string) => {
    const i = args.findIndex((word) => word.text === flag || word.text.startsWith(`${flag}=`));
    if (i < 0) return undefined;
    return args[i].text.includes('=') ? args[i].text.slice(flag.length + 1) : (args[i + 1]?.text ?? '');
  };
  if (value('--path') !== undefined) return [];
  const git = value('--git');
  if (git !== undefined) {
    const rev = value('--rev');
    if (rev !== undefined && /^[0-9a-f]{40}$/.test(rev)) return [];
    const word = args.find((w) => w.text === '--git' || w.text.startsWith('--git='))!;
    return [at(word, 'cargo-install-unpinned', `cargo install --git ${git}: ${rev === undefined ? 'no --rev' : `--rev ${rev} is not a full commit`}, so it builds whatever the branch or tag names today`)];
  }
  const version = value('--version') ?? value('--vers');
  const crates = args.filter((word, i) => !word.text.startsWith('-') && !(i > 0 && CARGO_INSTALL_VALUED.has(args[i - 1].text)));
  const exact = (v: string) => /^=?\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/.test(v);
  return crates.flatMap((word) => {
    const atVersion = word.text.includes('@') ? word.text.slice(word.text.indexOf('@') + 1) : version;
    if (word.expanded || (atVersion !== undefined && exact(atVersion))) return [];
    return [at(word, 'cargo-install-unpinned', `cargo install ${word.text}: ${atVersion === undefined ? 'no version' : `${atVersion} is a range`}, so the newest matching release is installed`)];
  });
}
