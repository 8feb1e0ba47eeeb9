import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeFsError, UserError } from '../errors';
import { parseJson } from '../manifest/json-file';
import { schemaChecker } from '../manifest/json-schema';
import { matchesGlob } from './glob';
import { ruleById, type Finding, type Severity } from './rules';

export const POLICY_FILE = 'reprokit.pins.json';
export const POLICY_SCHEMA_PATH = join(__dirname, '..', '..', 'schema', 'reprokit-pins.schema.json');

export interface Exemption {
  /** Glob over repository-relative paths (see glob.ts). */
  files: string;
  /** A rule id, or `*`. */
  rule: string;
  reason: string;
  /** `YYYY-MM-DD`: the last day the exemption applies. */
  expires?: string;
}

export interface PinPolicy {
  rules?: Record<string, Severity | 'off'>;
  exemptions?: Exemption[];
}

/** A policy and where it came from; an empty policy has no path. */
export interface LoadedPolicy {
  policy: PinPolicy;
  /** Absolute path of the policy file. */
  path?: string;
  text?: string;
}

export const EMPTY_POLICY: LoadedPolicy = { policy: {} };

const checkPolicySchema = schemaChecker<PinPolicy>('reprokit-pins.schema.json');

/** Reads and validates a policy file; anything wrong is one line naming the file and the JSON path. */
export function loadPolicy(path: string): LoadedPolicy {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw describeFsError(error, path);
  }
  return { policy: parsePolicy(parseJson(text, path), path), path, text };
}

export function parsePolicy(data: unknown, path: string): PinPolicy {
  const policy = checkPolicySchema(data, path);
  policy.exemptions?.forEach((exemption, i) => {
    if (exemption.expires !== undefined && !isRealDate(exemption.expires)) {
      throw new UserError(`${path}: $.exemptions[${i}].expires: ${exemption.expires} is not a date`);
    }
  });
  return policy;
}

function isRealDate(date: string): boolean {
  const parsed = new Date(`${date}T00:00:00Z`);
  return !Number.isNaN(parsed.getTime()) && parsed.toISOString().startsWith(date);
}

export interface PolicyContext {
  /** Today as `YYYY-MM-DD` (UTC); exemptions that expired before it no longer apply. */
  today: string;
  /** Where the policy file is, relative to the repository root, for findings about it. */
  policyFile?: string;
}

/**
 * Gives each finding its severity, drops disabled rules and exempted findings, and reports
 * exemptions that have expired (which then exempt nothing).
 */
export function applyPolicy(findings: Omit<Finding, 'severity' | 'fix'>[], loaded: LoadedPolicy, context: PolicyContext): Finding[] {
  const { rules = {}, exemptions = [] } = loaded.policy;
  const expired = (exemption: Exemption) => exemption.expires !== undefined && exemption.expires < context.today;
  const active = exemptions.filter((exemption) => !expired(exemption));
  const withPolicy = (finding: Omit<Finding, 'severity' | 'fix'>): Finding[] => {
    const rule = ruleById(finding.rule);
    const level = rules[rule.id] ?? rule.defaultSeverity;
    return level === 'off' ? [] : [{ ...finding, severity: level, fix: rule.fix }];
  };
  const kept = findings
    .filter((finding) => !active.some((exemption) => (exemption.rule === '*' || exemption.rule === finding.rule) && matchesGlob(finding.file, exemption.files)))
    .flatMap(withPolicy);
  const lapsed = exemptions.flatMap((exemption, i) => {
    if (!expired(exemption)) return [];
    const { line, column } = exemptionPosition(loaded.text ?? '', i);
    return withPolicy({
      rule: 'policy-exemption-expired',
      file: context.policyFile ?? POLICY_FILE,
      line,
      column,
      message: `exemptions[${i}] (${exemption.rule} on ${exemption.files}: ${exemption.reason}) expired on ${exemption.expires}`,
    });
  });
  return [...kept, ...lapsed];
}

/** Where the `i`-th exemption's `"expires"` key is written: JSON.parse does not say. */
function exemptionPosition(text: string, index: number): { line: number; column: number } {
  const start = text.search(/"exemptions"\s*:/);
  let offset = -1;
  if (start >= 0) {
    // Count the objects opened at depth one of the exemptions array; strings are skipped.
    let depth = 0;
    let seen = -1;
    for (let j = text.indexOf('[', start); j < text.length && j >= 0; j++) {
      const c = text[j];
      if (c === '"') {
        j++;
        while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      } else if (c === '[' || c === '{') {
        depth++;
        if (c === '{' && depth === 2 && ++seen === index) {
          const expires = text.slice(j).search(/"expires"/);
          offset = expires >= 0 ? j + expires : j;
          break;
        }
      } else if (c === ']' || c === '}') {
        if (--depth === 0) break;
      }
    }
  }
  if (offset < 0) return { line: 1, column: 1 };
  const before = text.slice(0, offset);
  return { line: before.split('\n').length, column: offset - before.lastIndexOf('\n') };
}
