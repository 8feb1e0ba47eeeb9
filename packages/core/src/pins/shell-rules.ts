import { MappedText } from './mapped-text';
import { isPinnedImage, type RawFinding } from './rules';
import { allPipelines, parseShell, type Pipeline, type SimpleCommand, type Word } from './shell';

/** Where a script comes from: `npm install` is only a finding where `npm ci` belongs (CI, images). */
export type ShellContext = 'script' | 'makefile' | 'dockerfile' | 'workflow' | 'pkgbuild';

export interface ShellCheckOptions {
  context: ShellContext;
  /** A file the script names (a pip requirements file), relative to the scanned file; undefined when absent. */
  readRelated?: (path: string) => string | undefined;
}

export function checkShellScript(source: MappedText, options: ShellCheckOptions): RawFinding[] {
  return checkPipelines(parseShell(source), options);
}

export function checkPipelines(pipelines: Pipeline[], options: ShellCheckOptions): RawFinding[] {
  const findings: RawFinding[] = [];
  for (const pipeline of allPipelines(pipelines)) {
    findings.push(...checkPipedDownloads(pipeline));
    for (const command of pipeline.commands) findings.push(...checkCommand(command, options));
  }
  return findings;
}

const SHELLS = new Set(['sh', 'bash', 'zsh', 'dash', 'ksh', 'ash', 'mksh', 'fish']);
const DOWNLOADERS = new Set(['curl', 'wget']);
/** Words that precede a command without being it. */
const PREFIX_KEYWORDS = new Set(['!', '{', '}', 'then', 'do', 'else', 'elif', 'if', 'while', 'until', 'time', 'exec', 'command', 'builtin', 'nohup']);
/** Wrappers that run the command after their options; the options listed take a value. */
const WRAPPERS: Record<string, Set<string>> = {
  sudo: new Set(['-u', '-g', '-C', '-D', '-h', '-p', '-r', '-t', '-U', '--user', '--group']),
  doas: new Set(['-u', '-C']),
  env: new Set(['-u', '-C', '-S', '--unset', '--chdir']),
  nice: new Set(['-n', '--adjustment']),
  timeout: new Set(['-s', '-k', '--signal', '--kill-after']),
};

/** The words from the command name on: assignments, keywords and wrappers (sudo, env…) dropped. */
export function commandWords(command: SimpleCommand): Word[] {
  const words = command.words;
  let i = 0;
  for (;;) {
    const word = words[i];
    if (!word) return [];
    if (word.array || /^[A-Za-z_][A-Za-z0-9_]*(\[[^\]]*\])?\+?=/.test(word.raw) || PREFIX_KEYWORDS.has(word.raw)) {
      i++;
      continue;
    }
    const valued = WRAPPERS[baseName(word.text)];
    if (!valued) return words.slice(i);
    const wrapper = baseName(word.text);
    i++;
    while (words[i] && (words[i].text.startsWith('-') || (wrapper === 'env' && words[i].text.includes('=')))) {
      if (valued.has(words[i].text)) i++;
      i++;
    }
    if (wrapper === 'timeout' && words[i]) i++; // the duration
  }
}

function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

function commandName(words: Word[]): string | undefined {
  return words[0] && !words[0].expanded ? baseName(words[0].text) : undefined;
}

function at(word: Word, rule: string, message: string): RawFinding {
  return { rule, line: word.position.line, column: word.position.column, message };
}

/** `curl … | sh`: a download executed without checking what arrived. */
function checkPipedDownloads(pipeline: Pipeline): RawFinding[] {
  const names = pipeline.commands.map((command) => commandName(commandWords(command)));
  const download = names.findIndex((name) => name !== undefined && DOWNLOADERS.has(name));
  if (download < 0) return [];
  const shell = names.findIndex((name, i) => i > download && name !== undefined && SHELLS.has(name));
  if (shell < 0) return [];
  const word = commandWords(pipeline.commands[download])[0];
  return [at(word, 'download-piped-to-shell', `${names[download]} output is piped into ${names[shell]}: the script runs without a hash check`)];
}

function checkCommand(command: SimpleCommand, options: ShellCheckOptions): RawFinding[] {
  const words = commandWords(command);
  const name = commandName(words);
  if (name === undefined) return [];
  if (SHELLS.has(name) || name === 'eval' || name === 'source' || name === '.') return checkShellOfDownload(name, words, options);
  if (name === 'docker' || name === 'podman' || name === 'nerdctl' || name === 'buildah') return checkContainerImage(name, words);
  if (name === 'cargo') return checkCargo(words);
  if (name === 'npm') return checkNpm(words, options);
  if (name === 'go') return checkGo(words);
  const pip = pipArguments(name, words);
  if (pip) return checkPip(words[0], pip, options);
  return [];
}

