/**
 * Where JSON.parse failed, and why. V8's messages give no position for an unexpected token (they
 * quote the whole document instead, over several lines), so on failure the text is scanned again by
 * this small iterative checker: no recursion, so a document nested a million deep cannot overflow
 * the stack.
 */
export interface JsonSyntaxError {
  /** UTF-16 offset of the offending character (the text's length at an unexpected end). */
  offset: number;
  reason: string;
}

type State = 'value' | 'valueOrClose' | 'keyOrClose' | 'key' | 'colon' | 'afterValue';

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const WHITESPACE = new Set([' ', '\t', '\n', '\r']);

function describeChar(text: string, offset: number): string {
  if (offset >= text.length) return 'end of input';
  const char = text[offset];
  if (char === '\uFEFF') return 'byte order mark (U+FEFF)';
  const code = char.charCodeAt(0);
  return code < 0x20 || code === 0x7f ? `control character U+${code.toString(16).padStart(4, '0').toUpperCase()}` : `'${char}'`;
}

/** The first syntax error of `text`, or undefined when it is valid JSON. */
export function findJsonSyntaxError(text: string): JsonSyntaxError | undefined {
  const stack: ('object' | 'array')[] = [];
  let state = 'value' as State;
  let i = 0;
  const unexpected = (expected: string): JsonSyntaxError => ({ offset: i, reason: `unexpected ${describeChar(text, i)}, expected ${expected}` });
  const scanString = (): JsonSyntaxError | undefined => {
    i++;
    for (;;) {
      if (i >= text.length) return { offset: i, reason: 'unterminated string' };
      const code = text.charCodeAt(i);
      if (code === 0x22) {
        i++;
        return undefined;
      }
      if (code < 0x20) return { offset: i, reason: `${describeChar(text, i)} in a string (escape it)` };
      if (code === 0x5c) {
        const escape = text[i + 1];
        if (escape === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) return { offset: i, reason: 'bad \\u escape in a string (\\u and four hex digits)' };
          i += 6;
        } else if (escape !== undefined && '"\\/bfnrt'.includes(escape)) i += 2;
        else return { offset: i, reason: `bad escape \\${escape ?? ''} in a string` };
      } else i++;
    }
  };
  for (;;) {
    while (i < text.length && WHITESPACE.has(text[i])) i++;
    const char = text[i];
    switch (state) {
      case 'value':
      case 'valueOrClose': {
        if (state === 'valueOrClose' && char === ']') {
          stack.pop();
          i++;
          state = 'afterValue';
          break;
        }
        if (char === '{') {
          stack.push('object');
          state = 'keyOrClose';
          i++;
        } else if (char === '[') {
          stack.push('array');
          state = 'valueOrClose';
          i++;
        } else if (char === '"') {
          const error = scanString();
          if (error) return error;
          state = 'afterValue';
        } else if (text.startsWith('true', i) || text.startsWith('null', i)) {
          i += 4;
          state = 'afterValue';
        } else if (text.startsWith('false', i)) {
          i += 5;
          state = 'afterValue';
        } else {
          NUMBER.lastIndex = i;
          if (char === undefined || !NUMBER.test(text)) return unexpected('a value');
          i = NUMBER.lastIndex;
          state = 'afterValue';
        }
        break;
      }
      case 'keyOrClose':
      case 'key': {
        if (state === 'keyOrClose' && char === '}') {
          stack.pop();
          i++;
          state = 'afterValue';
          break;
        }
        if (char !== '"') return unexpected(state === 'keyOrClose' ? "a property name in double quotes or '}'" : 'a property name in double quotes');
        const error = scanString();
        if (error) return error;
        state = 'colon';
        break;
      }
      case 'colon':
        if (char !== ':') return unexpected("':' after the property name");
        i++;
        state = 'value';
        break;
      case 'afterValue': {
        const top = stack[stack.length - 1];
        if (top === undefined) return i < text.length ? unexpected('the end of the document') : undefined;
        const close = top === 'object' ? '}' : ']';
        if (char === ',') {
          i++;
          state = top === 'object' ? 'key' : 'value';
        } else if (char === close) {
          stack.pop();
          i++;
        } else return unexpected(`',' or '${close}'`);
        break;
      }
    }
  }
}
