import { MappedText } from '../mapped-text';
import type { RawFinding } from '../rules';
import { parseShell, ShellParseError, type Pipeline, type Word } from '../shell/shell';
import { checkPipelines, type ShellCheckOptions } from '../shell/shell-rules';

/** Checksum arrays makepkg verifies that resist collisions; md5sums and sha1sums do not count. */
const STRONG_SUMS = ['sha256sums', 'sha512sums', 'b2sums', 'sha384sums', 'sha224sums'];
const WEAK_SUMS = ['md5sums', 'sha1sums', 'cksums'];
const FULL_COMMIT = /#commit=([0-9a-f]{40}|[0-9a-f]{64})$/;

/**
 * A PKGBUILD is a bash script: its functions are checked like any script, and its `source` arrays
 * against the checksum arrays at the same index (`source_x86_64` with `sha256sums_x86_64`).
 */
export function checkPkgbuild(text: string, options: Omit<ShellCheckOptions, 'context'>): RawFinding[] {
  let pipelines: Pipeline[];
  try {
    pipelines = parseShell(MappedText.fromLines(text));
  } catch (error) {
    if (!(error instanceof ShellParseError)) throw error;
    return [{ rule: 'pins-unparsable', ...error.position, message: `PKGBUILD not checked: ${error.message}` }];
  }
  const findings = checkPipelines(pipelines, { ...options, context: 'pkgbuild' });
  const scalars = new Map<string, string>();
  const arrays = new Map<string, Word[]>();
  for (const { commands } of pipelines) {
    for (const { words } of commands) {
      for (const word of words) {
        const assignment = /^([A-Za-z_][A-Za-z0-9_]*)(\+?)=/.exec(word.raw);
        if (!assignment) break;
        const [, name, append] = assignment;
        if (word.array) arrays.set(name, [...(append ? (arrays.get(name) ?? []) : []), ...word.array]);
        else scalars.set(name, expand(word.text.slice(assignment[0].length), scalars));
      }
    }
  }
  for (const [name, sources] of arrays) {
    const suffix = /^source(_\w+)?$/.exec(name)?.[1];
    if (suffix === undefined && name !== 'source') continue;
    const sums = (names: string[]) => names.map((sum) => arrays.get(sum + (suffix ?? ''))).filter((list) => list !== undefined);
    const strong = sums(STRONG_SUMS);
    const onlyWeak = strong.length === 0 && sums(WEAK_SUMS).length > 0;
    sources.forEach((entry, index) => {
      const source = expand(entry.text, scalars);
      const location = source.replace(/^[^/]*?::/, '');
      const verified = strong.some((list) => list[index] !== undefined && expand(list[index].text, scalars) !== 'SKIP');
      const at = (rule: string, message: string) => findings.push({ rule, line: entry.position.line, column: entry.position.column, message });
      const weak = onlyWeak ? ' (md5sums/sha1sums do not resist collisions)' : '';
      if (/^(git|hg|svn|bzr|fossil)\+|^git:\/\//.test(location)) {
        if (!FULL_COMMIT.test(location) && !verified) {
          const ref = /#(commit|tag|branch|revision)=/.exec(location)?.[1];
          const why = ref === 'commit' ? 'the commit is abbreviated or not a hash' : ref ? `a ${ref} can move` : 'it follows the default branch';
          at('pkgbuild-vcs-unpinned', `${name}[${index}] ${location}: not pinned to a full commit (${why})`);
        }
      } else if (/^(https?|ftp):\/\//.test(location)) {
        if (!verified) at('pkgbuild-source-unverified', `${name}[${index}] ${location}: checksum is SKIP or missing${weak}`);
      } else if (!verified) {
        at('pkgbuild-local-skip', `${name}[${index}] ${location}: local file with checksum SKIP or missing`);
      }
    });
  }
  return findings;
}

/** `$name` and `${name}` from the PKGBUILD's own variables; anything else stays as written. */
function expand(value: string, scalars: Map<string, string>): string {
  return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (whole, braced, bare) => scalars.get(braced ?? bare) ?? whole);
}
