import { createHash } from 'node:crypto';
import { UserError } from '../errors';
import { describeBytes, firstDifference, hexWindow } from './hex';
import type { DiffContext } from './types';

/** The parts of an ELF file a reviewer compares; offsets and sizes were checked against the file. */
export interface ElfFile {
  header: Record<string, string>;
  programHeaders: Record<string, string>[];
  sections: ElfSection[];
}

export interface ElfSection {
  /** Name from the section header string table; a repeated name gets `#2`, `#3`, … */
  name: string;
  type: number;
  typeName: string;
  flags: bigint;
  addr: bigint;
  offset: number;
  size: number;
  link: number;
  entsize: number;
  /** The bytes in the file (none for NOBITS). */
  content: Buffer;
  sha256: string;
}

const SECTION_TYPES: Record<number, string> = {
  0: 'NULL', 1: 'PROGBITS', 2: 'SYMTAB', 3: 'STRTAB', 4: 'RELA', 5: 'HASH', 6: 'DYNAMIC', 7: 'NOTE', 8: 'NOBITS', 9: 'REL',
  11: 'DYNSYM', 14: 'INIT_ARRAY', 15: 'FINI_ARRAY', 16: 'PREINIT_ARRAY', 17: 'GROUP', 18: 'SYMTAB_SHNDX', 0x6ffffff6: 'GNU_HASH',
  0x6ffffffd: 'VERDEF', 0x6ffffffe: 'VERNEED', 0x6fffffff: 'VERSYM',
};
const SEGMENT_TYPES: Record<number, string> = {
  0: 'NULL', 1: 'LOAD', 2: 'DYNAMIC', 3: 'INTERP', 4: 'NOTE', 5: 'SHLIB', 6: 'PHDR', 7: 'TLS', 0x6474e550: 'GNU_EH_FRAME',
  0x6474e551: 'GNU_STACK', 0x6474e552: 'GNU_RELRO', 0x6474e553: 'GNU_PROPERTY',
};
const SHT_SYMTAB = 2;
const SHT_NOTE = 7;
const SHT_NOBITS = 8;
const SHT_DYNSYM = 11;

export function isElf(bytes: Uint8Array): boolean {
  return bytes.length >= 16 && bytes[0] === 0x7f && bytes[1] === 0x45 && bytes[2] === 0x4c && bytes[3] === 0x46;
}

const hex = (value: bigint | number) => '0x' + value.toString(16);

