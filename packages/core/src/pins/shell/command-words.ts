import type { RawFinding } from '../rules';
import type { SimpleCommand, Word } from './shell';

/**
 * What a simple command runs: its name and arguments once assignments, keywords and wrappers are
 * stripped, shared by every shell rule.
 */

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

/**
 * The words from the command name on: assignments, keywords and wrappers (sudo, env…) dropped. Every
 * rule asks for them, so they are kept on the command (a WeakMap cache cost more in GC than it saved).
 */
export function commandWords(command: SimpleCommand): Word[] {
  return (command.commandWords ??= stripPrefixes(command));
}

function stripPrefixes(command: SimpleCommand): Word[] {
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

export function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

export function commandName(words: Word[]): string | undefined {
  return words[0] && !words[0].expanded ? baseName(words[0].text) : undefined;
}

export function at(word: Word, rule: string, message: string): RawFinding {
  return { rule, line: word.position.line, column: word.position.column, message };
}

/** The first word from `start` that is not an option or an option's value. */
export function firstOperand(words: Word[], start: number, valued: (flag: string) => boolean): Word | undefined {
  for (let i = start; i < words.length; i++) {
    const text = words[i].text;
    if (text === '--') return words[i + 1];
    if (!text.startsWith('-') || text === '-') return words[i];
    if (valued(text)) i++;
  }
  return undefined;
}

