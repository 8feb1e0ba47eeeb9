import { MappedText, type Position } from '../mapped-text';

/**
 * Enough of the POSIX shell / bash grammar to find commands and their arguments reliably: quotes
 * (a `|` inside quotes is not a pipe), backslash-newline continuations, comments, heredocs (their
 * bodies are data, so they are skipped), redirections (their targets are not arguments), command
 * and process substitutions (parsed as commands of their own) and bash array assignments. Control
 * structures (if, for, case, functions) are not built into a tree: their keywords just start
 * commands, which is all the pin rules need.
 */

export interface Word {
  /** The word with quotes removed; expansions are kept as written (`$IMAGE`, `$(…)`). */
  text: string;
  /** The word as written. */
  raw: string;
  position: Position;
  /** Contains a parameter expansion or a substitution, so its value is unknown here. */
  expanded: boolean;
  /** Commands inside `$(…)`, backticks or `<(…)` in this word. */
  substitutions: Pipeline[];
  /** For `name=(a b c)`: the elements. */
  array?: Word[];
}

/** `>`, `>>`, `&>`, `<`, … and what they name; `fd` is the descriptor written before it (`2>`), if any. */
export interface Redirect {
  op: string;
  fd?: number;
  target?: Word;
}

export interface SimpleCommand {
  words: Word[];
  /** Where the command's input and output go (`curl … > install.sh`). */
  redirects?: Redirect[];
  /** Cache of commandWords(): the words from the command name on. */
  commandWords?: Word[];
}

/** Commands joined by `|`; a lone command is a pipeline of one. */
export interface Pipeline {
  commands: SimpleCommand[];
}

/**
 * Substitutions nested deeper than this (`$( $( $( …`) are not parsed: the parser recurses once per
 * level, and a hostile script must get a finding, not a stack overflow. Real scripts nest a few levels.
 */
export const MAX_SHELL_NESTING = 64;

/** A script the parser will not read (too deeply nested); `position` is where it gave up. */
export class ShellParseError extends Error {
  constructor(
    message: string,
    readonly position: Position,
  ) {
    super(message);
  }
}

/** Throws ShellParseError for a script nested deeper than MAX_SHELL_NESTING. */
export function parseShell(source: MappedText): Pipeline[] {
  return new ShellParser(source).parseList(null);
}

/** Every pipeline, including those inside substitutions and array elements, outermost first. */
export function* allPipelines(pipelines: Pipeline[]): Generator<Pipeline> {
  for (const pipeline of pipelines) {
    yield pipeline;
    for (const command of pipeline.commands) {
      for (const word of command.words) {
        yield* allPipelines(word.substitutions);
        for (const element of word.array ?? []) yield* allPipelines(element.substitutions);
      }
    }
  }
}

const BLANK = new Set([' ', '\t', '\r']);
const WORD_END = new Set([' ', '\t', '\r', '\n', '|', '&', ';', '(', ')', '<', '>']);

class ShellParser {
  private i = 0;
  private readonly s: string;
  private pendingHeredocs: { delimiter: string; stripTabs: boolean }[] = [];
  private depth = 0;

  constructor(private readonly source: MappedText) {
    this.s = source.text;
  }

  /** Commands up to the end, or up to the `)` or backtick that closes a substitution. */
  parseList(terminator: ')' | '`' | null): Pipeline[] {
    if (++this.depth > MAX_SHELL_NESTING) {
      throw new ShellParseError(`substitutions nested more than ${MAX_SHELL_NESTING} deep`, this.source.positionAt(this.i));
    }
    try {
      return this.parseListAtDepth(terminator);
    } finally {
      this.depth--;
    }
  }

