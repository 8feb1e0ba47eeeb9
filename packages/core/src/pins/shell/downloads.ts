import { at, baseName, commandName, commandWords } from './command-words';
import type { Position } from '../mapped-text';
import type { RawFinding } from '../rules';
import { allPipelines, type Pipeline, type SimpleCommand, type Word } from './shell';

/**
 * Downloads that are executed without a hash check: `curl … | sh`, `bash <(curl …)`,
 * `sh -c "$(curl …)"`, and a file fetched by curl, wget, gsutil, gcloud storage or aws and run later (`./f`,
 * `sh f`, `source f`, `python f`) in the same script, Dockerfile stage or workflow job. A fetched
 * file checked before it runs (`sha256sum -c`, `echo "<hash>  f" | sha256sum -c`, a comparison
 * of its hash, `gpg --verify`) is pinned, and so is a URL that names a full commit.
 */

export const SHELLS = new Set(['sh', 'bash', 'zsh', 'dash', 'ksh', 'ash', 'mksh', 'fish']);
const SCRIPT_INTERPRETERS = new Set(['perl', 'ruby', 'node', 'nodejs', 'php', 'pwsh', 'deno', 'bun']);

/** A program that runs a script: from a file operand, from `-c`/`-e`, or from its standard input. */
export function isInterpreter(name: string): boolean {
  return SHELLS.has(name) || SCRIPT_INTERPRETERS.has(name) || /^python[0-9.]*$/.test(name);
}

/** A URL that names a full commit (raw files, archives, cgit `?id=`) has content fixed by that commit. */
export function isContentPinnedUrl(text: string): boolean {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return false;
  }
  const commit = /^[0-9a-f]{40}(?:[0-9a-f]{24})?(?:\.(?:tar\.gz|tgz|tar\.bz2|tar\.xz|tar|zip))?$/i;
  if (url.pathname.split('/').some((segment) => commit.test(segment))) return true;
  return ['id', 'h', 'ref', 'commit', 'sha'].some((key) => /^[0-9a-f]{40}(?:[0-9a-f]{24})?$/i.test(url.searchParams.get(key) ?? ''));
}

interface Download {
  tool: string;
  word: Word;
  urls: string[];
  /** Where it writes, as written in the script; `-` is standard output. */
  output: string;
}

const URL_LIKE = /^(https?|ftp|gs|s3):\/\//i;

/** Options of curl (`man curl`) and wget (`man wget`) that take a value. */
const CURL_SHORT_VALUED = 'AbcCdDeEFHKmoPQrtTuUwxXyYz';
const CURL_LONG_VALUED = new Set([
  '--output', '--output-dir', '--header', '--user', '--request', '--data', '--data-raw', '--data-binary', '--data-urlencode', '--user-agent',
  '--referer', '--upload-file', '--write-out', '--proxy', '--max-time', '--connect-timeout', '--retry', '--retry-delay', '--retry-max-time',
  '--cookie', '--cookie-jar', '--continue-at', '--cert', '--cacert', '--capath', '--config', '--range', '--form', '--dump-header',
  '--limit-rate', '--resolve', '--connect-to', '--url', '--max-filesize', '--speed-time', '--speed-limit', '--interface', '--proto',
  '--proto-redir', '--key', '--pass', '--oauth2-bearer', '--netrc-file', '--unix-socket', '--max-redirs', '--noproxy', '--proxy-user',
  '--quote', '--trace', '--trace-ascii', '--variable', '--json', '--etag-save', '--etag-compare', '--aws-sigv4', '--local-port',
  '--happy-eyeballs-timeout-ms', '--keepalive-time', '--expect100-timeout', '--ciphers', '--tls-max', '--stderr', '--create-file-mode',
]);
const WGET_SHORT_VALUED = 'OoaPtTwUeiBQlDARIX';
const WGET_LONG_VALUED = new Set([
  '--output-document', '--output-file', '--append-output', '--directory-prefix', '--tries', '--timeout', '--wait', '--user-agent',
  '--execute', '--input-file', '--base', '--quota', '--level', '--domains', '--accept', '--reject', '--header', '--user', '--password',
  '--post-data', '--post-file', '--ca-certificate', '--certificate', '--private-key', '--load-cookies', '--save-cookies', '--referer',
  '--limit-rate', '--method', '--body-data', '--body-file', '--http-user', '--http-password', '--progress', '--bind-address',
]);

