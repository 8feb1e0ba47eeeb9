import { LAST_LINES } from '../build/build-log';

/**
 * Text from inputs (a file name in a tar header, a line of a diffed file, a server's error body)
 * reaches the terminal and CI logs. An ESC in it can rewrite the screen, hide lines or set the
 * window title; a newline can forge a log line. Everything the CLI writes goes through here
 * (installSafeOutput), so no call site has to remember: control characters are shown as `\x1b`,
 * C1 controls as `\u009b`, and an error is one line (newlines escaped too).
 */

// C0 controls but tab and newline, DEL, C1 controls, and the line/paragraph separators some terminals and log viewers break on.
const UNSAFE_KEEP_LINES = /[\x00-\x08\x0b-\x1f\x7f\u0080-\u009f\u2028\u2029]/g;
const UNSAFE_ONE_LINE = /[\x00-\x1f\x7f\u0080-\u009f\u2028\u2029]/g;

function escapeChar(char: string): string {
  const code = char.charCodeAt(0);
  if (char === '\n') return '\\n';
  if (char === '\r') return '\\r';
  if (char === '\t') return '\\t';
  return code < 0x80 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** `text` with every control character escaped; newlines and tabs kept unless `oneLine`. */
export function escapeControls(text: string, oneLine = false): string {
  const pattern = oneLine ? UNSAFE_ONE_LINE : UNSAFE_KEEP_LINES;
  pattern.lastIndex = 0;
  return pattern.test(text) ? text.replace(pattern, escapeChar) : text;
}

/**
 * Bytes from an input shown as text: valid UTF-8 as it is, every byte of an invalid sequence as
 * `\xNN` (not U+FFFD, which hides what the bytes were), control characters escaped.
 */
export function showBytes(bytes: Uint8Array, oneLine = true): string {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (require('node:buffer').isUtf8(buffer)) return escapeControls(buffer.toString('utf8'), oneLine);
  let out = '';
  const decoder = new TextDecoder('utf-8', { fatal: true });
  for (let i = 0; i < buffer.length; ) {
    const lead = buffer[i];
    const length = lead < 0x80 ? 1 : lead >= 0xc2 && lead < 0xe0 ? 2 : lead >= 0xe0 && lead < 0xf0 ? 3 : lead >= 0xf0 && lead < 0xf5 ? 4 : 0;
    if (length > 0 && i + length <= buffer.length) {
      try {
        out += decoder.decode(buffer.subarray(i, i + length));
        i += length;
        continue;
      } catch {
        // An invalid sequence: its first byte escaped, the rest looked at again.
      }
    }
    out += `\\x${lead.toString(16).padStart(2, '0')}`;
    i++;
  }
  return escapeControls(out, oneLine);
}

/**
 * A user error as the front ends print it (the CLI's reportError, the Nx executors): the message on
 * one line, escaped, after `prefix`; a build log's tail (after LAST_LINES) below it, each line
 * indented and escaped.
 */
export function formatUserError(prefix: string, message: string): string {
  const cut = message.indexOf(LAST_LINES);
  const head = cut < 0 ? message : message.slice(0, cut + LAST_LINES.length - 1);
  const tail = cut < 0 ? [] : message.slice(cut + LAST_LINES.length).split('\n');
  return `${prefix}${escapeControls(head, true)}\n${tail.map((line) => `  ${escapeControls(line.replace(/^ {2}/, ''), true)}\n`).join('')}`;
}

type Write = (chunk: unknown, encoding?: unknown, callback?: unknown) => boolean;
const raw = new WeakMap<NodeJS.WriteStream, Write>();

function safeChunk(chunk: unknown): unknown {
  if (typeof chunk === 'string') return escapeControls(chunk);
  if (chunk instanceof Uint8Array) return showBytes(chunk, false);
  return chunk;
}

/**
 * Makes `stream.write` escape what it is given (the CLI's stdout and stderr). reprokit's own
 * terminal codes (the progress line's `\r\x1b[2K`) go through writeRaw.
 */
export function installSafeOutput(stream: NodeJS.WriteStream): void {
  if (raw.has(stream)) return;
  const original = stream.write.bind(stream) as Write;
  raw.set(stream, original);
  (stream as { write: Write }).write = (chunk, encoding, callback) => original(safeChunk(chunk), encoding, callback);
}

/** Writes reprokit's own text, control codes included, past installSafeOutput. */
export function writeRaw(stream: { write(text: string): unknown }, text: string): void {
  const original = raw.get(stream as NodeJS.WriteStream);
  if (original) original(text);
  else stream.write(text);
}