  private parseListAtDepth(terminator: ')' | '`' | null): Pipeline[] {
    const s = this.s;
    const pipelines: Pipeline[] = [];
    let commands: SimpleCommand[] = [];
    let words: Word[] = [];
    let redirects: Redirect[] = [];
    let fd: number | undefined;
    const endCommand = () => {
      if (words.length > 0) commands.push(redirects.length > 0 ? { words, redirects } : { words });
      words = [];
      redirects = [];
    };
    const endPipeline = () => {
      endCommand();
      if (commands.length > 0) pipelines.push({ commands });
      commands = [];
    };
    while (this.i < s.length) {
      const c = s[this.i];
      const next = s[this.i + 1];
      if (c === '\\' && next === '\n') {
        this.i += 2;
      } else if (BLANK.has(c)) {
        this.i++;
      } else if (c === '\n') {
        endPipeline();
        this.i++;
        this.skipHeredocBodies();
      } else if (c === '#') {
        while (this.i < s.length && s[this.i] !== '\n') this.i++;
      } else if (c === terminator) {
        this.i++;
        break;
      } else if (c === '|') {
        if (next === '|') {
          this.i += 2;
          endPipeline();
        } else {
          this.i += next === '&' ? 2 : 1;
          endCommand();
        }
      } else if (c === '&' && next === '>') {
        const op = s[this.i + 2] === '>' ? '&>>' : '&>';
        this.i += op.length;
        this.skipBlanks();
        redirects.push({ op, target: this.readWord(terminator) });
      } else if (c === '&' || c === ';') {
        this.i += next === c ? 2 : 1;
        endPipeline();
      } else if (c === '(' || c === ')') {
        this.i++;
        endPipeline();
      } else if ((c === '<' || c === '>') && next === '(') {
        const start = this.i;
        this.i += 2;
        const inner = this.parseList(')');
        words.push(this.word('', start, true, inner));
      } else if (c === '<' || c === '>') {
        const redirect = this.readRedirection(terminator);
        if (redirect) redirects.push(fd === undefined ? redirect : { ...redirect, fd });
        fd = undefined;
      } else {
        const word = this.readWord(terminator);
        if (/^\d+$/.test(word.raw) && (s[this.i] === '<' || s[this.i] === '>')) {
          fd = Number(word.raw); // `2>`: a file descriptor
          continue;
        }
        if (/^[A-Za-z_][A-Za-z0-9_]*(\[[^\]]*\])?\+?=$/.test(word.raw) && s[this.i] === '(') {
          this.i++;
          word.array = this.readArray();
        }
        words.push(word);
      }
    }
    endPipeline();
    return pipelines;
  }

  private word(text: string, start: number, expanded: boolean, substitutions: Pipeline[]): Word {
    return { text, raw: this.s.slice(start, this.i), position: this.source.positionAt(start), expanded, substitutions };
  }

  /** `<`, `>`, `>>`, `<<<`, `>&`, … and their target; `<<` and `<<-` register a heredoc (no redirect returned). */
  private readRedirection(terminator: ')' | '`' | null): Redirect | undefined {
    const s = this.s;
    const start = this.i;
    if (s.startsWith('<<<', this.i)) {
      this.i += 3;
    } else if (s.startsWith('<<', this.i)) {
      this.i += 2;
      const stripTabs = s[this.i] === '-';
      if (stripTabs) this.i++;
      this.skipBlanks();
      const delimiter = this.readWord(terminator);
      this.pendingHeredocs.push({ delimiter: delimiter.text, stripTabs });
      return undefined;
    } else {
      this.i++;
      if ('>&|'.includes(s[this.i]) || (s[this.i - 1] === '<' && s[this.i] === '>')) this.i++;
    }
    const op = s.slice(start, this.i);
    this.skipBlanks();
    if (this.i < s.length && !WORD_END.has(s[this.i])) return { op, target: this.readWord(terminator) };
    return { op };
  }

  private skipBlanks(): void {
    while (this.i < this.s.length && BLANK.has(this.s[this.i])) this.i++;
  }

  /** After a newline: the bodies of the heredocs opened on the line just ended. */
  private skipHeredocBodies(): void {
    const s = this.s;
    for (const { delimiter, stripTabs } of this.pendingHeredocs) {
      while (this.i < s.length) {
        let end = s.indexOf('\n', this.i);
        if (end < 0) end = s.length;
        let line = s.slice(this.i, end).replace(/\r$/, '');
        if (stripTabs) line = line.replace(/^\t+/, '');
        this.i = Math.min(end + 1, s.length);
        if (line === delimiter) break;
      }
    }
    this.pendingHeredocs = [];
  }

  /** The elements of `name=( … )`, up to the closing parenthesis. */
  private readArray(): Word[] {
    const s = this.s;
    const elements: Word[] = [];
    while (this.i < s.length) {
      const c = s[this.i];
      if (c === ')') {
        this.i++;
        break;
      } else if (c === '\\' && s[this.i + 1] === '\n') {
        this.i += 2;
      } else if (BLANK.has(c) || c === '\n') {
        this.i++;
      } else if (c === '#') {
        while (this.i < s.length && s[this.i] !== '\n') this.i++;
      } else if (WORD_END.has(c)) {
        this.i++; // not valid in an array; step over it rather than loop
      } else {
        elements.push(this.readWord(')'));
      }
    }
    return elements;
  }

  private readWord(terminator: ')' | '`' | null): Word {
    const s = this.s;
    const start = this.i;
    let text = '';
    let expanded = false;
    const substitutions: Pipeline[] = [];
    while (this.i < s.length) {
      const c = s[this.i];
      if (WORD_END.has(c) || (c === '`' && terminator === '`')) break;
      if (c === '\\') {
        if (s[this.i + 1] !== '\n') text += s[this.i + 1] ?? '';
        this.i += 2;
      } else if (c === "'") {
        const end = s.indexOf("'", this.i + 1);
        const close = end < 0 ? s.length : end;
        text += s.slice(this.i + 1, close);
        this.i = close + 1;
      } else if (c === '"') {
        this.i++;
        while (this.i < s.length && s[this.i] !== '"') {
          const d = s[this.i];
          if (d === '\\') {
            const escaped = s[this.i + 1] ?? '';
            if (escaped !== '\n') text += '$`"\\'.includes(escaped) ? escaped : d + escaped;
            this.i += 2;
          } else if (d === '$' || d === '`') {
            const expansion = this.readExpansion();
            text += expansion.text;
            expanded ||= expansion.expanded;
            substitutions.push(...expansion.substitutions);
          } else {
            text += d;
            this.i++;
          }
        }
        this.i++;
      } else if (c === '$' || c === '`') {
        const expansion = this.readExpansion();
        text += expansion.text;
        expanded ||= expansion.expanded;
        substitutions.push(...expansion.substitutions);
      } else {
        text += c;
        this.i++;
      }
    }
    return this.word(text, start, expanded, substitutions);
  }

  /** At a `$` or a backtick: a parameter, `${…}`, `$((…))`, `$(…)`, `` `…` `` or `$'…'`. */
  private readExpansion(): { text: string; expanded: boolean; substitutions: Pipeline[] } {
    const s = this.s;
    const start = this.i;
    const result = (expanded: boolean, substitutions: Pipeline[] = []) => ({ text: s.slice(start, this.i), expanded, substitutions });
    if (s[this.i] === '`') {
      this.i++;
      return result(true, this.parseList('`'));
    }
    const next = s[this.i + 1];
    if (next === '(' && s[this.i + 2] === '(') {
      this.i = this.matching(this.i + 3, '(', ')', 2);
      return result(true);
    }
    if (next === '(') {
      this.i += 2;
      return result(true, this.parseList(')'));
    }
    if (next === '{') {
      this.i = this.matching(this.i + 2, '{', '}', 1);
      return result(true);
    }
    if (next === "'") {
      let j = this.i + 2;
      while (j < s.length && s[j] !== "'") j += s[j] === '\\' ? 2 : 1;
      this.i = j + 1;
      return { text: s.slice(start + 2, j), expanded: false, substitutions: [] };
    }
    const name = /^(?:[A-Za-z_][A-Za-z0-9_]*|[0-9@*#?$!-])/.exec(s.slice(this.i + 1, this.i + 65));
    if (!name) {
      this.i++;
      return result(false);
    }
    this.i += 1 + name[0].length;
    return result(true);
  }

  /** The index after the `depth`-th unmatched `close`, skipping quoted text. */
  private matching(from: number, open: string, close: string, depth: number): number {
    const s = this.s;
    let j = from;
    while (j < s.length && depth > 0) {
      const c = s[j];
      if (c === '\\') j++;
      else if (c === "'") j = Math.max(s.indexOf("'", j + 1), j);
      else if (c === open) depth++;
      else if (c === close) depth--;
      j++;
    }
    return j;
  }
}