/** Reads an ELF file (32 or 64 bit, either byte order). Anything pointing outside the file is a one-line error. */
export function parseElf(bytes: Buffer, what: string): ElfFile {
  const fail = (message: string): never => {
    throw new UserError(`${what}: ${message}`);
  };
  if (!isElf(bytes)) fail('not an ELF file');
  const is64 = bytes[4] === 2;
  if (bytes[4] !== 1 && bytes[4] !== 2) fail(`ELF class ${bytes[4]} is neither 32 nor 64 bit`);
  const little = bytes[5] === 1;
  if (bytes[5] !== 1 && bytes[5] !== 2) fail(`ELF data encoding ${bytes[5]} is neither little nor big endian`);
  const need = (offset: number, length: number, of: string) => {
    if (offset < 0 || length < 0 || offset + length > bytes.length) fail(`${of} at ${hex(offset)}+${hex(length)} lies outside the file (${bytes.length} bytes): truncated or corrupt`);
  };
  const u16 = (o: number) => (need(o, 2, 'a field'), little ? bytes.readUInt16LE(o) : bytes.readUInt16BE(o));
  const u32 = (o: number) => (need(o, 4, 'a field'), little ? bytes.readUInt32LE(o) : bytes.readUInt32BE(o));
  const u64 = (o: number) => (need(o, 8, 'a field'), little ? bytes.readBigUInt64LE(o) : bytes.readBigUInt64BE(o));
  const word = (o: number): bigint => (is64 ? u64(o) : BigInt(u32(o)));
  const small = (value: bigint, of: string): number => {
    if (value > BigInt(bytes.length)) fail(`${of} ${hex(value)} lies outside the file (${bytes.length} bytes): truncated or corrupt`);
    return Number(value);
  };
  const w = is64 ? 8 : 4;
  // e_type at 16, e_machine 18, e_version 20, e_entry 24, then e_phoff, e_shoff (word-sized), e_flags …
  const phoff = small(word(24 + w), 'e_phoff');
  const shoff = small(word(24 + 2 * w), 'e_shoff');
  const rest = 24 + 3 * w;
  const header: Record<string, string> = {
    class: is64 ? 'ELF64' : 'ELF32',
    data: little ? 'little endian' : 'big endian',
    ei_version: String(bytes[6]),
    osabi: String(bytes[7]),
    abiversion: String(bytes[8]),
    e_type: String(u16(16)),
    e_machine: String(u16(18)),
    e_version: String(u32(20)),
    e_entry: hex(word(24)),
    e_phoff: hex(phoff),
    e_shoff: hex(shoff),
    e_flags: hex(u32(rest)),
    e_ehsize: String(u16(rest + 4)),
    e_phentsize: String(u16(rest + 6)),
    e_phnum: String(u16(rest + 8)),
    e_shentsize: String(u16(rest + 10)),
    e_shnum: String(u16(rest + 12)),
    e_shstrndx: String(u16(rest + 14)),
  };
  const phentsize = u16(rest + 6);
  const phnum = u16(rest + 8);
  const shentsize = u16(rest + 10);
  const shnum = u16(rest + 12);
  const shstrndx = u16(rest + 14);

  const programHeaders: Record<string, string>[] = [];
  if (phnum) {
    if (phentsize < (is64 ? 56 : 32)) fail(`e_phentsize ${phentsize} is too small`);
    need(phoff, phnum * phentsize, 'the program header table');
  }
  for (let i = 0; i < phnum; i++) {
    const o = phoff + i * phentsize;
    const type = u32(o);
    // ELF64 puts p_flags second; ELF32 puts it after p_memsz.
    const fields = is64
      ? { p_flags: u32(o + 4), p_offset: u64(o + 8), p_vaddr: u64(o + 16), p_paddr: u64(o + 24), p_filesz: u64(o + 32), p_memsz: u64(o + 40), p_align: u64(o + 48) }
      : { p_offset: u32(o + 4), p_vaddr: u32(o + 8), p_paddr: u32(o + 12), p_filesz: u32(o + 16), p_memsz: u32(o + 20), p_flags: u32(o + 24), p_align: u32(o + 28) };
    programHeaders.push({ p_type: SEGMENT_TYPES[type] ?? hex(type), ...Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, hex(v)])) });
  }

  const raw: (Omit<ElfSection, 'name' | 'content' | 'sha256'> & { nameOffset: number })[] = [];
  if (shnum) {
    if (shentsize < (is64 ? 64 : 40)) fail(`e_shentsize ${shentsize} is too small`);
    need(shoff, shnum * shentsize, 'the section header table');
  }
  for (let i = 0; i < shnum; i++) {
    const o = shoff + i * shentsize;
    const type = u32(o + 4);
    const flags = is64 ? u64(o + 8) : BigInt(u32(o + 8));
    const addr = word(o + 8 + w);
    const offset = word(o + 8 + 2 * w);
    const size = word(o + 8 + 3 * w);
    const link = u32(o + 8 + 4 * w);
    const entsize = word(o + 16 + 5 * w);
    const inFile = type !== SHT_NOBITS && type !== 0;
    raw.push({
      nameOffset: u32(o),
      type,
      typeName: SECTION_TYPES[type] ?? hex(type),
      flags,
      addr,
      offset: inFile ? small(offset, `section ${i} offset`) : Number(offset & 0xffffffffn),
      size: inFile ? small(size, `section ${i} size`) : Number(size & 0xffffffffn),
      link,
      entsize: Number(entsize & 0xffffffffn),
    });
  }
  const strtab = raw[shstrndx];
  const names = strtab && strtab.type === 3 ? (need(strtab.offset, strtab.size, 'the section name table'), bytes.subarray(strtab.offset, strtab.offset + strtab.size)) : Buffer.alloc(0);
  const seen = new Map<string, number>();
  const sections = raw.map((section, i): ElfSection => {
    const { nameOffset, ...rest } = section;
    const end = names.indexOf(0, nameOffset);
    let name = nameOffset < names.length ? names.subarray(nameOffset, end < 0 ? names.length : end).toString('latin1') : '';
    if (i === 0 && name === '') name = '(null)';
    else if (name === '') name = `(section ${i})`;
    const n = (seen.get(name) ?? 0) + 1;
    seen.set(name, n);
    if (n > 1) name = `${name}#${n}`;
    const inFile = rest.type !== SHT_NOBITS && rest.type !== 0;
    if (inFile) need(rest.offset, rest.size, `section ${name}`);
    const content = inFile ? bytes.subarray(rest.offset, rest.offset + rest.size) : Buffer.alloc(0);
    return { ...rest, name, content, sha256: createHash('sha256').update(content).digest('hex') };
  });
  return { header, programHeaders, sections };
}

