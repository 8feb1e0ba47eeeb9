/** The first offset at which two buffers differ, or -1 when they are equal. */
export function firstDifference(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  // Compare 8 KiB slices with Buffer.compare first: a byte loop over megabytes is slow in JS.
  const step = 8192;
  for (let start = 0; start < n; start += step) {
    const end = Math.min(n, start + step);
    if (Buffer.compare(a.subarray(start, end), b.subarray(start, end)) === 0) continue;
    for (let i = start; i < end; i++) if (a[i] !== b[i]) return i;
  }
  return a.length === b.length ? -1 : n;
}

function hexLines(bytes: Uint8Array, from: number, to: number, base: number, marker: string): string[] {
  const lines: string[] = [];
  for (let line = from; line < to; line += 16) {
    const slice = bytes.subarray(line, Math.min(line + 16, to));
    const hex = Array.from(slice, (byte) => byte.toString(16).padStart(2, '0')).join(' ');
    const ascii = Array.from(slice, (byte) => (byte >= 0x20 && byte < 0x7f ? String.fromCharCode(byte) : '.')).join('');
    lines.push(`${marker} ${(base + line).toString(16).padStart(8, '0')}  ${hex.padEnd(47)}  ${ascii}`);
  }
  return lines;
}

/**
 * A window of both sides around an offset, 16 bytes a line like `xxd`, offsets shown from `base`
 * (e.g. a section's file offset), `-` lines for A and `+` lines for B.
 */
export function hexWindow(a: Uint8Array, b: Uint8Array, offset: number, base = 0, lines = 3): string {
  const from = Math.max(0, Math.floor(offset / 16) * 16 - 16);
  const to = from + lines * 16;
  return [...hexLines(a, from, Math.min(to, a.length), base, '-'), ...hexLines(b, from, Math.min(to, b.length), base, '+')].join('\n');
}

/** "first difference at offset 0x…" and its hex window, for bytes with no structure reprokit knows. */
export function describeBytes(a: Uint8Array, b: Uint8Array, base = 0): { what: string; detail?: string } | undefined {
  const offset = firstDifference(a, b);
  if (offset < 0) return undefined;
  const sizes = a.length === b.length ? `${a.length} bytes` : `${a.length} vs ${b.length} bytes`;
  return { what: `bytes differ (${sizes}), first at offset 0x${(base + offset).toString(16)}`, detail: hexWindow(a, b, offset, base) };
}
