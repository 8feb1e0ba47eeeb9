import type { ErrorObject, ValidateFunction } from 'ajv';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../errors';
import { jsonPointerToPath } from './json-file';

/** The JSON Schemas that ship with @reprokit/core, in its `schema/` directory. */
export const SCHEMA_DIR = join(__dirname, '..', '..', 'schema');

/** One ajv error as `$.json.path: what is wrong`, pointing at the offending key where ajv names it. */
export function describeSchemaError(error: ErrorObject): string {
  let pointer = error.instancePath;
  let message = error.message ?? 'is invalid';
  if (error.keyword === 'required') {
    pointer += `/${error.params.missingProperty}`;
    message = 'is required';
  } else if (error.keyword === 'additionalProperties') {
    pointer += `/${error.params.additionalProperty}`;
    message = 'is not allowed here';
  } else if (error.keyword === 'enum') {
    message = `must be one of ${(error.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
  } else if (error.keyword === 'const') {
    message = `must be ${JSON.stringify(error.params.allowedValue)}`;
  }
  return `${jsonPointerToPath(pointer)}: ${message}`;
}

/** Where tools/gen-schema-types.mjs puts the precompiled (ajv standalone) validators. */
const VALIDATOR_DIR = join(__dirname, '..', '..', 'validators');

/**
 * The validator of one of reprokit's schemas: its precompiled validator (generated with the same
 * ajv options, kept current by a test), or the schema compiled with ajv for a schema that has none.
 * Loaded on first use.
 */
export function schemaValidator(schemaFile: string): () => ValidateFunction {
  let validate: ValidateFunction | undefined;
  return () => {
    if (!validate) {
      const precompiled = join(VALIDATOR_DIR, schemaFile.replace(/\.schema\.json$/, '.js'));
      if (existsSync(precompiled)) {
        validate = require(precompiled) as ValidateFunction;
      } else {
        const { default: Ajv } = require('ajv') as typeof import('ajv');
        validate = new Ajv({ allErrors: false, discriminator: true, strict: true }).compile(JSON.parse(readFileSync(join(SCHEMA_DIR, schemaFile), 'utf8')));
      }
    }
    return validate;
  };
}

/**
 * A checker for one of reprokit's schemas: returns the data typed, or throws a one-line UserError
 * naming the file and the JSON path of the first problem.
 */
export function schemaChecker<T>(schemaFile: string): (data: unknown, path: string) => T {
  const validator = schemaValidator(schemaFile);
  return (data, path) => {
    const validate = validator();
    if (!validate(data)) throw new UserError(`${path}: ${describeSchemaError(validate.errors![0])}`);
    return data as T;
  };
}
