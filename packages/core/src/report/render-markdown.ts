import { VERDICT_LABEL } from './render-html';
import type { ArtifactVerdict, ReprokitReport } from './report-types';
import { variationCell, variationLines } from './variation-results';

/** Findings listed in full; more would crowd a pull-request comment (GitHub caps them at 65,536 characters). */
const MAX_FINDINGS = 50;

/** A table cell: no line breaks, no unescaped pipes. */
const cell = (text: string) => text.replace(/\r?\n/g, ' ').replace(/\|/g, '\\|');
/** Inline code that survives backticks in the text. */
const code = (text: string) => (text.includes('`') ? `\`\` ${text} \`\`` : `\`${text}\``);

/**
 * The report as GitHub-flavoured Markdown, for `$GITHUB_STEP_SUMMARY` or a pull-request comment:
 * the same verdicts as the page, the paper trail in a code block, the findings by project.
 */
export function renderReportMarkdown(report: ReprokitReport): string {
  const artifacts = report.projects.flatMap((project) => project.artifacts.map((artifact) => ({ project, artifact })));
  const failed = artifacts.filter(({ artifact }) => artifact.status !== 'reproduced').length;
  const unreadable = report.projects.filter((project) => project.error);
  const lines: string[] = [];
  lines.push(
    report.ok
      ? `## ✅ reprokit: all ${artifacts.length} artifacts reproduced`
      : `## ❌ reprokit: ${failed} of ${artifacts.length} artifacts not reproduced${unreadable.length ? `, ${unreadable.length} manifest(s) unreadable` : ''}`,
    '',
    `Commit ${code(report.workspace.commit)}${report.workspace.dirty ? ' (uncommitted changes)' : ''}, ${report.workspace.commitDate}; checked ${report.generatedAt} with reprokit ${report.reprokitVersion}.`,
    '',
    '| ' + (Object.keys(VERDICT_LABEL) as ArtifactVerdict[]).map((verdict) => `${VERDICT_LABEL[verdict].symbol} ${VERDICT_LABEL[verdict].word.toLowerCase()}`).join(' | ') + ' |',
    '|' + ' ---: |'.repeat(Object.keys(VERDICT_LABEL).length),
    '| ' + (Object.keys(VERDICT_LABEL) as ArtifactVerdict[]).map((verdict) => String(report.counts[verdict])).join(' | ') + ' |',
    '',
  );
  if (artifacts.length) {
    lines.push('| Project | Artifact | Kind | Status | BLAKE2b-512 | Environment | Variations |', '| --- | --- | --- | --- | --- | --- | --- |');
    for (const { project, artifact } of artifacts) {
      const hash = artifact.actual?.blake2b512 ?? artifact.expected?.blake2b512;
      const env = artifact.environment ? (artifact.environment.type === 'host' ? `host ${artifact.environment.toolchain ?? ''}` : artifact.environment.image ?? '') : '';
      const { symbol, word } = VERDICT_LABEL[artifact.status];
      lines.push(
        `| ${cell(project.name)} | ${cell(artifact.name)} | ${cell(artifact.kind)} | ${symbol} **${word}** | ${hash ? code(hash.slice(0, 16) + '…') : '-'} | ${env ? code(cell(env)) : '-'} | ${cell(variationCell(artifact.variations))} |`,
      );
    }
    lines.push('');
  }
  const explained = artifacts.filter(({ artifact }) => artifact.explanation.length);
  if (explained.length || unreadable.length) {
    lines.push('### What differs', '');
    for (const project of unreadable) lines.push(`- **${cell(project.name)}**: ${project.error}`);
    for (const { project, artifact } of explained) {
      lines.push(`- **${project.name} / ${artifact.name}** (${VERDICT_LABEL[artifact.status].word}, ${code(artifact.path)})`);
      for (const line of artifact.explanation) lines.push(`  - ${line}`);
    }
    lines.push('');
  }
  const varied = artifacts.filter(({ artifact }) => artifact.variations?.verdict === 'not reproducible');
  if (varied.length) {
    lines.push('### Nondeterminism found by variation builds', '');
    for (const { project, artifact } of varied) {
      lines.push(`- **${cell(project.name)} / ${cell(artifact.name)}**: ${cell(artifact.variations!.summary)}`);
      for (const line of variationLines(artifact.variations!).slice(1)) lines.push(`  - ${cell(line)}`);
    }
    lines.push('');
  }
  if (report.attestations) {
    const attested = artifacts.filter(({ artifact }) => artifact.attestations?.ok).length;
    lines.push(`Attestations: ${attested} of ${artifacts.length} artifacts attested PASSED by at least ${report.attestations.threshold} of ${report.attestations.trustedBuilders.length} trusted builders (${report.attestations.trustedBuilders.join(', ')}).`, '');
    for (const line of report.attestations.rejected) lines.push(`- refused: ${line}`);
    if (report.attestations.rejected.length) lines.push('');
  }
  lines.push('<details><summary>Paper trail</summary>', '', '```text', report.paperTrail.trimEnd(), '```', '', '</details>', '');
  const withFindings = report.projects.filter((project) => project.pins.findings.length);
  lines.push('### Pin findings', '');
  if (report.pinsError) lines.push(`The pin scan failed: ${report.pinsError}`, '');
  if (!withFindings.length) {
    if (!report.pinsError) lines.push('None.', '');
  } else {
    lines.push('| Project | Errors | Warnings | Notes |', '| --- | ---: | ---: | ---: |');
    for (const project of withFindings) lines.push(`| ${cell(project.name)} | ${project.pins.error} | ${project.pins.warning} | ${project.pins.note} |`);
    lines.push('');
    const all = withFindings.flatMap((project) => project.pins.findings);
    const order = { error: 0, warning: 1, note: 2 } as const;
    all.sort((a, b) => order[a.severity] - order[b.severity]);
    for (const finding of all.slice(0, MAX_FINDINGS)) {
      lines.push(`- ${finding.severity.toUpperCase()} ${code(`${finding.file}:${finding.line}:${finding.column}`)} ${finding.rule}: ${finding.message}`);
    }
    if (all.length > MAX_FINDINGS) lines.push(`- … and ${all.length - MAX_FINDINGS} more (see the HTML report or \`reprokit pins check\`)`);
    lines.push('');
  }
  return lines.join('\n');
}
