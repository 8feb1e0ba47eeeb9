// A self-hosted Nx remote cache for tests: the two operations of Nx's OpenAPI spec for
// NX_SELF_HOSTED_REMOTE_CACHE_SERVER (PUT and GET /v1/cache/{hash}), entries kept in memory,
// listening on 127.0.0.1 on a port the system picks. Like a real server it refuses to overwrite an
// entry (409) and answers 404 for an unknown hash. The test can read and replace entries: that is
// how it plays the attacker who controls the cache.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export class RemoteCacheServer {
  readonly entries = new Map<string, Buffer>();
  readonly requests: { method: string; hash: string; status: number }[] = [];
  private server?: Server;

  async start(): Promise<string> {
    this.server = createServer((request, response) => {
      const match = /^\/v1\/cache\/([A-Za-z0-9_-]{1,200})$/.exec(request.url ?? '');
      const answer = (status: number, body?: Buffer) => {
        this.requests.push({ method: request.method ?? '', hash: match?.[1] ?? '', status });
        response.writeHead(status, body ? { 'content-type': 'application/octet-stream', 'content-length': body.length } : {});
        response.end(body);
      };
      if (!match) return answer(404);
      const hash = match[1];
      if (request.method === 'GET') {
        const entry = this.entries.get(hash);
        return entry ? answer(200, entry) : answer(404);
      }
      if (request.method === 'PUT') {
        const chunks: Buffer[] = [];
        request.on('data', (chunk: Buffer) => chunks.push(chunk));
        request.on('end', () => {
          if (this.entries.has(hash)) return answer(409);
          this.entries.set(hash, Buffer.concat(chunks));
          answer(200);
        });
        return;
      }
      answer(405);
    });
    await new Promise<void>((done) => this.server!.listen(0, '127.0.0.1', done));
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((done) => (this.server ? this.server.close(() => done()) : done()));
  }
}

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
