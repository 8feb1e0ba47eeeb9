import { UserError } from '../errors';
import { parseJson } from '../manifest/json-file';

/** in-toto Attestation Framework v1 (github.com/in-toto/attestation, spec/v1). */
export const STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';

/** A ResourceDescriptor: at least one of uri, digest, content; here always a name or uri and a digest. */
export interface ResourceDescriptor {
  name?: string;
  uri?: string;
  digest?: Record<string, string>;
  mediaType?: string;
  annotations?: Record<string, unknown>;
}

export interface Statement<P = unknown> {
  _type: typeof STATEMENT_TYPE;
  subject: ResourceDescriptor[];
  predicateType: string;
  predicate: P;
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
        .map((key) => [key, sortKeys((value as Record<string, unknown>)[key])]),
    );
  }
  return value;
}

/**
 * The bytes of a statement: keys sorted at every level, two-space indentation, one final newline.
 * The same statement always gives the same bytes, whatever order it was assembled in, so the same
 * build gives the same file and the same signature input.
 */
export function serializeStatement(statement: Statement): Buffer {
  return Buffer.from(JSON.stringify(sortKeys(statement), null, 2) + '\n', 'utf8');
}

/** Parses a statement from (verified) payload bytes, checking what every consumer relies on. */
export function parseStatement(payload: Buffer, label: string): Statement {
  const value = parseJson(payload.toString('utf8'), label) as Partial<Statement> | null;
  if (typeof value !== 'object' || value === null) throw new UserError(`${label}: the payload is not an in-toto statement`);
  if (value._type !== STATEMENT_TYPE) throw new UserError(`${label}: $._type: ${JSON.stringify(value._type)}, expected ${STATEMENT_TYPE}`);
  if (!Array.isArray(value.subject) || value.subject.length === 0) throw new UserError(`${label}: $.subject: the statement names no subject`);
  value.subject.forEach((subject, index) => {
    const digest = subject?.digest;
    if (!digest || typeof digest !== 'object' || !Object.values(digest).every((hex) => typeof hex === 'string' && /^[0-9a-f]+$/.test(hex))) {
      throw new UserError(`${label}: $.subject[${index}].digest: missing or not lowercase hex`);
    }
  });
  if (typeof value.predicateType !== 'string') throw new UserError(`${label}: $.predicateType: missing`);
  if (typeof value.predicate !== 'object' || value.predicate === null) throw new UserError(`${label}: $.predicate: missing`);
  return value as Statement;
}
