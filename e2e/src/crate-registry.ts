// A real crate registry for tests: cargo's sparse protocol over HTTP on 127.0.0.1 (a server
// process of its own, crate-registry-server.ts), serving crates packaged as `cargo package` lays
// them out (`<name>-<version>/…` in a .tar.gz) from Debian's librust-*-dev sources under
// /usr/share/cargo/registry (tools/setup installs them).
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';

export const DEBIAN_CRATES = '/usr/share/cargo/registry';

export interface CrateRegistry {
  /** `sparse+http://127.0.0.1:<port>/`, for a `[source]` or `[registries]` entry. */
  index: string;
  /** The .crate bytes served for `name/version`. */
  crate(name: string, version: string): Buffer;
  /** Serves other bytes for a crate than the index's checksum says (or the original ones again). */
  replaceCrate(name: string, version: string, bytes: Buffer): void;
  /** Requests seen so far, e.g. `GET /dl/itoa/1.0.1/download`. */
  requests(): string[];
  close(): Promise<void>;
}

/** Packs `/usr/share/cargo/registry/<name>-<version>` as a .crate (without Debian's additions). */
export function packDebianCrate(name: string, version: string): Buffer {
  const dir = `${name}-${version}`;
  const tar = spawnSync('tar', ['-cz', '--sort=name', '--owner=0', '--group=0', '--numeric-owner', '--mtime=@0', '--exclude', `${dir}/debian`, '--exclude', `${dir}/.cargo-checksum.json`, '-C', DEBIAN_CRATES, dir], {
    maxBuffer: 64 << 20,
  });
  if (tar.status !== 0) throw new Error(`cannot pack ${dir} from ${DEBIAN_CRATES} (tools/setup installs librust-${name}-dev): ${tar.stderr}`);
  return tar.stdout;
}

/** The sparse index's file for a crate: 1/a, 2/ab, 3/a/abc, ab/cd/abcd… */
function indexPath(name: string): string {
  const n = name.toLowerCase();
  if (n.length <= 2) return `${n.length}/${n}`;
  if (n.length === 3) return `3/${n[0]}/${n}`;
  return `${n.slice(0, 2)}/${n.slice(2, 4)}/${n}`;
}

/** Serves the given crates (ones without dependencies of their own) until closed. */
export async function startCrateRegistry(crates: { name: string; version: string }[]): Promise<CrateRegistry> {
  const root = mkdtempSync(join(tmpdir(), 'reprokit-crate-registry-'));
  const put = (path: string, bytes: string | Buffer) => {
    mkdirSync(dirname(join(root, 'files', path)), { recursive: true });
    writeFileSync(join(root, 'files', path), bytes);
  };
  const lines = new Map<string, string>();
  for (const { name, version } of crates) {
    const bytes = packDebianCrate(name, version);
    put(`dl/${name}/${version}/download`, bytes);
    const line = JSON.stringify({ name, vers: version, deps: [], cksum: createHash('sha256').update(bytes).digest('hex'), features: {}, yanked: false });
    lines.set(indexPath(name), (lines.get(indexPath(name)) ?? '') + line + '\n');
  }
  for (const [path, content] of lines) put(path, content);
  const server = spawn(process.execPath, [join(__dirname, 'crate-registry-server.js'), root], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<string>((done, fail) => {
    server.once('exit', (code) => fail(new Error(`the crate registry exited (${code})`)));
    createInterface({ input: server.stdout! }).once('line', done);
  });
  const exited = new Promise<void>((done) => server.once('exit', () => done()));
  let closed = false;
  return {
    index: `sparse+http://127.0.0.1:${port}/`,
    crate: (name, version) => readFileSync(join(root, 'files', 'dl', name, version, 'download')),
    replaceCrate: (name, version, bytes) => put(`dl/${name}/${version}/download`, bytes),
    requests: () => (existsSync(join(root, 'requests.log')) ? readFileSync(join(root, 'requests.log'), 'utf8').split('\n').filter(Boolean) : []),
    close: async () => {
      if (!closed) {
        closed = true;
        server.kill();
        await exited;
      }
      rmSync(root, { recursive: true, force: true });
    },
  };
}
