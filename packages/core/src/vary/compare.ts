import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { tarEntries, type TarEntry } from '../archive/tar-reader';

/**
 * What differs between the control build's artifact and a varied build's: undefined when the two
 * files are identical, else one line a person can start from: the first differing tar entry and
 * field for an archive, else the first differing byte offset (and the ELF section holding it).
 */
export function describeDifference(control: string, varied: string): string | undefined {
  const a = statSync(control);
  const b = statSync(varied);
  const offset = firstDifferingOffset(control, varied);
  if (offset === undefined) return undefined;
  const sizes = a.size === b.size ? `size ${a.size}` : `sizes ${a.size} and ${b.size}`;
  if (isTar(control) && isTar(varied)) {
    const entry = firstDifferingEntry(control, varied);
    if (entry) return `${entry} (${sizes})`;
  }
  const where = elfSectionAt(control, offset);
  const sections = differingElfSections(control, varied);
  const shown = sections.length > 6 ? [...sections.slice(0, 6), `${sections.length - 6} more`] : sections;
  return `first difference at byte ${offset} (0x${offset.toString(16)})${where ? ` in ${where}` : ''}${shown.length ? `; sections that differ: ${shown.join(', ')}` : ''} (${sizes})`;
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

function readHead(path: string, length: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const buffer = Buffer.alloc(length);
    const n = readSync(fd, buffer, 0, length, 0);
    return buffer.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

function isTar(path: string): boolean {
  return readHead(path, 262).subarray(257, 262).toString('latin1') === 'ustar';
}

const ENTRY_FIELDS = ['type', 'mode', 'uid', 'gid', 'uname', 'gname', 'mtime', 'size', 'link'] as const;

function entryList(path: string): Map<string, TarEntry> {
  const entries = new Map<string, TarEntry>();
  for (const entry of tarEntries(path, path)) {
    const content = entry.type === 'file' ? entry.content() : undefined;
    entries.set(entry.path, { ...entry, sha256: content && hashOf(content) });
  }
  return entries;
}

function hashOf(content: Buffer): string {
  return createHash('sha256').update(content).digest('hex');
}

function format(field: string, value: unknown): string {
  return field === 'mode' && typeof value === 'number' ? `0${value.toString(8)}` : JSON.stringify(value);
}

/** The first entry (in the control's order) that is missing, added or different, with the field. */
export function firstDifferingEntry(control: string, varied: string): string | undefined {
  const diff = firstEntryDifference(control, varied);
  // The archive's root (`./`) has an empty name once `./` is stripped.
  return diff?.replace(/^entry (:| )/, (_, after: string) => `entry .${after}`);
}

function firstEntryDifference(control: string, varied: string): string | undefined {
  const a = entryList(control);
  const b = entryList(varied);
  const namesA = [...a.keys()];
  const namesB = [...b.keys()];
  for (let i = 0; i < Math.max(namesA.length, namesB.length); i++) {
    const name = namesA[i];
    if (name === undefined) return `entry ${namesB[i]}: only in the varied build`;
    const other = b.get(name);
    if (!other) return `entry ${name}: only in the control build`;
    for (const field of ENTRY_FIELDS) {
      if (a.get(name)![field] !== other[field]) return `entry ${name}: ${field} ${format(field, a.get(name)![field])} -> ${format(field, other[field])}`;
    }
    if (a.get(name)!.sha256 !== other.sha256) return `entry ${name}: content differs`;
    if (namesB[i] !== name) return `entry order: ${name} is at ${i} in the control build, ${namesB.indexOf(name)} in the varied build`;
  }
  return undefined;
}

interface ElfSection {
  name: string;
  offset: number;
  /** Bytes in the file (0 for SHT_NOBITS, e.g. .bss). */
  size: number;
}

interface ElfLayout {
  sections: ElfSection[];
  phoff: number;
  phsize: number;
  shoff: number;
  shsize: number;
}

/** The file layout of an ELF64 little-endian file (what every builder here produces), or undefined. */
function elfLayout(path: string): ElfLayout | undefined {
  const fd = openSync(path, 'r');
  try {
    const read = (position: number, length: number) => {
      const buffer = Buffer.alloc(length);
      return readSync(fd, buffer, 0, length, position) === length ? buffer : undefined;
    };
    const header = read(0, 64);
    if (!header || header.readUInt32BE(0) !== 0x7f454c46 || header[4] !== 2 || header[5] !== 1) return undefined;
    const phoff = Number(header.readBigUInt64LE(0x20));
    const shoff = Number(header.readBigUInt64LE(0x28));
    const shentsize = header.readUInt16LE(0x3a);
    const shnum = header.readUInt16LE(0x3c);
    const shstrndx = header.readUInt16LE(0x3e);
    const layout = { sections: [] as ElfSection[], phoff, phsize: header.readUInt16LE(0x36) * header.readUInt16LE(0x38), shoff, shsize: shnum * shentsize };
    // Bounded: a hostile file names at most 65,535 sections of which we read 64-byte headers.
    if (shentsize < 64 || shnum === 0 || shstrndx >= shnum) return layout;
    const raw = (index: number) => {
      const entry = read(shoff + index * shentsize, 64);
      return entry && { name: entry.readUInt32LE(0), type: entry.readUInt32LE(4), offset: Number(entry.readBigUInt64LE(0x18)), size: Number(entry.readBigUInt64LE(0x20)) };
    };
    const strings = raw(shstrndx);
    const nameOf = (at: number) => {
      const bytes = strings && at < strings.size ? read(strings.offset + at, Math.min(64, strings.size - at)) : undefined;
      return bytes ? bytes.subarray(0, bytes.indexOf(0) < 0 ? bytes.length : bytes.indexOf(0)).toString('latin1') : '?';
    };
    for (let i = 1; i < shnum; i++) {
      const section = raw(i);
      // SHT_NOBITS (8) occupies no file bytes.
      if (section) layout.sections.push({ name: nameOf(section.name), offset: section.offset, size: section.type === 8 ? 0 : section.size });
    }
    return layout;
  } finally {
    closeSync(fd);
  }
}

/** Which part of an ELF file holds `offset`: a section's name, or the headers. */
export function elfSectionAt(path: string, offset: number): string | undefined {
  const layout = elfLayout(path);
  if (!layout) return undefined;
  const section = layout.sections.find((s) => offset >= s.offset && offset < s.offset + s.size);
  if (section) return section.name;
  if (offset < 64) return 'ELF header';
  if (offset >= layout.phoff && offset < layout.phoff + layout.phsize) return 'program header table';
  if (offset >= layout.shoff && offset < layout.shoff + layout.shsize) return 'section header table';
  return undefined;
}

function readRange(path: string, offset: number, size: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const buffer = Buffer.alloc(size);
    return buffer.subarray(0, readSync(fd, buffer, 0, size, offset));
  } finally {
    closeSync(fd);
  }
}

/**
 * The sections (in the control's order) whose content differs between two ELF files, or that only
 * one has: where a layout shift (the first differing byte is often a header) comes from. The build
 * ID note digests the other sections, so it differs whenever anything does: it is named only when
 * nothing else differs.
 */
export function differingElfSections(control: string, varied: string): string[] {
  const a = elfLayout(control);
  const b = elfLayout(varied);
  if (!a || !b) return [];
  const differing: string[] = [];
  for (const section of a.sections) {
    const other = b.sections.find((s) => s.name === section.name);
    if (!other) differing.push(`${section.name} (only in the control build)`);
    else if (section.size !== other.size) differing.push(`${section.name} (${section.size} -> ${other.size} bytes)`);
    // Sections are compared whole only up to 64 MiB each; bigger ones by size alone.
    else if (section.size <= 64 << 20 && !readRange(control, section.offset, section.size).equals(readRange(varied, other.offset, other.size))) differing.push(section.name);
  }
  for (const section of b.sections) if (!a.sections.some((s) => s.name === section.name)) differing.push(`${section.name} (only in the varied build)`);
  const meaningful = differing.filter((name) => !name.startsWith('.note.gnu.build-id'));
  return meaningful.length ? meaningful : differing;
}
