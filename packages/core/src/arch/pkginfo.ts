import type { ErrorObject } from 'ajv';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../errors';
import { SCHEMA_DIR, schemaValidator } from '../manifest/json-schema';
import type { ArchBuildInfo } from './buildinfo-types';
import type { ArchPkgInfo } from './pkginfo-types';

export type { ArchBuildInfo } from './buildinfo-types';
export type { ArchPkgInfo } from './pkginfo-types';

/**
 * makepkg's package metadata (.PKGINFO, .BUILDINFO) is `key = value`, one per line, a key repeated
 * for every element of a list. The JSON Schemas say which keys are lists and which are numbers, and
 * validate the result; every problem is reported with the file and the line it is on.
 */
interface MetadataFormat {
  schemaFile: string;
  validator: ReturnType<typeof schemaValidator>;
  /** Keys by the type their schema gives them, read from the schema on first use. */
  types?: Map<string, string>;
}

const formats = {
  pkginfo: { schemaFile: 'arch-pkginfo.schema.json', validator: schemaValidator('arch-pkginfo.schema.json') } as MetadataFormat,
  buildinfo: { schemaFile: 'arch-buildinfo.schema.json', validator: schemaValidator('arch-buildinfo.schema.json') } as MetadataFormat,
};

function keyTypes(format: MetadataFormat): Map<string, string> {
  if (!format.types) {
    const schema = JSON.parse(readFileSync(join(SCHEMA_DIR, format.schemaFile), 'utf8')) as { properties: Record<string, { type?: string }> };
    format.types = new Map(Object.entries(schema.properties).map(([key, property]) => [key, property.type ?? 'string']));
  }
  return format.types;
}

/** The line every key was first seen on, to point at it when its value is wrong. */
type KeyLines = Map<string, number>;

function parseKeyValues(text: string, file: string, format: MetadataFormat): { data: Record<string, unknown>; lines: KeyLines; lastLine: number } {
  const types = keyTypes(format);
  const data: Record<string, unknown> = {};
  const lines: KeyLines = new Map();
  const rows = text.split('\n');
  // A file that does not end with a newline was cut short (makepkg ends every line with one).
  if (text !== '' && !text.endsWith('\n')) {
    throw new UserError(`${file}:${rows.length}: truncated: the last line has no newline`);
  }
  rows.forEach((row, i) => {
    const number = i + 1;
    if (row === '' || row.startsWith('#')) return;
    const match = /^([a-z0-9_]+) = (.*)$/.exec(row);
    if (!match) throw new UserError(`${file}:${number}: expected \`key = value\`, found ${JSON.stringify(row.slice(0, 60))}`);
    const [, key, raw] = match;
    const type = types.get(key);
    if (!type) throw new UserError(`${file}:${number}: unknown key ${JSON.stringify(key)}`);
    // Integers stay strings when they are not digits, for the schema to report them.
    const value = type === 'integer' && /^[0-9]+$/.test(raw) ? Number(raw) : raw;
    if (type === 'array') {
      if (!lines.has(key)) lines.set(key, number);
      const list = (data[key] as unknown[] | undefined) ?? [];
      list.push(value);
      data[key] = list;
    } else {
      if (lines.has(key)) throw new UserError(`${file}:${number}: ${key} given twice (first on line ${lines.get(key)})`);
      lines.set(key, number);
      data[key] = value;
    }
  });
  return { data, lines, lastLine: rows.length - 1 };
}

function describe(error: ErrorObject, file: string, lines: KeyLines, lastLine: number): string {
  if (error.keyword === 'required') {
    const key = error.params.missingProperty as string;
    return `${file}:${lastLine}: ${key}: missing (the file ends here: truncated, or not written by makepkg?)`;
  }
  const key = error.instancePath.split('/')[1] ?? '';
  const message = error.keyword === 'enum' ? `must be one of ${(error.params.allowedValues as string[]).join(', ')}` : (error.message ?? 'is invalid');
  return `${file}:${lines.get(key) ?? lastLine}: ${key}: ${message}`;
}

function parseMetadata<T>(text: string, file: string, format: MetadataFormat): T {
  const { data, lines, lastLine } = parseKeyValues(text, file, format);
  const validate = format.validator();
  if (!validate(data)) throw new UserError(describe(validate.errors![0], file, lines, lastLine));
  return data as T;
}

/** Parses a .PKGINFO; `file` names it in errors (e.g. `asdf-0.1.1-1-x86_64.pkg.tar.zst:.PKGINFO`). */
export function parsePkgInfo(text: string, file: string): ArchPkgInfo {
  return parseMetadata<ArchPkgInfo>(text, file, formats.pkginfo);
}

/** Parses a .BUILDINFO; `file` names it in errors. */
export function parseBuildInfo(text: string, file: string): ArchBuildInfo {
  return parseMetadata<ArchBuildInfo>(text, file, formats.buildinfo);
}

/** The fields whose values differ between two parsed metadata files, in key order. */
export function differingFields<T extends object>(expected: T, actual: T): { key: string; expected: unknown; actual: unknown }[] {
  const keys = [...new Set([...Object.keys(expected), ...Object.keys(actual)])].sort();
  const get = (data: T, key: string) => (data as Record<string, unknown>)[key];
  return keys
    .filter((key) => JSON.stringify(get(expected, key)) !== JSON.stringify(get(actual, key)))
    .map((key) => ({ key, expected: get(expected, key), actual: get(actual, key) }));
}
