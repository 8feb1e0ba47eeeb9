import { closeSync, createWriteStream, fstatSync, openSync, writeFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { archiveKind, downloadChecked, downloadName, gunzipFile } from '../add-sources';
import type { CopySource, ImageSource, Owner } from '../dockerfile/dockerfile';
import { hasWildcard, matchesPattern } from '../dockerfile/wildcard';
import { imagePath, type LayerEntry } from '../layer';
import { resolveInStage, statInContainer } from '../stage-files';
import { extractTar } from '../tar-import';
import type { Handlers, InstructionOf } from './handler';
import { missingDirectories, type BuildSession } from './session';

/** COPY and ADD: every source's files placed at the destination, as one layer. */
export const copyHandler: Handlers['COPY'] = async (build, state, instruction, step) => {
  const runtime = state.config.config;
  const stat = build.statOf(state);
  const destPath = instruction.dest.startsWith('/') ? instruction.dest : posix.join(runtime.WorkingDir || '/', instruction.dest);
  // Into a directory when the destination says so (`dir/`, `.`) or already is one, as docker build does.
  const dest = await resolveInStage(imagePath(destPath), stat);
  const into = /(^|\/)\.?$/.test(instruction.dest) || (await stat(dest))?.type === 'directory';
  const owner = instruction.chown ?? { uid: 0, gid: 0 };
  const entries: LayerEntry[] = [];
  let count = 0;
  for (const source of instruction.sources) {
    const placed = await copySource(build, instruction, source, dest, into, step.fail);
    count += placed.count;
    entries.push(...placed.entries);
  }
  if (count > 1 && !into) step.fail(`${instruction.op} with several sources (here after matching wildcards) needs a destination ending in /`);
  const parents = [...new Set(entries.map((entry) => posix.dirname(entry.name)).filter((dir) => dir !== '.'))];
  build.addLayer(state, [...(await missingDirectories(stat, parents, owner)), ...entries], step.fail);
  return 'layer';
};

/** The files one COPY/ADD source places: how many sources it stood for (wildcards) and the entries. */
async function copySource(
  build: BuildSession,
  instruction: InstructionOf<'COPY'>,
  source: CopySource,
  dest: string,
  into: boolean,
  fail: (message: string) => never,
): Promise<{ count: number; entries: LayerEntry[] }> {
  const { chown, chmod } = instruction;
  const at = `${build.where}:${instruction.line}`;
  const target = (name: string) => (into ? posix.join(dest, name) : dest);
  const owned = (entry: LayerEntry): LayerEntry => ({ ...entry, uid: chown?.uid ?? entry.uid, gid: chown?.gid ?? entry.gid });
  if (source.kind === 'heredoc') {
    const path = build.scratchPath('heredoc');
    writeFileSync(path, source.content);
    return { count: 1, entries: [{ name: imagePath(target(source.name)), type: 'file', path, size: Buffer.byteLength(source.content), mode: chmod ?? 0o644, uid: chown?.uid ?? 0, gid: chown?.gid ?? 0 }] };
  }
  if (source.kind === 'url') {
    const path = build.scratchPath('download');
    build.say(`downloading ${source.url}`);
    const size = await downloadChecked(source.url, instruction.checksum!, path, `${at}: ADD`);
    // Docker gives downloads mode 0600 and never unpacks them.
    return { count: 1, entries: [{ name: imagePath(target(downloadName(source.url, `${at}: ADD`))), type: 'file', path, size, mode: chmod ?? 0o600, uid: chown?.uid ?? 0, gid: chown?.gid ?? 0 }] };
  }
  if (instruction.from) {
    const roots = await copyFrom(build, instruction.from, source.path, fail);
    return { count: roots.length, entries: roots.flatMap((root) => place(root, dest, target, chown, chmod)) };
  }
  const matches = build.context.match(source.path, at);
  const entries: LayerEntry[] = [];
  for (const match of matches) {
    const kind = instruction.op === 'ADD' ? localArchiveKind(build.context.dir, match) : undefined;
    if (kind) {
      // ADD unpacks a local tar into the destination, owners and modes as the archive has them.
      if (kind !== 'tar' && kind !== 'gzip') fail(`ADD ${match}: a ${kind}-compressed tar; reprokit unpacks plain and gzip tars (recompress it, or unpack it in a build stage)`);
      let archive = join(build.context.dir, match);
      if (kind === 'gzip') {
        const plain = build.scratchPath('unpacked') + '.tar';
        await gunzipFile(archive, plain, `${at}: ADD ${match}`);
        archive = plain;
      }
      const files = extractTar(archive, build.scratchPath('add'), `${at}: ADD ${match}`);
      entries.push(...files.map((entry) => owned({ ...entry, name: imagePath(posix.join(dest, entry.name)), mode: chmod ?? entry.mode })));
      continue;
    }
    entries.push(...build.context.copyEntries(match, into ? dest + '/' : dest, chown, chmod, at));
  }
  return { count: matches.length, entries };
}

/** A copied tree: its top entry and everything below it (names relative to the top's parent). */
export interface SourceTree {
  top: LayerEntry;
  below: LayerEntry[];
}

/**
 * What `COPY --from=<stage or image> source` takes: one tree per match (a wildcard may match
 * several), each with its top entry named by the match and the rest relative to it.
 */
export async function copyFrom(build: BuildSession, from: ImageSource, source: string, fail: (message: string) => never): Promise<SourceTree[]> {
  const sourcePath = imagePath(posix.resolve('/', source));
  if (from.kind === 'scratch') return fail('COPY --from=scratch copies nothing');
  const what = from.kind === 'image' ? from.ref : `stage ${from.index}`;
  const parts = sourcePath.split('/');
  const wildcardAt = parts.findIndex(hasWildcard);
  if (wildcardAt === 0) fail(`COPY --from: ${source}: a wildcard in the first path component is not supported; start with a directory`);
  // What is fetched: the source, or the directory above its first wildcard.
  const fetchRoot = wildcardAt < 0 ? sourcePath : parts.slice(0, wildcardAt).join('/');
  const top = posix.basename(fetchRoot);
  let entries: LayerEntry[];
  const state = from.kind === 'stage' ? build.states.get(from.index)! : undefined;
  if (state && !state.fsImage) {
    // A stage built FROM scratch: its files are the ones reprokit wrote.
    entries = [...state.added.values()]
      .filter((entry) => entry.name === fetchRoot || entry.name.startsWith(fetchRoot + '/'))
      .map((entry) => ({ ...entry, name: top + entry.name.slice(fetchRoot.length) }))
      .sort((a, b) => a.name.length - b.name.length);
    if (entries[0]?.name !== top) fail(`COPY --from: ${source} does not exist in ${what}`);
  } else {
    const image = from.kind === 'image' ? await build.pinnedImage(from.ref) : state!.fsImage!;
    const container = await build.probeContainer(image, state ? state.pending : []);
    // Symlinks on the way (the last one too) are followed inside the source, as docker build does.
    const resolved = await resolveInStage(fetchRoot, (path) => statInContainer(container, path));
    const archive = build.scratchPath('copy') + '.tar';
    try {
      await pipeline(await container.getArchive({ path: '/' + resolved }), createWriteStream(archive));
    } catch {
      fail(`COPY --from: ${source} does not exist in ${what}`);
    }
    const fetched = extractTar(archive, build.scratchPath('copy'), `COPY --from ${source}`);
    // The archive's top entry is named after the resolved path: name it as asked.
    const fetchedTop = fetched[0]?.name ?? '';
    entries = fetched.map((entry) => ({ ...entry, name: top + entry.name.slice(fetchedTop.length) }));
  }
  if (wildcardAt < 0) return [treeOf(entries, top)];
  const pattern = parts.slice(wildcardAt).join('/');
  const depth = pattern.split('/').length + 1;
  const roots = entries.filter((entry) => entry.name.split('/').length === depth && matchesPattern(pattern, entry.name.slice(top.length + 1))).map((entry) => entry.name);
  if (roots.length === 0) fail(`COPY --from: nothing in ${what} matches ${source}`);
  return roots.sort().map((root) => treeOf(entries, root));
}

function treeOf(entries: LayerEntry[], root: string): SourceTree {
  const top = entries.find((entry) => entry.name === root)!;
  return { top, below: entries.filter((entry) => entry.name.startsWith(root + '/')) };
}

/** Where a tree lands: a directory's contents into `dest`, a file or link at `target(its name)`. Owners --chown or 0:0. */
function place(tree: SourceTree, dest: string, target: (name: string) => string, chown: Owner | undefined, chmod: number | undefined): LayerEntry[] {
  const owned = (entry: LayerEntry, name: string): LayerEntry => ({ ...entry, name: imagePath(name), mode: chmod !== undefined && entry.type !== 'symlink' ? chmod : entry.mode, uid: chown?.uid ?? 0, gid: chown?.gid ?? 0 });
  if (tree.top.type !== 'directory') return [owned(tree.top, target(posix.basename(tree.top.name)))];
  return tree.below.map((entry) => owned(entry, posix.join(dest, entry.name.slice(tree.top.name.length + 1))));
}

function localArchiveKind(dir: string, path: string): ReturnType<typeof archiveKind> {
  const full = join(dir, path);
  const fd = openSync(full, 'r');
  try {
    if (!fstatSync(fd).isFile()) return undefined;
  } finally {
    closeSync(fd);
  }
  return archiveKind(full);
}
