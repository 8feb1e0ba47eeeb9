// Generated from packages/nx/src/executors/pins/schema.json by tools/gen-schema-types.mjs. Do not edit: change the schema, then run `npm run gen-types`.

/**
 * Checks the project's files for inputs not pinned by content hash (reprokit pins check), as a gate.
 */
export interface PinsExecutorSchema {
  /**
   * How findings are printed.
   */
  format?: 'text' | 'json' | 'sarif';
  /**
   * The target fails when a finding has at least this severity.
   */
  failOn?: 'error' | 'warning' | 'note';
  /**
   * Policy file relative to the workspace (default: reprokit.pins.json at the repository root, if any).
   */
  policy?: string;
  /**
   * Also write the findings, in `format`, to this file (relative to the workspace), e.g. a SARIF report for code scanning.
   */
  outputFile?: string;
}
