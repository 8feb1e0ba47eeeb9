import { MappedText } from '../mapped-text';
import type { RawFinding } from '../rules';
import { checkShellScript, type ShellCheckOptions } from '../shell/shell-rules';

const ASSIGNMENT = /^(?:(?:export|override)\s+)*([A-Za-z_][A-Za-z0-9_.-]*)\s*(?:\?|:{1,3}|\+|!)?=\s*(.*)$/;
const RULE = /^[^\t#=][^=]*?:(?!=)/;

/**
 * Recipe lines (tab-indented after a rule, or after `;` on the rule line) are shell scripts. Make's
 * own variables defined in the file (`IMAGE := alpine:3.19`) are expanded first, so that
 * `docker run $(IMAGE)` is checked; `$$` is the shell's `$`; other make expansions are unknown.
 */
export function checkMakefile(text: string, options: Omit<ShellCheckOptions, 'context'>): RawFinding[] {
  const lines = text.split('\n').map((line) => line.replace(/\r$/, ''));
  const variables = new Map<string, string>();
  const script = new MappedText();
  let inRule = false;
  let inDefine = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (inDefine) {
      inDefine = !/^\s*endef\b/.test(line);
      continue;
    }
    if (line.startsWith('\t') && inRule) {
      // A recipe line and its continuations: make hands backslash-newline to the shell as is.
      let column = 2;
      let current = line.slice(1);
      const prefix = /^[@+\-\s]*/.exec(current)![0];
      current = current.slice(prefix.length);
      column += prefix.length;
      for (;;) {
        expandInto(script, current, i + 1, column, variables);
        if (!current.endsWith('\\') || i + 1 >= lines.length) break;
        script.appendSynthetic('\n');
        i++;
        current = lines[i].startsWith('\t') ? lines[i].slice(1) : lines[i];
        column = lines[i].startsWith('\t') ? 2 : 1;
      }
      script.appendSynthetic('\n');
      continue;
    }
    if (line.trim() === '' || /^\s*#/.test(line)) continue;
    if (/^\s*define\b/.test(line)) {
      inDefine = true;
      continue;
    }
    const assignment = ASSIGNMENT.exec(line);
    if (assignment) {
      variables.set(assignment[1], assignment[2].replace(/\s+#.*$/, '').trim());
      inRule = false;
      continue;
    }
    inRule = RULE.test(line);
    const inline = inRule ? /;\s*(.*)$/.exec(line) : null;
    if (inline) {
      expandInto(script, inline[1], i + 1, line.length - inline[1].length + 1, variables);
      script.appendSynthetic('\n');
    }
  }
  return checkShellScript(script, { ...options, context: 'makefile' });
}

/** Appends one recipe line with make's `$(VAR)`, `${VAR}` and `$$` expanded, keeping positions. */
function expandInto(out: MappedText, line: string, lineNumber: number, column: number, variables: Map<string, string>): void {
  let literalStart = 0;
  const flush = (end: number) => {
    if (end > literalStart) out.append(line.slice(literalStart, end), { line: lineNumber, column: column + literalStart });
  };
  for (let i = 0; i < line.length; i++) {
    if (line[i] !== '$') continue;
    flush(i);
    const origin = { line: lineNumber, column: column + i };
    const open = line[i + 1];
    if (open === '(' || open === '{') {
      const end = closing(line, i + 1);
      const name = line.slice(i + 2, end);
      const value = /^[A-Za-z_][A-Za-z0-9_.-]*$/.test(name) ? expandValue(name, variables, 0) : undefined;
      out.append(value ?? '${MAKE_EXPANSION}', origin);
      i = end;
    } else {
      out.append(open === '$' ? '$' : '${MAKE_EXPANSION}', origin);
      i += 1;
    }
    literalStart = i + 1;
  }
  flush(line.length);
}

function closing(line: string, open: number): number {
  const [opener, closer] = line[open] === '(' ? ['(', ')'] : ['{', '}'];
  let depth = 0;
  for (let j = open; j < line.length; j++) {
    if (line[j] === opener) depth++;
    else if (line[j] === closer && --depth === 0) return j;
  }
  return line.length - 1;
}

/** A variable's value with the variables it refers to expanded, or undefined when anything is unknown. */
function expandValue(name: string, variables: Map<string, string>, depth: number): string | undefined {
  const value = variables.get(name);
  if (value === undefined || depth > 10) return undefined;
  let unknown = false;
  const expanded = value.replace(/\$[({]([A-Za-z_][A-Za-z0-9_.-]*)[)}]/g, (_, inner: string) => {
    const innerValue = expandValue(inner, variables, depth + 1);
    if (innerValue === undefined) unknown = true;
    return innerValue ?? '';
  });
  return unknown || /\$/.test(expanded.replace(/\$\$/g, '')) ? undefined : expanded.replace(/\$\$/g, '$');
}
