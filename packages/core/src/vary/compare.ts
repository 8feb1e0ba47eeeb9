import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { diffPaths } from '../diff/diff';
import { isUserError } from '../errors';

/** Differences named in one culprit line; the rest are counted. */
const SHOWN = 3;

/**
 * What differs between the control build's artifact and a varied build's, in one line: undefined
 * when the files are identical, else what `reprokit diff` finds first (the archive entry and
 * field, the ELF section, the layer and file, …), `; `-joined, with the number of differences.
 * When diff cannot say (bounds, a format it does not read), the first differing byte.
 */
export function describeDifference(control: string, varied: string): string | undefined {
  const offset = firstDifferingOffset(control, varied);
  if (offset === undefined) return undefined;
  const a = statSync(control).size;
  const b = statSync(varied).size;
  const byte = `first difference at byte ${offset} (0x${offset.toString(16)}) (${a === b ? `size ${a}` : `sizes ${a} and ${b}`})`;
  let result;
  try {
    result = diffPaths(control, varied, { maxDifferences: 50 });
  } catch (error) {
    if (!isUserError(error)) throw error;
    return `${byte}; reprokit diff: ${error.message.split('\n')[0]}`;
  }
  if (result.same || !result.differences.length) return byte;
  // The build ID note digests the rest: name it only when nothing else differs.
  const meaningful = result.differences.filter((d) => !d.where.some((part) => part.includes('.note.gnu.build-id')));
  // Sections (and archive entries) first: header fields that differ (sizes, offsets) follow from them.
  const isHeader = (d: { where: string[] }) => d.where.some((part) => /^(program header|ELF header|section header)/.test(part));
  const differences = [...(meaningful.length ? meaningful : result.differences)].sort((x, y) => Number(isHeader(x)) - Number(isHeader(y)));
  const lines = differences.slice(0, SHOWN).map((d) => `${d.where.length ? d.where.join(': ') + ': ' : ''}${d.what}`);
  const count = result.differences.length + result.more;
  return `${lines.join('; ')}${count > lines.length ? ` (${count} differences, ${result.format})` : ` (${result.format})`}`;
}

const CHUNK = 1 << 20;

/** The first offset at which the files differ (the shorter one's end if it is a prefix), or undefined. */
export function firstDifferingOffset(a: string, b: string): number | undefined {
  const fa = openSync(a, 'r');
  const fb = openSync(b, 'r');
  try {
    const ba = Buffer.alloc(CHUNK);
    const bb = Buffer.alloc(CHUNK);
    for (let position = 0; ; position += CHUNK) {
      const na = readSync(fa, ba, 0, CHUNK, position);
      const nb = readSync(fb, bb, 0, CHUNK, position);
      const n = Math.min(na, nb);
      for (let i = 0; i < n; i++) if (ba[i] !== bb[i]) return position + i;
      if (na !== nb) return position + n;
      if (na === 0) return undefined;
    }
  } finally {
    closeSync(fa);
    closeSync(fb);
  }
}
