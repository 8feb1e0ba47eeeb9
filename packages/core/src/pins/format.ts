import { relative, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPROKIT_VERSION } from '../version';
import { RULES, type Finding } from './rules';
import type { RepositoryResult } from './scan';

/** A repository as the user named it (relative to the working directory), to prefix its files with. */
function displayRoot(root: string, cwd: string): string {
  const shown = relative(cwd, root).split(sep).join('/');
  return shown === '' ? '' : shown.startsWith('..') ? root : shown;
}

function displayFile(result: RepositoryResult, finding: Finding, cwd: string): string {
  const root = displayRoot(result.root, cwd);
  return root === '' ? finding.file : `${root}/${finding.file}`;
}

export const FORMATS = ['text', 'json', 'sarif'] as const;
export type Format = (typeof FORMATS)[number];

/** The findings in one of the output formats. */
export function formatFindings(results: RepositoryResult[], format: Format): string {
  return format === 'json' ? formatJson(results) : format === 'sarif' ? formatSarif(results) : formatText(results);
}

/** `file:line:col severity rule message`, one finding a line, files shown from the working directory. */
export function formatText(results: RepositoryResult[], cwd = process.cwd()): string {
  return results
    .flatMap((result) =>
      result.findings.map((finding) => `${displayFile(result, finding, cwd)}:${finding.line}:${finding.column} ${finding.severity} ${finding.rule} ${finding.message}`),
    )
    .map((line) => line + '\n')
    .join('');
}

/**
 * An array of findings as `{rule, severity, file, line, column, message, fix}`, plus `repository`
 * (the root as shown by formatText, `.` for the working directory) since `file` is relative to it.
 */
export function formatJson(results: RepositoryResult[], cwd = process.cwd()): string {
  const findings = results.flatMap((result) =>
    result.findings.map((finding) => ({
      rule: finding.rule,
      severity: finding.severity,
      file: finding.file,
      line: finding.line,
      column: finding.column,
      message: finding.message,
      fix: finding.fix,
      repository: displayRoot(result.root, cwd) || '.',
    })),
  );
  return JSON.stringify(findings, null, 2) + '\n';
}

/**
 * SARIF 2.1.0, one run, as GitHub code scanning takes it: every rule in tool.driver.rules, results
 * located by a URI relative to their repository root (uriBaseId SRCROOT, the first repository;
 * SRCROOT1… for more), lines and columns 1-based.
 */
export function formatSarif(results: RepositoryResult[]): string {
  const baseIds = results.map((_, i) => (i === 0 ? 'SRCROOT' : `SRCROOT${i}`));
  const ruleIndex = new Map(RULES.map((rule, i) => [rule.id, i]));
  const log = {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'reprokit',
            semanticVersion: REPROKIT_VERSION,
            version: REPROKIT_VERSION,
            rules: RULES.map((rule) => ({
              id: rule.id,
              name: rule.id.replace(/(^|-)([a-z])/g, (_, __, letter: string) => letter.toUpperCase()),
              shortDescription: { text: rule.summary },
              fullDescription: { text: rule.summary },
              help: { text: rule.fix, markdown: rule.fix },
              defaultConfiguration: { level: rule.defaultSeverity },
              properties: { tags: ['security', 'supply-chain', 'reproducibility'] },
            })),
          },
        },
        originalUriBaseIds: Object.fromEntries(results.map((result, i) => [baseIds[i], { uri: pathToFileURL(result.root + '/').href }])),
        results: results.flatMap((result, i) =>
          result.findings.map((finding) => ({
            ruleId: finding.rule,
            ruleIndex: ruleIndex.get(finding.rule),
            level: finding.severity,
            message: { text: `${finding.message}. ${finding.fix}` },
            locations: [
              {
                physicalLocation: {
                  artifactLocation: { uri: finding.file.split('/').map(encodeURIComponent).join('/'), uriBaseId: baseIds[i] },
                  region: { startLine: finding.line, startColumn: finding.column },
                },
              },
            ],
          })),
        ),
      },
    ],
  };
  return JSON.stringify(log, null, 2) + '\n';
}
