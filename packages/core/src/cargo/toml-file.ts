import type * as SmolToml from 'smol-toml' with { 'resolution-mode': 'import' };
import { readRegularText } from '../fs/regular-file';
import { UserError } from '../errors';

// smol-toml ships CommonJS beside its ES module; only its types are ESM-only.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { parse, TomlError }: typeof SmolToml = require('smol-toml');

/** Cargo manifests and configs are small; a larger file is refused rather than parsed. */
export const MAX_TOML_BYTES = 1 << 20;

/**
 * Reads and parses a TOML file (a Cargo.toml, Cargo.lock or .cargo/config.toml), bounded in size,
 * a regular file only. A syntax error names the file, line and column, as cargo does.
 */
export function readTomlFile(path: string, maxBytes = MAX_TOML_BYTES): Record<string, unknown> {
  return parseToml(readRegularText(path, maxBytes, 'a TOML file'), path);
}

export function parseToml(text: string, path: string): Record<string, unknown> {
  try {
    return parse(text) as Record<string, unknown>;
  } catch (error) {
    if (error instanceof TomlError) {
      const reason = error.message.split('\n')[0].replace(/^Invalid TOML document: /, '');
      throw new UserError(`${path}:${error.line}:${error.column}: invalid TOML: ${reason}`);
    }
    throw new UserError(`${path}: invalid TOML: ${(error as Error).message.split('\n')[0]}`);
  }
}

/** A table (plain object) or undefined. */
export function table(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && !(value instanceof Date) ? (value as Record<string, unknown>) : undefined;
}

export function string(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}
