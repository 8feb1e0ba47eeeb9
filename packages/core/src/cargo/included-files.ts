import { lstatSync, readdirSync } from 'node:fs';
import { join, posix } from 'node:path';
import { readRegularText } from '../fs/regular-file';

/**
 * Files a crate's sources pull in at compile time with `include_str!`, `include_bytes!` or
 * `include!`: cargo reads them as much as the sources, so they are build inputs wherever they lie
 * (`include_str!("../README.md")` reads a file outside `src/`). Only literal paths, relative to the
 * source file as rustc resolves them, and `concat!(env!("CARGO_MANIFEST_DIR"), "/…")` are
 * understood; a path built otherwise is not seen (keep such files in `src/`).
 */

/** Sources are read up to this size each, and at most this many files per crate: a bound, not a limit real crates meet. */
const MAX_SOURCE_BYTES = 4 << 20;
const MAX_SOURCE_FILES = 20_000;
const MAX_DEPTH = 32;

// `include_str!("x")`, `include_bytes!(r"x")`, `include!("x")`, or the same with
// `concat!(env!("CARGO_MANIFEST_DIR"), "/x")`; a `//` line comment before it on the line is skipped below.
const INCLUDE = /\binclude(?:_str|_bytes)?!\s*\(\s*(?:r#*"([^"]*)"#*|"((?:[^"\\]|\\.)*)"|concat!\s*\(\s*env!\s*\(\s*"CARGO_MANIFEST_DIR"\s*\)\s*,\s*"((?:[^"\\]|\\.)*)"\s*\))/g;

/** Every `.rs` file below `dir` (or `dir` itself when it is one), symlinks not followed, bounded. */
function rustFiles(dir: string, depth: number, out: string[]): void {
  if (out.length >= MAX_SOURCE_FILES || depth > MAX_DEPTH) return;
  let stats;
  try {
    stats = lstatSync(dir);
  } catch {
    return;
  }
  if (stats.isFile()) {
    if (dir.endsWith('.rs')) out.push(dir);
    return;
  }
  if (!stats.isDirectory()) return;
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch {
    return;
  }
  for (const name of names) rustFiles(join(dir, name), depth + 1, out);
}

/** The string literal's text with rustc's simple escapes undone (a path rarely has any). */
function unescape(text: string): string {
  return text.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c === 't' ? '\t' : c));
}

/**
 * The files the crate at `crateDir` (relative to `workspaceRoot`, posix) includes from its
 * `sources` (relative to the crate: `src`, `build.rs`, a target's file), as paths relative to the
 * workspace root, sorted; a path that leaves the workspace is left out (cargo in the container
 * cannot read it either).
 */
export function includedFiles(workspaceRoot: string, crateDir: string, sources: readonly string[]): string[] {
  const files: string[] = [];
  for (const source of sources) rustFiles(join(workspaceRoot, crateDir, source), 0, files);
  const included = new Set<string>();
  for (const file of files) {
    let text: string;
    try {
      text = readRegularText(file, MAX_SOURCE_BYTES, 'a Rust source file');
    } catch {
      continue; // cargo reports an unreadable source itself
    }
    const fileDir = posix.dirname(posix.relative(workspaceRoot.split('\\').join('/'), file.split('\\').join('/')));
    for (const line of text.split('\n')) {
      const code = line.replace(/^\s*\/\/.*$/, '');
      for (const match of code.matchAll(INCLUDE)) {
        const [, raw, quoted, fromManifestDir] = match;
        const literal = raw ?? (quoted !== undefined ? unescape(quoted) : undefined);
        // An absolute path is outside the workspace (and outside what the container mounts).
        if (literal !== undefined && posix.isAbsolute(literal)) continue;
        const path = fromManifestDir !== undefined ? posix.join(crateDir, unescape(fromManifestDir)) : posix.join(fileDir, literal!);
        const normalized = posix.normalize(path);
        if (normalized.startsWith('../') || normalized === '..' || posix.isAbsolute(normalized)) continue;
        included.add(normalized);
      }
    }
  }
  return [...included].sort();
}
