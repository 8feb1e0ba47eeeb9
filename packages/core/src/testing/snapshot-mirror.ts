import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { LockedPackage } from '../env/build-env-lock-types';

export const ARCHIVE_STAMP = '20250101T000000Z';

/**
 * A server with snapshot.debian.org's URL layout on 127.0.0.1: `/archive/<name>/<stamp>/pool/…`
 * and `/file/<sha1>` serve files, `/mr/file/<sha1>/info` answers like snapshot's API. Every
 * request is recorded.
 */
export class SnapshotMirror {
  readonly files = new Map<string, Buffer>();
  readonly info = new Map<string, unknown>();
  readonly requests: string[] = [];
  private server?: Server;
  base = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      this.requests.push(req.url!);
      const info = /^\/mr\/file\/([0-9a-f]{40})\/info$/.exec(req.url!);
      const body = info ? (this.info.has(info[1]) ? Buffer.from(JSON.stringify(this.info.get(info[1]))) : undefined) : this.files.get(req.url!);
      res.writeHead(body ? 200 : 404).end(body);
    });
    await new Promise<void>((done) => this.server!.listen(0, '127.0.0.1', done));
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Serves a package at its content-addressed URL and under one archive snapshot. */
  serve(p: LockedPackage & { sha1: string }, bytes: Buffer): void {
    this.files.set(`/file/${p.sha1}`, bytes);
    this.files.set(`/archive/debian/${ARCHIVE_STAMP}/${p.filename}`, bytes);
  }

  stop(): Promise<void> {
    return new Promise((done) => (this.server ? this.server.close(() => done()) : done()));
  }
}
