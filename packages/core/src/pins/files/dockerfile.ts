import { MappedText, type Position } from '../mapped-text';
import { isPinnedImage, type RawFinding } from '../rules';
import type { Word } from '../shell/shell';
import { DownloadScope, isContentPinnedUrl } from '../shell/downloads';
import { checkPipelines, checkShellScript, type ShellCheckOptions } from '../shell/shell-rules';

/** One instruction, its continuation lines joined the way BuildKit joins them. */
export interface Instruction {
  keyword: string;
  /** Everything after the keyword, mapped back to the file. */
  args: MappedText;
  /** Heredoc bodies (`RUN <<EOF`), in order. */
  heredocs: MappedText[];
}

const HEREDOC = /<<(-?)(["']?)([A-Za-z0-9_.-]+)\2/g;

export function parseDockerfile(text: string): Instruction[] {
  const lines = text.split('\n').map((line) => line.replace(/\r$/, ''));
  const escape = escapeCharacter(lines);
  const instructions: Instruction[] = [];
  let i = 0;
  while (i < lines.length) {
    const start = /^(\s*)([A-Za-z]+)(\s+|$)/.exec(lines[i]);
    if (!start || /^\s*#/.test(lines[i])) {
      i++;
      continue;
    }
    const args = new MappedText();
    let line = lines[i].slice(start[0].length);
    let column = start[0].length + 1;
    for (;;) {
      const continued = line.trimEnd().endsWith(escape);
      const piece = continued ? line.trimEnd().slice(0, -1) : line;
      args.append(piece, { line: i + 1, column });
      i++;
      if (!continued) break;
      // Comment and empty lines inside a continued instruction are dropped, as BuildKit does.
      while (i < lines.length && (/^\s*#/.test(lines[i]) || lines[i].trim() === '')) i++;
      if (i >= lines.length) break;
      line = lines[i];
      column = 1;
    }
    const heredocs: MappedText[] = [];
    const keyword = start[2].toUpperCase();
    if (['RUN', 'COPY', 'ADD'].includes(keyword)) {
      for (const [, strip, , delimiter] of args.text.matchAll(HEREDOC)) {
        const body = new MappedText();
        while (i < lines.length && (strip ? lines[i].replace(/^\t+/, '') : lines[i]) !== delimiter) {
          body.append(lines[i] + '\n', { line: i + 1, column: 1 });
          i++;
        }
        i++;
        heredocs.push(body);
      }
    }
    instructions.push({ keyword, args, heredocs });
  }
  return instructions;
}

/** The `# escape=` parser directive, which must come before anything else. */
function escapeCharacter(lines: string[]): string {
  for (const line of lines) {
    const directive = /^#\s*([a-z]+)\s*=\s*(\S+)\s*$/i.exec(line);
    if (!directive) break;
    if (directive[1].toLowerCase() === 'escape') return directive[2];
  }
  return '\\';
}

interface Token {
  text: string;
  offset: number;
}

function tokens(args: MappedText): Token[] {
  return [...args.text.matchAll(/\S+/g)].map((match) => ({ text: match[0], offset: match.index! }));
}

/** `--flag=value` or `--flag value` options at the start of an instruction, and the rest. */
function splitFlags(list: Token[]): { flags: Map<string, string>; rest: Token[] } {
  const flags = new Map<string, string>();
  let i = 0;
  while (list[i]?.text.startsWith('--')) {
    const [name, value] = list[i].text.split(/=(.*)/s);
    flags.set(name, value ?? list[++i]?.text ?? '');
    i++;
  }
  return { flags, rest: list.slice(i) };
}

/**
 * Whether the Dockerfile's lock (`<Dockerfile>.lock.json`, written by `reprokit oci lock`) has an
 * install for the RUN at `line`: the same command, or any at that line when the command has
 * variables (the lock records them expanded). No lock, or one that does not parse, covers nothing.
 */
function aptLockCovers(lockText: string | undefined): (line: number, command: string, expanded: boolean) => boolean {
  let installs: { line?: unknown; command?: unknown }[] = [];
  try {
    const lock = lockText === undefined ? undefined : (JSON.parse(lockText) as { installs?: unknown });
    if (Array.isArray(lock?.installs)) installs = lock.installs as typeof installs;
  } catch {
    // Not a lock: nothing is covered, every install is a finding.
  }
  return (line, command, expanded) => installs.some((install) => install.line === line && (expanded || install.command === command));
}

export function checkDockerfile(text: string, options: Omit<ShellCheckOptions, 'context'> & { lockText?: string }): RawFinding[] {
  const covers = aptLockCovers(options.lockText);
  // A download in one RUN and its execution in a later RUN of the same stage are one script to the rules.
  const newStage = (): ShellCheckOptions => ({ ...options, context: 'dockerfile', downloads: new DownloadScope(options.readRelated) });
  let shellOptions = newStage();
  const globalArgs = new Map<string, string | undefined>();
  const stages: string[] = [];
  // SHELL of each stage so far, by stage name: a stage built FROM another inherits its shell (it is image config).
  const stageShells = new Map<string, string[]>();
  let shell = DEFAULT_SHELL;
  const stageScopes = new Map<string, DownloadScope>();
  const findings: RawFinding[] = [];
  const found = (args: MappedText, token: Token, rule: string, message: string) => {
    const { line, column } = args.positionAt(token.offset);
    findings.push({ rule, line, column, message });
  };
  const checkImage = (args: MappedText, token: Token, value: string, what: string) => {
    const expanded = expandArgs(value, globalArgs);
    const reference = expanded.value;
    if (reference.toLowerCase() === 'scratch' || stages.includes(reference.toLowerCase())) return;
    if (/^\d+$/.test(reference) && Number(reference) < stages.length) return;
    if (expanded.unset.length === 0 && isPinnedImage(reference)) return;
    const shown = reference === value ? value : `${value} (${reference})`;
    const why =
      expanded.unset.length > 0
        ? `${expanded.unset.join(', ')} has no default, so the image is chosen at build time`
        : 'the image is not pinned by digest';
    found(args, token, 'docker-from-unpinned', `${what} ${shown}: ${why}`);
  };

  const visit = (instruction: Instruction) => {
    const { keyword, args } = instruction;
    const list = tokens(args);
    if (keyword === 'ONBUILD' && list[0]) {
      const inner = trimStart(args.slice(list[0].offset + list[0].text.length));
      return visit({ keyword: list[0].text.toUpperCase(), args: inner, heredocs: instruction.heredocs });
    }
    if (keyword === 'ARG' && stages.length === 0) {
      for (const { text: declaration } of list) {
        const [name, value] = declaration.split(/=(.*)/s);
        globalArgs.set(name, value === undefined ? undefined : unquote(value));
      }
    } else if (keyword === 'FROM') {
      const { rest } = splitFlags(list);
      // `--platform=$BUILDPLATFORM` is a flag, whatever it expands to; the image is the next word.
      if (rest[0]) checkImage(args, rest[0], rest[0].text, 'FROM');
      const alias = rest[1]?.text.toLowerCase() === 'as' ? rest[2]?.text.toLowerCase() : undefined;
      const base = rest[0]?.text.toLowerCase() ?? '';
      shell = stageShells.get(base) ?? DEFAULT_SHELL;
      // A stage FROM an earlier stage starts from its filesystem, so its downloads are still there.
      const inherited = stageScopes.get(base);
      stages.push(alias ?? `\u0000${stages.length}`);
      stageShells.set(stages[stages.length - 1], shell);
      shellOptions = inherited ? { ...options, context: 'dockerfile', downloads: inherited.clone() } : newStage();
      stageScopes.set(stages[stages.length - 1], shellOptions.downloads!);
    } else if (keyword === 'SHELL') {
      const parsed = parseJsonArray(args.text);
      if (parsed) {
        shell = parsed;
        stageShells.set(stages[stages.length - 1] ?? '', shell);
      }
    } else if (keyword === 'COPY') {
      const { flags } = splitFlags(list);
      const from = flags.get('--from');
      const flag = list.find((t) => t.text.startsWith('--from='));
      if (from !== undefined && flag) checkImage(args, { text: from, offset: flag.offset + '--from='.length }, from, 'COPY --from=');
    } else if (keyword === 'ADD') {
      checkAdd(args, list, found);
    } else if (keyword === 'RUN') {
      const { flags, rest } = splitFlags(list);
      const mount = flags.get('--mount');
      const mountFrom = mount && /(?:^|,)from=([^,]+)/.exec(mount);
      if (mountFrom) {
        const flag = list.find((t) => t.text.startsWith('--mount'))!;
        checkImage(args, { text: mountFrom[1], offset: flag.offset + flag.text.indexOf(`from=${mountFrom[1]}`) + 5 }, mountFrom[1], 'RUN --mount from=');
      }
      if (rest.length === 0) return;
      const command = args.slice(rest[0].offset);
      const runLine = args.positionAt(0).line;
      const runOptions: ShellCheckOptions = { ...shellOptions, aptLocked: (apt, expanded) => covers(runLine, apt, expanded) };
      // Exec form runs its first element with no shell; shell form runs SHELL (default `/bin/sh -c`), which
      // is read as a POSIX shell only when it is one (`SHELL ["pwsh", "-Command"]` is not).
      if (command.text.startsWith('[')) findings.push(...checkExecForm(command, runOptions));
      else if (isPosixShell(shell)) {
        findings.push(...checkShellScript(command, runOptions));
        if (bodyIsScript(command.text)) for (const body of instruction.heredocs) findings.push(...checkShellScript(body, runOptions));
      }
    }
  };
  for (const instruction of parseDockerfile(text)) visit(instruction);
  return findings;
}

const DEFAULT_SHELL = ['/bin/sh', '-c'];

function isPosixShell(shell: string[]): boolean {
  return /^(ba|da|k|mk|z|a)?sh$/.test((shell[0] ?? '').replace(/^.*\//, ''));
}

/** A JSON array of strings (`SHELL ["/bin/bash", "-o", "pipefail", "-c"]`), or undefined. */
function parseJsonArray(text: string): string[] | undefined {
  try {
    const value = JSON.parse(text.trim()) as unknown;
    return Array.isArray(value) && value.every((item) => typeof item === 'string') ? value : undefined;
  } catch {
    return undefined;
  }
}

function trimStart(text: MappedText): MappedText {
  const leading = text.text.length - text.text.trimStart().length;
  return text.slice(leading);
}

function unquote(value: string): string {
  return /^(["']).*\1$/s.test(value) ? value.slice(1, -1) : value;
}

/** Replaces `$NAME`, `${NAME}`, `${NAME:-default}`, `${NAME:+alt}` with the global ARGs' values. */
export function expandArgs(value: string, args: Map<string, string | undefined>): { value: string; unset: string[] } {
  const unset: string[] = [];
  const expanded = value.replace(/\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?)([-+])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))/g, (_, braced, colon, op, word, bare) => {
    const name: string = braced ?? bare;
    const current = args.get(name);
    const set = colon ? current !== undefined && current !== '' : current !== undefined;
    if (op === '-') return set ? current! : word;
    if (op === '+') return set ? word : '';
    if (current === undefined) unset.push(name);
    return current ?? '';
  });
  return { value: expanded, unset };
}

/** `ADD https://…` needs `--checksum`; `ADD https://…/repo.git#ref` a commit. */
function checkAdd(args: MappedText, list: Token[], found: (args: MappedText, token: Token, rule: string, message: string) => void): void {
  const { flags, rest } = splitFlags(list);
  for (const source of rest.slice(0, -1)) {
    const url = source.text;
    if (!/^(https?|git):\/\/|^git@/.test(url)) continue;
    const isGit = /^git@|^git:\/\/|\.git(#|$)/.test(url);
    if (isGit && !/#[0-9a-f]{40}(:|$)/.test(url)) {
      found(args, source, 'docker-add-unverified', `ADD ${url}: the git source is not pinned to a commit`);
    } else if (!isGit && !flags.has('--checksum') && !isContentPinnedUrl(url)) {
      found(args, source, 'docker-add-unverified', `ADD ${url}: downloaded without --checksum`);
    }
  }
}

/** `RUN ["sh", "-c", "…"]`: the strings are the command's words, nothing is expanded. */
function checkExecForm(command: MappedText, options: ShellCheckOptions): RawFinding[] {
  const words: Word[] = [];
  for (const match of command.text.matchAll(/"((?:[^"\\]|\\.)*)"/g)) {
    let text: string;
    try {
      text = JSON.parse(match[0]) as string;
    } catch {
      return [];
    }
    // Positions and raw text are the string's content, inside its quotes.
    const position: Position = command.positionAt(match.index! + 1);
    words.push({ text, raw: match[1], position, expanded: false, substitutions: [] });
  }
  return checkPipelines([{ commands: [{ words }] }], options);
}

/** `RUN <<EOF` or `RUN bash -e <<EOF` runs the body as a script; `RUN python3 <<EOF` does not. */
function bodyIsScript(command: string): boolean {
  const marker = command.search(/<</);
  if (marker < 0) return false;
  const before = command.slice(0, marker).trim();
  return before === '' || /^(\/bin\/|\/usr\/bin\/)?(ba|da|z)?sh\b/.test(before);
}