interface ParsedOption {
  name: string;
  value?: string;
}

/** Options (with their values, from a short cluster's rest, `--x=y` or the next word) and operands. */
function parseOptions(words: Word[], shortValued: string, longValued: Set<string>): { options: ParsedOption[]; operands: Word[] } {
  const options: ParsedOption[] = [];
  const operands: Word[] = [];
  for (let i = 0; i < words.length; i++) {
    const text = words[i].text;
    if (text === '--') {
      operands.push(...words.slice(i + 1));
      break;
    }
    if (text.startsWith('--')) {
      const eq = text.indexOf('=');
      if (eq > 0) options.push({ name: text.slice(0, eq), value: text.slice(eq + 1) });
      else if (longValued.has(text)) options.push({ name: text, value: words[++i]?.text });
      else options.push({ name: text });
    } else if (text.startsWith('-') && text.length > 1) {
      for (let j = 1; j < text.length; j++) {
        const letter = text[j];
        if (shortValued.includes(letter)) {
          options.push({ name: `-${letter}`, value: j + 1 < text.length ? text.slice(j + 1) : words[++i]?.text });
          break;
        }
        options.push({ name: `-${letter}` });
      }
    } else {
      operands.push(words[i]);
    }
  }
  return { options, operands };
}

function urlBaseName(url: string): string {
  try {
    return baseName(new URL(url).pathname) || 'index.html';
  } catch {
    return baseName(url.replace(/[?#].*$/, '')) || 'index.html';
  }
}

/** The redirect of standard output (`> f`, `>> f`, `&> f`), if any. */
function stdoutRedirect(command: SimpleCommand): string | undefined {
  const redirect = command.redirects?.find((r) => /^(>|>>|>\||&>|&>>)$/.test(r.op) && (r.fd === undefined || r.fd === 1) && r.target);
  return redirect?.target?.text;
}

/** What `command` downloads and where it writes it, or undefined when it downloads nothing. */
export function downloadOf(command: SimpleCommand): Download | undefined {
  const words = commandWords(command);
  const tool = commandName(words);
  if (!tool) return undefined;
  const args = words.slice(1);
  const redirected = stdoutRedirect(command);
  const join = (dir: string | undefined, name: string) => (dir ? `${dir.replace(/\/+$/, '')}/${name}` : name);
  if (tool === 'curl') {
    const { options, operands } = parseOptions(args, CURL_SHORT_VALUED, CURL_LONG_VALUED);
    const urls = [...operands.map((w) => w.text), ...options.filter((o) => o.name === '--url' && o.value).map((o) => o.value!)];
    const dir = options.find((o) => o.name === '--output-dir')?.value;
    const named = options.find((o) => o.name === '-o' || o.name === '--output')?.value;
    const remote = options.some((o) => ['-O', '--remote-name', '--remote-name-all', '-J', '--remote-header-name'].includes(o.name));
    const output = named !== undefined ? (named === '-' ? '-' : join(dir, named)) : remote && urls[0] ? join(dir, urlBaseName(urls[0])) : (redirected ?? '-');
    return { tool, word: words[0], urls, output };
  }
  if (tool === 'wget') {
    const { options, operands } = parseOptions(args, WGET_SHORT_VALUED, WGET_LONG_VALUED);
    const urls = operands.map((w) => w.text);
    const named = options.find((o) => o.name === '-O' || o.name === '--output-document')?.value;
    const dir = options.find((o) => o.name === '-P' || o.name === '--directory-prefix')?.value;
    const output = named !== undefined ? named : urls[0] ? join(dir, urlBaseName(urls[0])) : '-';
    return { tool, word: words[0], urls, output: output === '-' && redirected ? redirected : output };
  }
  if (tool === 'gsutil' || tool === 'aws' || tool === 'gcloud') {
    // gsutil [-m] cp [options] gs://… DEST; aws s3 cp s3://… DEST; aws s3api get-object --bucket b --key k OUTFILE
    const operands = args.filter((w) => !w.text.startsWith('-'));
    if (tool === 'aws' && operands[0]?.text === 's3api' && operands[1]?.text === 'get-object') {
      const outfile = args[args.length - 1];
      const bucket = args[args.findIndex((w) => w.text === '--bucket') + 1]?.text ?? '';
      const key = args[args.findIndex((w) => w.text === '--key') + 1]?.text ?? '';
      return { tool: 'aws s3api get-object', word: words[0], urls: [`s3://${bucket}/${key}`], output: outfile?.text ?? '-' };
    }
    const cp = operands.findIndex((w) => w.text === 'cp');
    // `gsutil [-m] cp`, `gcloud storage cp`, `aws s3 cp`: without `cp` (`gsutil gs://x f`) the tools refuse the command.
    if (cp < 0 || (tool === 'aws' && operands[0]?.text !== 's3') || (tool === 'gcloud' && operands[0]?.text !== 'storage')) return undefined;
    const [source, destination] = operands.slice(cp + 1);
    if (!source || !/^(gs|s3):\/\//.test(source.text) || !destination) return undefined;
    const dest = destination.text;
    const output = dest === '-' ? (redirected ?? '-') : dest.endsWith('/') || dest === '.' ? join(dest === '.' ? undefined : dest, urlBaseName(source.text)) : dest;
    return { tool: `${tool} cp`, word: words[0], urls: [source.text], output };
  }
  return undefined;
}

/** Pinned when it names at least one URL and every URL names a full commit (as Scorecard counts it). */
function isPinnedDownload(download: Download): boolean {
  const urls = download.urls.filter((url) => URL_LIKE.test(url) || url.includes('$'));
  return urls.length > 0 && urls.every(isContentPinnedUrl);
}

export function normalizePath(path: string): string {
  let p = path.replace(/\/{2,}/g, '/').replace(/\/\.(?=\/|$)/g, '');
  while (p.startsWith('./')) p = p.slice(2);
  return p;
}

/** Does `words` (an interpreter's arguments) run a script from its standard input? */
function runsStandardInput(name: string, args: Word[]): boolean {
  for (let i = 0; i < args.length; i++) {
    const text = args[i].text;
    if (text === '-' || text === '-s' || /^\/dev\/(stdin|fd\/0)$/.test(text) || (SHELLS.has(name) && /^-[a-z]*s[a-z]*$/.test(text))) return true;
    if (/^-[a-zA-Z]*[ce]$/.test(text) || text === '-m' || text === '--eval' || text === '--command') return false; // a script or module named here
    if ((text === '-o' || text === '+o' || text === '-O' || text === '-W' || text === '-X') && i + 1 < args.length) {
      i++;
      continue;
    }
    if (!text.startsWith('-') && !text.startsWith('+')) return false; // a script file
  }
  return true;
}

/** The files a command executes: itself (`./f`), or an interpreter's script operand (`sh f`, `. f`). */
function executedFiles(words: Word[]): Word[] {
  const name = commandName(words);
  if (!words[0]) return [];
  const files: Word[] = [words[0]];
  if (name === 'source' || name === '.') {
    if (words[1]) files.push(words[1]);
  } else if (name && isInterpreter(name)) {
    const args = words.slice(1);
    for (let i = 0; i < args.length; i++) {
      const text = args[i].text;
      if (/^-[a-zA-Z]*[ce]$/.test(text) || text === '-m') break;
      if ((text === '-o' || text === '+o' || text === '-O' || text === '-W' || text === '-X') && i + 1 < args.length) {
        i++;
        continue;
      }
      if (!text.startsWith('-') && !text.startsWith('+')) {
        files.push(args[i]);
        break;
      }
    }
  }
  return files;
}

/** Debian's and GitHub's runners' default PATH, where a downloaded binary is run by its name alone. */
const PATH_DIRECTORIES = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin', '$HOME/.local/bin', '~/.local/bin', '$HOME/bin'];
const SIGNATURE_TOOLS = new Set(['gpg', 'gpg2', 'gpgv', 'signify', 'minisign', 'cosign', 'ssh-keygen', 'openssl']);
const HASH_TOOLS = /^(sha(224|256|384|512)sum|b2sum|b3sum|shasum|cksum|rhash)$/;
const SIGNATURE_SUFFIX = /\.(asc|sig|sign|gpg|minisig|sha256|sha512|sha256sum|sha512sum|sum|b2)$/;

/** Words of a pipeline and of the commands substituted into it, each split on blanks (`echo "<hash>  f"`). */
function mentionedPaths(pipelines: Pipeline[]): string[] {
  const mentioned: string[] = [];
  for (const pipeline of allPipelines(pipelines)) {
    for (const command of pipeline.commands) {
      for (const word of command.words) mentioned.push(...word.text.split(/\s+/).filter(Boolean).map(normalizePath));
      for (const redirect of command.redirects ?? []) if (redirect.target) mentioned.push(normalizePath(redirect.target.text));
    }
  }
  return mentioned;
}

/**
 * The downloads of one scope (a script, a Dockerfile stage, a workflow job): what was fetched where,
 * what has been verified since, and what checksum lists the scope wrote (`echo "<hash>  f" > SUMS`).
 */
export class DownloadScope {
  private readonly fetched = new Map<string, { tool: string; position: Position }>();
  private readonly written = new Map<string, string[]>();

  constructor(private readonly readRelated?: (path: string) => string | undefined) {}

  /** A scope that starts with what this one knows (a Dockerfile stage built FROM an earlier stage has its files). */
  clone(): DownloadScope {
    const copy = new DownloadScope(this.readRelated);
    this.fetched.forEach((value, key) => copy.fetched.set(key, value));
    this.written.forEach((value, key) => copy.written.set(key, [...value]));
    return copy;
  }

  /** Findings of one pipeline (in script order), updating what the scope knows. */
  check(pipeline: Pipeline): RawFinding[] {
    const findings: RawFinding[] = [];
    findings.push(...this.checkPiped(pipeline));
    this.checkVerification(pipeline);
    for (const command of pipeline.commands) {
      const words = commandWords(command);
      const name = commandName(words);
      if (name && (isInterpreter(name) || name === 'eval' || name === 'source' || name === '.')) findings.push(...this.checkSubstituted(name, words));
      for (const file of this.fetched.size > 0 ? executedFiles(words) : []) {
        const fetched = this.fetched.get(normalizePath(file.text)) ?? (file === words[0] ? this.fetchedOnPath(file.text) : undefined);
        if (fetched) {
          findings.push(
            at(file, 'download-then-run', `${file.text} was fetched by ${fetched.tool} at line ${fetched.position.line} and runs here without a hash check`),
          );
        }
      }
      const download = downloadOf(command);
      if (download && download.output !== '-') {
        // A pinned download over the same path replaces what an earlier one fetched.
        if (isPinnedDownload(download)) this.fetched.delete(normalizePath(download.output));
        else this.fetched.set(normalizePath(download.output), { tool: download.tool, position: download.word.position });
      }
      if ((name === 'echo' || name === 'printf') && stdoutRedirect(command)) {
        const target = normalizePath(stdoutRedirect(command)!);
        this.written.set(target, [...(this.written.get(target) ?? []), ...mentionedPaths([{ commands: [command] }])]);
      }
    }
    return findings;
  }

  /** A command run by name (`kubectl`) is a file fetched into a directory of the default PATH (`/usr/local/bin/kubectl`). */
  private fetchedOnPath(name: string): { tool: string; position: Position } | undefined {
    if (name.includes('/')) return undefined;
    for (const dir of PATH_DIRECTORIES) {
      const fetched = this.fetched.get(`${dir}/${name}`);
      if (fetched) return fetched;
    }
    return undefined;
  }

  /** `curl … | sh`, `wget -O- … | sudo python3 -`: the download is the script. */
  private checkPiped(pipeline: Pipeline): RawFinding[] {
    const commands = pipeline.commands.map((command) => commandWords(command));
    const index = pipeline.commands.findIndex((command) => {
      const download = downloadOf(command);
      return download !== undefined && download.output === '-' && !isPinnedDownload(download);
    });
    if (index < 0) return [];
    const runner = commands.findIndex((words, i) => {
      const name = commandName(words);
      return i > index && name !== undefined && isInterpreter(name) && runsStandardInput(name, words.slice(1));
    });
    if (runner < 0) return [];
    const tool = commandName(commands[index])!;
    return [at(commands[index][0], 'download-piped-to-shell', `${tool} output is piped into ${commandName(commands[runner])}: the script runs without a hash check`)];
  }

  /** `sh -c "$(curl …)"`, `bash <(curl …)`, `eval "$(wget -O- …)"`, `python3 <(curl …)`. */
  private checkSubstituted(name: string, words: Word[]): RawFinding[] {
    const findings: RawFinding[] = [];
    for (const word of words.slice(1)) {
      for (const inner of allPipelines(word.substitutions)) {
        const download = inner.commands[0] && downloadOf(inner.commands[0]);
        if (download && download.output === '-' && !isPinnedDownload(download)) {
          findings.push(at(download.word, 'download-piped-to-shell', `${name} runs what ${download.tool} downloads: the script runs without a hash check`));
        }
      }
    }
    return findings;
  }

  /** A hash or signature check clears the files it names (directly, in a checksum list, or by a `.asc`/`.sha256` beside it). */
  private checkVerification(pipeline: Pipeline): void {
    if (this.fetched.size === 0) return;
    const commands = pipeline.commands.map((command) => commandWords(command));
    const checks = commands.some((words) => {
      const name = commandName(words);
      if (!name) return false;
      const args = words.slice(1).map((w) => w.text);
      if (HASH_TOOLS.test(name)) return args.some((a) => a === '--check' || /^-[a-zA-Z]*c[a-zA-Z]*$/.test(a));
      if (name === 'gpg' || name === 'gpg2') return args.includes('--verify');
      if (name === 'gpgv' || name === 'signify' || name === 'minisign') return true;
      if (name === 'cosign') return args[0] === 'verify-blob';
      if (name === 'ssh-keygen') return args.includes('-Y') && args.includes('verify');
      if (name === 'openssl') return args.includes('-verify');
      // `[ "$(sha256sum f | cut -d' ' -f1)" = "<hash>" ]`, `test …`, `sha256sum f | grep -q <hash>`
      const hashed = words.some((w) => allHashToolWords(w.substitutions));
      if ((name === '[' || name === '[[' || name === 'test') && hashed) return true;
      return name === 'grep' && commands.some((other) => HASH_TOOLS.test(commandName(other) ?? '')) && args.some((a) => /^[0-9a-f]{64,}$/i.test(a));
    });
    if (!checks) return;
    const mentioned = new Set(mentionedPaths([pipeline]));
    for (const list of checkedLists(commands)) {
      // A checksum list the scope wrote, or one committed beside the script, names the files it checks; a
      // list fetched with them vouches for nothing; a list whose content is unknown here (made or copied
      // in elsewhere) may name any file, and the check fails the script unless every file it names matches.
      const path = normalizePath(list);
      if (this.fetched.has(path)) continue;
      const written = this.written.get(path);
      const committed = written === undefined ? this.readRelated?.(path) : undefined;
      if (written) written.forEach((listed) => mentioned.add(listed));
      else if (committed !== undefined) for (const token of committed.split(/\s+/)) mentioned.add(normalizePath(token.replace(/^\*/, '')));
      else if (list !== '-') this.fetched.forEach((_, fetched) => mentioned.add(fetched));
    }
    // A signature names its file (`gpg --verify f.asc`) and is checked against a key, wherever it came from;
    // a checksum file downloaded beside the file (`f.sha256`) comes from the same place and vouches for nothing.
    const signature = commands.some((words) => SIGNATURE_TOOLS.has(commandName(words) ?? ''));
    for (const path of [...mentioned]) {
      const unsigned = path.replace(SIGNATURE_SUFFIX, '');
      if (unsigned !== path && (signature || !this.fetched.has(path))) mentioned.add(unsigned);
    }
    for (const path of mentioned) this.fetched.delete(path);
  }
}

/** The checksum lists `sha256sum -c LIST…` reads (`-` or none: standard input, already in the pipeline). */
function checkedLists(commands: Word[][]): string[] {
  const lists: string[] = [];
  for (const words of commands) {
    if (!HASH_TOOLS.test(commandName(words) ?? '')) continue;
    const args = words.slice(1);
    if (!args.some((w) => w.text === '--check' || /^-[a-zA-Z]*c[a-zA-Z]*$/.test(w.text))) continue;
    for (let i = 0; i < args.length; i++) {
      const text = args[i].text;
      if (text === '-a' || text === '--algorithm') i++;
      else if (!text.startsWith('-')) lists.push(text);
    }
  }
  return lists;
}

function allHashToolWords(pipelines: Pipeline[]): boolean {
  for (const pipeline of allPipelines(pipelines)) {
    if (pipeline.commands.some((command) => HASH_TOOLS.test(commandName(commandWords(command)) ?? ''))) return true;
  }
  return false;
}