/** `sh -c "$(curl …)"`, `bash <(curl …)`, `eval "$(wget -O- …)"`; and `sh -c '…'` scripts themselves. */
function checkShellOfDownload(name: string, words: Word[], options: ShellCheckOptions): RawFinding[] {
  const findings: RawFinding[] = [];
  for (const word of words.slice(1)) {
    for (const pipeline of allPipelines(word.substitutions)) {
      const first = commandWords(pipeline.commands[0] ?? { words: [] });
      const downloader = commandName(first);
      if (downloader && DOWNLOADERS.has(downloader)) {
        findings.push(at(first[0], 'download-piped-to-shell', `${name} runs what ${downloader} downloads: the script runs without a hash check`));
      }
    }
  }
  const dashC = words.findIndex((word, i) => i > 0 && /^-[a-z]*c$/.test(word.text));
  const script = words[dashC + 1];
  if (SHELLS.has(name) && dashC > 0 && script && !script.expanded) {
    const quoted = /^['"]/.test(script.raw) ? 1 : 0;
    const origin = { line: script.position.line, column: script.position.column + quoted };
    findings.push(...checkShellScript(MappedText.fromLines(script.text, origin), options));
  }
  return findings;
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

/** The first word from `start` that is not an option or an option's value. */
function firstOperand(words: Word[], start: number, valued: (flag: string) => boolean): Word | undefined {
  for (let i = start; i < words.length; i++) {
    const text = words[i].text;
    if (text === '--') return words[i + 1];
    if (!text.startsWith('-') || text === '-') return words[i];
    if (valued(text)) i++;
  }
  return undefined;
}

const CARGO_RESOLVING = new Set(['build', 'b', 'install', 'run', 'r']);
const CARGO_GLOBAL_VALUED = new Set(['-Z', '--config', '-C', '--color']);

function checkCargo(words: Word[]): RawFinding[] {
  const end = words.findIndex((word) => word.text === '--');
  const own = end < 0 ? words : words.slice(0, end);
  const start = own[1]?.text.startsWith('+') ? 2 : 1; // `cargo +nightly build`
  const subcommand = firstOperand(own, start, (flag) => CARGO_GLOBAL_VALUED.has(flag))?.text;
  if (!subcommand || !CARGO_RESOLVING.has(subcommand)) return [];
  if (own.some((word) => word.text === '--locked' || word.text === '--frozen')) return [];
  return [at(words[0], 'cargo-unlocked', `cargo ${subcommand} without --locked: dependencies may resolve to other versions than Cargo.lock records`)];
}

const NPM_INSTALL = new Set(['install', 'i', 'in', 'ins', 'inst', 'insta', 'instal', 'isnt', 'isnta', 'isntal', 'isntall']);
const NPM_VALUED = new Set(['--prefix', '--omit', '--include', '--registry', '--cache', '--loglevel', '--workspace', '-w', '--tag', '--userconfig']);

function checkNpm(words: Word[], options: ShellCheckOptions): RawFinding[] {
  if (options.context !== 'workflow' && options.context !== 'dockerfile') return [];
  const subcommand = firstOperand(words, 1, (flag) => NPM_VALUED.has(flag));
  if (!subcommand || !NPM_INSTALL.has(subcommand.text)) return [];
  const rest = words.slice(words.indexOf(subcommand) + 1);
  // `npm install some-tool` adds a package; only installing the project's dependencies is `npm ci`'s job.
  if (firstOperand(rest, 0, (flag) => NPM_VALUED.has(flag))) return [];
  if (rest.some((word) => word.text === '-g' || word.text === '--global')) return [];
  return [at(words[0], 'npm-install-not-ci', `npm ${subcommand.text} may update package-lock.json instead of installing what it records`)];
}

const GO_MOVING_VERSION = /@(latest|master|main|HEAD)$/;

function checkGo(words: Word[]): RawFinding[] {
  const subcommand = words[1]?.text;
  if (subcommand !== 'install' && subcommand !== 'run' && subcommand !== 'get') return [];
  return words
    .slice(2)
    .filter((word) => GO_MOVING_VERSION.test(word.text))
    .map((word) => at(word, 'go-install-latest', `go ${subcommand} ${word.text}: ${GO_MOVING_VERSION.exec(word.text)![1]} is whatever it is today, not a fixed version`));
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

function checkPip(commandWord: Word, args: Word[], options: ShellCheckOptions): RawFinding[] {
  if (args.some((word) => word.text === '--require-hashes')) return [];
  const requirementFiles: Word[] = [];
  args.forEach((word, i) => {
    const text = word.text;
    if ((text === '-r' || text === '--requirement') && args[i + 1]) requirementFiles.push(args[i + 1]);
    else if (text.startsWith('--requirement=')) requirementFiles.push({ ...word, text: text.slice('--requirement='.length) });
    else if (/^-r./.test(text)) requirementFiles.push({ ...word, text: text.slice(2) });
  });
  // pip checks hashes of everything once any requirement carries one.
  const contents = requirementFiles.map((file) => (file.expanded ? undefined : options.readRelated?.(file.text)));
  if (contents.some((text) => text !== undefined && /^[^#\n]*--hash[= ]/m.test(text))) return [];
  const why =
    requirementFiles.length === 0
      ? 'no --require-hashes'
      : requirementFiles.map((file, i) => `${file.text} ${contents[i] === undefined ? 'not found' : 'has no --hash= lines'}`).join(', ');
  return [at(commandWord, 'pip-unhashed', `pip install without hash checking (${why})`)];
}
