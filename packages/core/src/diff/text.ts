import { createTwoFilesPatch } from 'diff';
import type { DiffContext } from './types';
import { jsonNesting, MAX_NESTING } from '../manifest/nesting';

/** Text a reviewer can read: UTF-8 without NUL bytes. */
export function isText(bytes: Uint8Array): boolean {
  if (bytes.includes(0)) return false;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return true;
  } catch {
    return false;
  }
}

// Myers' diff is O(N·D): two large, very different texts would take long. Past this many lines a
// unified diff is no longer what a reviewer reads anyway; the first differing line is reported.
const MAX_DIFF_LINES = 20000;
const MAX_DETAIL_LINES = 200;

/** A unified diff of two texts (`diff -u` format, 3 lines of context), cut to a readable length. */
export function unifiedDiff(a: string, b: string, labels: [string, string]): string {
  const linesA = a.split('\n');
  const linesB = b.split('\n');
  if (linesA.length > MAX_DIFF_LINES || linesB.length > MAX_DIFF_LINES) {
    const i = linesA.findIndex((line, n) => line !== linesB[n]);
    const at = i < 0 ? Math.min(linesA.length, linesB.length) : i;
    return `--- ${labels[0]}\n+++ ${labels[1]}\nfirst difference at line ${at + 1}:\n-${linesA[at] ?? ''}\n+${linesB[at] ?? ''}`;
  }
  const patch = createTwoFilesPatch(labels[0], labels[1], a, b, undefined, undefined, { context: 3 }).split('\n');
  // jsdiff starts with an `Index:`/`====` header that `diff -u` does not print.
  const body = patch.slice(patch.findIndex((line) => line.startsWith('--- ')));
  if (body.at(-1) === '') body.pop();
  if (body.length <= MAX_DETAIL_LINES) return body.join('\n');
  return [...body.slice(0, MAX_DETAIL_LINES), `… ${body.length - MAX_DETAIL_LINES} more lines`].join('\n');
}

export function diffText(context: DiffContext, where: string[], a: string, b: string): void {
  if (a === b) return;
  const lines = (text: string) => text.split('\n').length;
  context.add(where, `text differs (${lines(a)} vs ${lines(b)} lines)`, unifiedDiff(a, b, ['A', 'B']));
}

/** JSON that parses; undefined otherwise, and for JSON nested deeper than MAX_NESTING (compared as text). */
export function parseJsonText(bytes: Uint8Array): unknown {
  const first = bytes.find((byte) => byte !== 0x20 && byte !== 0x0a && byte !== 0x0d && byte !== 0x09);
  if (first !== 0x7b && first !== 0x5b) return undefined;
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  if (jsonNesting(text) > MAX_NESTING) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

const MAX_JSON_DEPTH = 64;

/** Leaf paths that differ (`$.config.Env[1]`), each with both values. */
function jsonPaths(a: unknown, b: unknown, path: string, out: [string, unknown, unknown][], depth = 0): void {
  if (JSON.stringify(a) === JSON.stringify(b)) return;
  const bothObjects = a && b && typeof a === 'object' && typeof b === 'object' && Array.isArray(a) === Array.isArray(b);
  if (!bothObjects || depth >= MAX_JSON_DEPTH) {
    out.push([path, a, b]);
    return;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.max(a.length, b.length); i++) jsonPaths(a[i], b[i], `${path}[${i}]`, out, depth + 1);
    return;
  }
  const objA = a as Record<string, unknown>;
  const objB = b as Record<string, unknown>;
  for (const key of new Set([...Object.keys(objA), ...Object.keys(objB)])) {
    const child = /^[A-Za-z_$][\w$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
    jsonPaths(objA[key], objB[key], child, out, depth + 1);
  }
}

const show = (value: unknown) => {
  if (value === undefined) return '(none)';
  const text = JSON.stringify(value);
  return text.length > 120 ? text.slice(0, 117) + '…' : text;
};

/**
 * JSON: one difference per differing field (`$.created: "…" -> "…"`), the first carrying a unified
 * diff of both documents pretty-printed, which shows the fields in their context.
 */
export function diffJson(context: DiffContext, where: string[], a: unknown, b: unknown, rawA?: string, rawB?: string): void {
  const paths: [string, unknown, unknown][] = [];
  jsonPaths(a, b, '$', paths);
  if (paths.length === 0) {
    // Same data, other bytes: key order, spacing, escapes.
    if (rawA !== undefined && rawB !== undefined && rawA !== rawB) context.add(where, 'same JSON data, other bytes (formatting or key order)', unifiedDiff(rawA, rawB, ['A', 'B']));
    return;
  }
  const pretty = unifiedDiff(JSON.stringify(a, null, 2), JSON.stringify(b, null, 2), ['A', 'B']);
  paths.forEach(([path, va, vb], i) => context.add([...where, path], `${show(va)} -> ${show(vb)}`, i === 0 ? pretty : undefined));
}

/**
 * pacman's `.PKGINFO` and `.BUILDINFO`: `key = value` lines, a key repeated for lists. Compared
 * field by field, lists as sets with what was added and removed.
 */
export function diffKeyValues(context: DiffContext, where: string[], a: string, b: string): void {
  const parse = (text: string) => {
    const fields = new Map<string, string[]>();
    for (const line of text.split('\n')) {
      const match = /^([^#=\s][^=]*?)\s*=\s?(.*)$/.exec(line);
      if (!match) continue;
      fields.set(match[1], [...(fields.get(match[1]) ?? []), match[2]]);
    }
    return fields;
  };
  const fa = parse(a);
  const fb = parse(b);
  const before = context.count;
  for (const key of new Set([...fa.keys(), ...fb.keys()])) {
    const va = fa.get(key) ?? [];
    const vb = fb.get(key) ?? [];
    if (va.join('\n') === vb.join('\n')) continue;
    if (va.length <= 1 && vb.length <= 1) {
      context.add([...where, key], `${va[0] ?? '(none)'} -> ${vb[0] ?? '(none)'}`);
      continue;
    }
    const removed = va.filter((v) => !vb.includes(v));
    const added = vb.filter((v) => !va.includes(v));
    const detail = [...removed.map((v) => `- ${v}`), ...added.map((v) => `+ ${v}`)];
    context.add([...where, key], removed.length || added.length ? `${removed.length} removed, ${added.length} added` : 'same values, other order', detail.join('\n') || undefined);
  }
  if (context.count === before && a !== b) diffText(context, where, a, b);
}