/** Notes of a SHT_NOTE section as `owner type: description (hex)`; NT_GNU_BUILD_ID is named. */
export function parseNotes(section: ElfSection, little: boolean): string[] {
  const notes: string[] = [];
  const bytes = section.content;
  const u32 = (o: number) => (little ? bytes.readUInt32LE(o) : bytes.readUInt32BE(o));
  let o = 0;
  while (o + 12 <= bytes.length) {
    const namesz = u32(o);
    const descsz = u32(o + 4);
    const type = u32(o + 8);
    const nameStart = o + 12;
    const descStart = nameStart + Math.ceil(namesz / 4) * 4;
    const next = descStart + Math.ceil(descsz / 4) * 4;
    if (descStart + descsz > bytes.length) break;
    const owner = bytes.subarray(nameStart, nameStart + namesz).toString('latin1').replace(/\0+$/, '');
    const desc = bytes.subarray(descStart, descStart + descsz).toString('hex');
    notes.push(owner === 'GNU' && type === 3 ? `build-id ${desc}` : `${owner} type ${type}: ${desc}`);
    o = next;
  }
  return notes;
}

interface SymbolInfo {
  value: string;
  size: number;
  info: number;
  shndx: number;
}

/** A symbol table by name (repeated names numbered), from its section and the string table it links to. */
function readSymbols(elf: ElfFile, section: ElfSection, little: boolean, is64: boolean): Map<string, SymbolInfo> {
  const symbols = new Map<string, SymbolInfo>();
  const strtab = elf.sections[section.link]?.content ?? Buffer.alloc(0);
  const size = is64 ? 24 : 16;
  const b = section.content;
  const u16 = (o: number) => (little ? b.readUInt16LE(o) : b.readUInt16BE(o));
  const u32 = (o: number) => (little ? b.readUInt32LE(o) : b.readUInt32BE(o));
  const u64 = (o: number) => (little ? b.readBigUInt64LE(o) : b.readBigUInt64BE(o));
  for (let o = 0; o + size <= b.length; o += size) {
    const nameOffset = u32(o);
    const end = strtab.indexOf(0, nameOffset);
    let name = nameOffset < strtab.length ? strtab.subarray(nameOffset, end < 0 ? strtab.length : end).toString('latin1') : '';
    if (name === '') continue;
    const symbol = is64
      ? { info: b[o + 4], shndx: u16(o + 6), value: hex(u64(o + 8)), size: Number(u64(o + 16) & 0xffffffffn) }
      : { value: hex(u32(o + 4)), size: u32(o + 8), info: b[o + 12], shndx: u16(o + 14) };
    let n = 1;
    while (symbols.has(n > 1 ? `${name}#${n}` : name)) n++;
    if (n > 1) name = `${name}#${n}`;
    symbols.set(name, symbol);
  }
  return symbols;
}

const MAX_SYMBOL_LINES = 40;

function diffSymbols(context: DiffContext, where: string[], section: string, a: Map<string, SymbolInfo>, b: Map<string, SymbolInfo>): void {
  const lines: string[] = [];
  let count = 0;
  for (const [name, symbol] of a) {
    const other = b.get(name);
    if (!other) lines.push(`- ${name} ${symbol.value} size ${symbol.size}`);
    else if (other.value !== symbol.value || other.size !== symbol.size || other.info !== symbol.info || other.shndx !== symbol.shndx) {
      lines.push(`~ ${name}: ${symbol.value} size ${symbol.size} -> ${other.value} size ${other.size}`);
    } else continue;
    count++;
  }
  for (const [name, symbol] of b) {
    if (a.has(name)) continue;
    lines.push(`+ ${name} ${symbol.value} size ${symbol.size}`);
    count++;
  }
  if (count === 0) return;
  const shown = lines.slice(0, MAX_SYMBOL_LINES);
  if (lines.length > shown.length) shown.push(`… and ${lines.length - shown.length} more`);
  context.add([...where, `symbols ${section}`], `${count} symbol${count === 1 ? '' : 's'} differ (added +, removed -, moved ~)`, shown.join('\n'));
}

