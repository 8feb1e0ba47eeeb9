/** Whether a COPY/ADD source is a pattern (Go's filepath.Match: `*`, `?`, `[…]`). */
export function hasWildcard(path: string): boolean {
  return /[*?[]/.test(path);
}

/**
 * One path component of a pattern as a RegExp, with Go's filepath.Match rules (what docker build
 * uses): `*` any run of characters, `?` one character, `[a-z]` and `[^a-z]` classes, `\x` a literal x.
 */
export function componentRegExp(pattern: string): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\' && i + 1 < pattern.length) source += escape(pattern[++i]);
    else if (c === '*') source += '.*';
    else if (c === '?') source += '.';
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end < 0) {
        source += '\\[';
        continue;
      }
      let body = pattern.slice(i + 1, end);
      const negated = body.startsWith('^') || body.startsWith('!');
      if (negated) body = body.slice(1);
      source += `[${negated ? '^' : ''}${body.replace(/[\]\\]/g, '\\$&')}]`;
      i = end;
    } else source += escape(c);
  }
  return new RegExp(`^${source}$`, 's');
}

function escape(c: string): string {
  return c.replace(/[.+^${}()|[\]\\*?]/g, '\\$&');
}

/** The paths (relative, `/`-separated) among `candidates` that a whole pattern matches, component by component. */
export function matchesPattern(pattern: string, path: string): boolean {
  const parts = pattern.split('/').filter((part) => part !== '' && part !== '.');
  const names = path.split('/').filter((part) => part !== '');
  return parts.length === names.length && parts.every((part, i) => componentRegExp(part).test(names[i]));
}
