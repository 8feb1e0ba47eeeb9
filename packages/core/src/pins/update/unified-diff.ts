/**
 * A unified diff (`diff -u` format, 3 lines of context) of two versions of a file that have the
 * same number of lines, which is what pinning produces: it rewrites references inside lines.
 */
export function unifiedDiffOfLineEdits(path: string, before: string, after: string, context = 3): string {
  const a = before.split('\n');
  const b = after.split('\n');
  if (a.length !== b.length) throw new Error('unifiedDiffOfLineEdits: line counts differ');
  const changed = a.flatMap((line, i) => (line !== b[i] ? [i] : []));
  if (changed.length === 0) return '';
  // Group changed lines whose context windows touch into one hunk.
  const hunks: [number, number][] = [];
  for (const i of changed) {
    const start = Math.max(0, i - context);
    const end = Math.min(a.length - 1, i + context);
    const last = hunks.at(-1);
    if (last && start <= last[1] + 1) last[1] = end;
    else hunks.push([start, end]);
  }
  const out = [`--- a/${path}`, `+++ b/${path}`];
  for (const [start, end] of hunks) {
    const count = end - start + 1;
    out.push(`@@ -${start + 1},${count} +${start + 1},${count} @@`);
    const removed: string[] = [];
    const added: string[] = [];
    const flush = () => {
      out.push(...removed.map((line) => '-' + line), ...added.map((line) => '+' + line));
      removed.length = added.length = 0;
    };
    for (let i = start; i <= end; i++) {
      if (a[i] === b[i]) {
        flush();
        out.push(' ' + a[i]);
      } else {
        removed.push(a[i]);
        added.push(b[i]);
      }
    }
    flush();
  }
  return out.join('\n') + '\n';
}