function diffRecords(context: DiffContext, where: string[], a: Record<string, string>, b: Record<string, string>): void {
  for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
    if (a[key] !== b[key]) context.add([...where, key], `${a[key] ?? '(none)'} -> ${b[key] ?? '(none)'}`);
  }
}

/**
 * What differs between two ELF files: header fields, program headers, sections by name (size,
 * content hash, the first differing byte with a hex window at its file offset), notes (the
 * build-id), symbol tables where their sections differ, `.comment`; and bytes outside every
 * section when nothing else explains the difference.
 */
export function diffElf(context: DiffContext, where: string[], a: Buffer, b: Buffer, what: [string, string]): void {
  const elfA = parseElf(a, what[0]);
  const elfB = parseElf(b, what[1]);
  const before = context.count;
  diffRecords(context, [...where, 'ELF header'], elfA.header, elfB.header);
  const phnum = Math.max(elfA.programHeaders.length, elfB.programHeaders.length);
  for (let i = 0; i < phnum; i++) {
    const pa = elfA.programHeaders[i] ?? {};
    const pb = elfB.programHeaders[i] ?? {};
    diffRecords(context, [...where, `program header ${i} (${pa.p_type ?? pb.p_type})`], pa, pb);
  }
  const little = elfA.header.data === 'little endian';
  const is64 = elfA.header.class === 'ELF64';
  const sameLayout = elfA.header.class === elfB.header.class && elfA.header.data === elfB.header.data;
  const byName = new Map(elfB.sections.map((section) => [section.name, section]));
  for (const section of elfA.sections) {
    const other = byName.get(section.name);
    const at = [...where, `section ${section.name}`];
    if (!other) {
      context.add(at, `only in A (${section.typeName}, ${section.size} bytes)`);
      continue;
    }
    if (section.typeName !== other.typeName) context.add(at, `type ${section.typeName} -> ${other.typeName}`);
    if (section.addr !== other.addr) context.add(at, `address ${hex(section.addr)} -> ${hex(other.addr)}`);
    if (section.flags !== other.flags) context.add(at, `flags ${hex(section.flags)} -> ${hex(other.flags)}`);
    if (section.size !== other.size) context.add(at, `size ${section.size} -> ${other.size}`);
    if (section.sha256 === other.sha256) continue;
    if (section.name === '.comment') {
      const strings = (s: ElfSection) => s.content.toString('utf8').split('\0').filter(Boolean).join('\n');
      context.add(at, 'content differs', `- ${strings(section).split('\n').join('\n- ')}\n+ ${strings(other).split('\n').join('\n+ ')}`);
      continue;
    }
    if (section.type === SHT_NOTE && sameLayout) {
      const notesA = parseNotes(section, little);
      const notesB = parseNotes(other, little);
      if (notesA.join('\n') !== notesB.join('\n')) {
        context.add(at, notesA.length === 1 && notesB.length === 1 ? `${notesA[0]} -> ${notesB[0]}` : 'notes differ', `- ${notesA.join('\n- ')}\n+ ${notesB.join('\n+ ')}`);
        continue;
      }
    }
    const offset = firstDifference(section.content, other.content);
    context.add(
      at,
      `content differs (sha256 ${section.sha256.slice(0, 16)}… -> ${other.sha256.slice(0, 16)}…), first at section offset 0x${offset.toString(16)} (file offset 0x${(section.offset + offset).toString(16)})`,
      hexWindow(section.content, other.content, offset, section.offset),
    );
    if ((section.type === SHT_SYMTAB || section.type === SHT_DYNSYM) && sameLayout) {
      diffSymbols(context, where, section.name, readSymbols(elfA, section, little, is64), readSymbols(elfB, other, little, is64));
    }
  }
  const names = new Set(elfA.sections.map((section) => section.name));
  for (const section of elfB.sections) {
    if (!names.has(section.name)) context.add([...where, `section ${section.name}`], `only in B (${section.typeName}, ${section.size} bytes)`);
  }
  if (context.count === before && !a.equals(b)) {
    // Padding between sections, or header bytes no field above covers.
    const bytes = describeBytes(a, b);
    if (bytes) context.add([...where, 'outside any section'], bytes.what, bytes.detail);
  }
}
