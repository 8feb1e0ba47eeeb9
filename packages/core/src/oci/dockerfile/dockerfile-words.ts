/**
 * The word rules of Dockerfile instruction arguments (ENV, LABEL, COPY, WORKDIR, …): words split on
 * unquoted whitespace, `"…"` and `'…'` quoting, backslash escapes, and `$NAME`, `${NAME}`,
 * `${NAME:-default}`, `${NAME:+alternative}` expanded from the variables in scope (not inside
 * single quotes). An unset variable is an error, not an empty string: a build that silently
 * copies to `/` because `$DEST` was unset is not one anyone meant.
 */
export class UnsetVariableError extends Error {
  constructor(readonly variable: string) {
    super(`$${variable} is not set (declare it with ARG or ENV)`);
  }
}

export interface Word {
  value: string;
  /** Offset of the word's first character in the text it came from. */
  offset: number;
}

export function splitWords(text: string, vars: ReadonlyMap<string, string>): Word[] {
  const words: Word[] = [];
  let i = 0;
  while (i < text.length) {
    while (i < text.length && /\s/.test(text[i])) i++;
    if (i >= text.length) break;
    const start = i;
    let value = '';
    let quote: '"' | "'" | undefined;
    for (; i < text.length; i++) {
      const c = text[i];
      if (!quote && /\s/.test(c)) break;
      if (c === quote) quote = undefined;
      else if (!quote && (c === '"' || c === "'")) quote = c;
      else if (c === '\\' && quote !== "'" && i + 1 < text.length) value += text[++i];
      else if (c === '$' && quote !== "'") {
        const { replacement, length } = expandAt(text, i, vars);
        value += replacement;
        i += length - 1;
      } else value += c;
    }
    words.push({ value, offset: start });
  }
  return words;
}

/**
 * `$NAME` references in free text (a COPY heredoc whose delimiter is not quoted) expanded, nothing
 * else changed except `\$`, which stays a literal `$`.
 */
export function expandText(text: string, vars: ReadonlyMap<string, string>): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '\\' && text[i + 1] === '$') out += text[++i];
    else if (text[i] === '$') {
      const { replacement, length } = expandAt(text, i, vars);
      out += replacement;
      i += length - 1;
    } else out += text[i];
  }
  return out;
}

/** Expands the variable reference at `text[at]` (a `$`); a lone `$` stays as it is. */
function expandAt(text: string, at: number, vars: ReadonlyMap<string, string>): { replacement: string; length: number } {
  const rest = text.slice(at);
  const braced = /^\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?)([-+])([^}]*))?\}/.exec(rest);
  const bare = braced ? undefined : /^\$([A-Za-z_][A-Za-z0-9_]*)/.exec(rest);
  const match = braced ?? bare;
  if (!match) return { replacement: '$', length: 1 };
  const name = match[1];
  const current = vars.get(name);
  if (braced && braced[3]) {
    const set = braced[2] ? current !== undefined && current !== '' : current !== undefined;
    const word = braced[4];
    if (braced[3] === '-') return { replacement: set ? current! : word, length: match[0].length };
    return { replacement: set ? word : '', length: match[0].length };
  }
  if (current === undefined) throw new UnsetVariableError(name);
  return { replacement: current, length: match[0].length };
}

/** `["a", "b"]` (the exec form) as its strings, or undefined when the text is not a JSON string array. */
export function parseJsonForm(text: string): string[] | undefined {
  const trimmed = text.trim();
  if (!trimmed.startsWith('[')) return undefined;
  try {
    const value: unknown = JSON.parse(trimmed);
    return Array.isArray(value) && value.every((item) => typeof item === 'string') ? value : undefined;
  } catch {
    return undefined;
  }
}

/** `KEY=value KEY2="v w"` pairs, or the legacy `KEY value with spaces` form of ENV and LABEL. */
export function parseKeyValues(text: string, vars: ReadonlyMap<string, string>): [string, string][] {
  const words = splitWords(text, vars);
  if (words.length > 0 && !words[0].value.includes('=')) {
    // Legacy form: one key, the other words its value.
    const key = words[0].value;
    const value = words
      .slice(1)
      .map((word) => word.value)
      .join(' ');
    return [[key, value]];
  }
  return words.map((word) => {
    const eq = word.value.indexOf('=');
    if (eq <= 0) throw new Error(`\`${word.value}\` is not KEY=value`);
    return [word.value.slice(0, eq), word.value.slice(eq + 1)];
  });
}
