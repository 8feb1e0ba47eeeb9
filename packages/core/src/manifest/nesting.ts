/**
 * The documented nesting limit of YAML and JSON inputs. V8's JSON.parse and yaml's parser do not
 * recurse, but what walks the result does (yaml's composer, JSON.stringify, a differ), and V8's
 * stack is not a limit a user can read about: past this depth an input is refused with "nested
 * deeper than 2000 levels". Real files are a few dozen levels deep; 1,400-level files are valid and read.
 */
export const MAX_NESTING = 2000;

/** The deepest nesting of arrays and objects in JSON text (strings skipped), in one pass without recursion. */
export function jsonNesting(text: string): number {
  let depth = 0;
  let max = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      // A string: up to the closing quote, escapes skipped.
      for (i++; i < text.length && text.charCodeAt(i) !== 0x22; i++) if (text.charCodeAt(i) === 0x5c) i++;
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) max = depth;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return max;
}
