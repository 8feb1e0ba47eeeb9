// A self-hosted Nx remote cache for tests: the two operations of Nx's OpenAPI spec for
// NX_SELF_HOSTED_REMOTE_CACHE_SERVER (PUT and GET /v1/cache/{hash}), listening on 127.0.0.1 on a
// port the system picks (Nx 24 PUTs a gzip-compressed tar of the task's outputs). Like a real server it refuses to overwrite an entry (409) and answers 404
// for an unknown hash. It runs in a child process (the tests drive nx with spawnSync, which would
// block a server in their own event loop) and keeps entries as files in a directory, one per hash,
// with a request log: the test reads and replaces entries there, playing the attacker who controls
// the cache.
import { fork, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';

export class RemoteCacheServer {
  readonly dir = mkdtempSync(join(tmpdir(), 'reprokit-nx-cache-'));
  private child?: ChildProcess;

  async start(): Promise<string> {
    this.child = fork(__filename, ['serve', this.dir], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    return new Promise((done, fail) => {
      this.child!.once('message', (url) => done(String(url)));
      this.child!.once('exit', (code) => fail(new Error(`the cache server exited with ${code}`)));
    });
  }

  async stop(): Promise<void> {
    if (!this.child || this.child.exitCode !== null) return;
    const exited = new Promise((done) => this.child!.once('exit', done));
    this.child.kill('SIGTERM');
    await exited;
  }

  /** Every request so far: method, hash, status. */
  get requests(): { method: string; hash: string; status: number }[] {
    const log = join(this.dir, 'requests.log');
    return existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n').map((line) => JSON.parse(line)) : [];
  }

  /** The stored tar of an entry, uncompressed (Nx 24 uploads it gzip-compressed). */
  entry(hash: string): Buffer {
    const stored = readFileSync(join(this.dir, `${hash}.tar`));
    return isGzip(stored) ? gunzipSync(stored) : stored;
  }

  /** Replaces an entry's tar, compressed as the stored one was. */
  replace(hash: string, tar: Buffer): void {
    const file = join(this.dir, `${hash}.tar`);
    writeFileSync(file, isGzip(readFileSync(file)) ? gzipSync(tar) : tar);
  }
}

const isGzip = (bytes: Buffer) => bytes[0] === 0x1f && bytes[1] === 0x8b;

function serve(dir: string): void {
  const server = createServer((request, response) => {
    const match = /^\/v1\/cache\/([A-Za-z0-9_-]{1,200})$/.exec(request.url ?? '');
    const answer = (status: number, body?: Buffer) => {
      appendFileSync(join(dir, 'requests.log'), JSON.stringify({ method: request.method, hash: match?.[1] ?? '', status }) + '\n');
      response.writeHead(status, body ? { 'content-type': 'application/octet-stream', 'content-length': body.length } : {});
      response.end(body);
    };
    if (!match) return answer(404);
    const file = join(dir, `${match[1]}.tar`);
    if (request.method === 'GET') return existsSync(file) ? answer(200, readFileSync(file)) : answer(404);
    if (request.method === 'PUT') {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        if (existsSync(file)) return answer(409);
        writeFileSync(file, Buffer.concat(chunks));
        answer(200);
      });
      return;
    }
    answer(405);
  });
  server.listen(0, '127.0.0.1', () => process.send!(`http://127.0.0.1:${(server.address() as AddressInfo).port}`));
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
  process.on('disconnect', () => process.exit(0));
}

if (require.main === module && process.argv[2] === 'serve') serve(process.argv[3]);

/** Entries of a plain (ustar) tar: name, data offset and size. Enough to find and alter one file. */
export function tarEntries(tar: Buffer): { name: string; offset: number; size: number }[] {
  const entries = [];
  let position = 0;
  while (position + 512 <= tar.length && tar[position] !== 0) {
    const field = (start: number, length: number) => tar.subarray(position + start, position + start + length).toString('latin1').replace(/\0.*$/s, '');
    const prefix = field(345, 155);
    const name = (prefix ? `${prefix}/` : '') + field(0, 100);
    const size = parseInt(field(124, 12).trim() || '0', 8);
    entries.push({ name, offset: position + 512, size });
    position += 512 + Math.ceil(size / 512) * 512;
  }
  return entries;
}
