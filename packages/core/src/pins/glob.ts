/**
 * Glob matching for policy exemptions, on `/`-separated paths relative to the repository root:
 * `*` and `?` stay within one path segment, `**` spans segments (`a/**` is everything under `a`;
 * `**` then a slash then `x` is `x` at any depth). A pattern without a `/` matches a file name at any depth, like
 * .gitignore. Nothing else is special.
 */
export function globToRegExp(glob: string): RegExp {
  // A leading `/` anchors the pattern at the root, as in .gitignore.
  const anyDepth = !glob.includes('/');
  const pattern = glob.replace(/^\//, '');
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '*' && pattern[i + 1] === '*') {
      const wholeSegment = (i === 0 || pattern[i - 1] === '/') && pattern[i + 2] === '/';
      source += wholeSegment ? '(?:.*/)?' : '.*';
      i += wholeSegment ? 2 : 1;
    } else if (c === '*') {
      source += '[^/]*';
    } else if (c === '?') {
      source += '[^/]';
    } else {
      source += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
    }
  }
  return new RegExp(`^${anyDepth ? '(?:.*/)?' : ''}${source}$`);
}

export function matchesGlob(path: string, pattern: string): boolean {
  return globToRegExp(pattern.replace(/^\.\//, '')).test(path);
}
