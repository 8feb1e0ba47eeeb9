import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { describeFsError, UserError } from '../errors';
import { readRegularFile } from '../fs/regular-file';
import { findJsonSyntaxError } from './json-syntax-error';

/** What a JSON input (a manifest, a lock, a record) may weigh: far above any real one, far below memory. */
export const MAX_JSON_BYTES = 64 << 20;

/** Reads and parses a JSON file (a regular file, bounded); a syntax error names the file, line and column. */
export async function readJsonFile(path: string): Promise<unknown> {
  return parseJson(readRegularFile(path, MAX_JSON_BYTES).toString('utf8'), path);
}

/** Parses JSON; a leading byte order mark is accepted (editors on Windows write one). */
export function parseJson(text: string, path: string): unknown {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  try {
    return JSON.parse(body);
  } catch {
    const error = findJsonSyntaxError(body) ?? { offset: body.length, reason: 'not valid JSON' };
    const { line, column } = lineAndColumn(text, error.offset + text.length - body.length);
    throw new UserError(`${path}:${line}:${column}: invalid JSON: ${error.reason}`);
  }
}

/** 1-based line and column (in characters) of a UTF-16 offset; a byte order mark takes no column. */
function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, column: offset - lineStart + 1 };
}

/** `/artifacts/0/sha256` (a JSON Pointer, as ajv reports it) as `$.artifacts[0].sha256`. */
export function jsonPointerToPath(pointer: string): string {
  if (pointer === '') return '$';
  return (
    '$' +
    pointer
      .split('/')
      .slice(1)
      .map((raw) => raw.replace(/~1/g, '/').replace(/~0/g, '~'))
      .map((key) => (/^\d+$/.test(key) ? `[${key}]` : /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`))
      .join('')
  );
}

/**
 * Replaces a file atomically: the content goes to a temporary file in the same directory, is
 * fsync'd, then renamed over the target, and the directory is fsync'd. A crash at any point leaves
 * either the old file or the new one, never a partial one.
 */
export function writeFileAtomic(path: string, content: string, mode = 0o644): void {
  const dir = dirname(path);
  const temp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    const fd = openSync(temp, 'wx', mode);
    try {
      // write(2) may write part of the buffer (a nearly full disk) and report how much: loop until
      // all is written, so a short write is never renamed into place (the next write fails ENOSPC).
      const bytes = Buffer.from(content);
      for (let done = 0; done < bytes.length; ) done += writeSync(fd, bytes, done, bytes.length - done);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, path);
  } catch (error) {
    rmSync(temp, { force: true });
    throw describeFsError(error, path);
  }
  const dirFd = openSync(dir, 'r');
  try {
    fsyncSync(dirFd);
  } finally {
    closeSync(dirFd);
  }
}
