import { renderVerifyTable, type VerifyResult } from './verify';
import type { ExplainOptions, MismatchExplanation } from '../explain/explain-mismatch';

/**
 * verify's table with every MISMATCH explained by `reprokit diff` (explain-mismatch.ts, loaded only
 * when something mismatched: it brings the HTTP client and the format readers). Shared by `verify`,
 * `reproduce` and the checksum executor.
 */
export async function renderVerifyReport(result: VerifyResult, options: ExplainOptions = {}): Promise<{ text: string; explanations: MismatchExplanation[] }> {
  const table = renderVerifyTable(result);
  if (!result.checks.some((check) => check.status === 'mismatch')) return { text: table, explanations: [] };
  const { explainMismatches, renderVerifyExplained } = require('../explain/explain-mismatch') as typeof import('../explain/explain-mismatch');
  const explanations = await explainMismatches(result, options);
  return { text: renderVerifyExplained(table, explanations), explanations };
}
