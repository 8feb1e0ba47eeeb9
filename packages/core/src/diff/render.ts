import type { DiffResult } from './types';

/**
 * One line per difference, `where: what`, its detail (a unified diff, a hex window) indented
 * below; then a summary line.
 */
export function renderDiff(result: DiffResult, indent = ''): string {
  if (result.same) return `${indent}${result.a} and ${result.b} are identical\n`;
  const lines: string[] = [];
  for (const difference of result.differences) {
    const where = difference.where.length ? difference.where.join(': ') + ': ' : '';
    lines.push(`${indent}${where}${difference.what}`);
    if (difference.detail) lines.push(...difference.detail.split('\n').map((line) => `${indent}    ${line}`));
  }
  if (result.more) lines.push(`${indent}… and ${result.more} more differences`);
  const count = result.differences.length + result.more;
  lines.push(`${indent}${result.a} and ${result.b} differ (${result.format}): ${count} difference${count === 1 ? '' : 's'}`);
  return lines.join('\n') + '\n';
}
