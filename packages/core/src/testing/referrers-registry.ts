// An in-memory registry with the OCI 1.1 referrers API, for the code path the local registry
// (distribution 2.8, no referrers API) cannot exercise: it answers a manifest PUT that has a
// subject with `OCI-Subject`, and `GET /v2/<name>/referrers/<digest>` with an index of the
// manifests whose subject is that digest (their artifactType and annotations copied, as the
// distribution spec says). Blobs and manifests are checked against their digests. What was PUT
// under a tag is recorded, so a test can check that no fallback tag was written.
import { createHash, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

const digestOf = (bytes: Buffer) => 'sha256:' + createHash('sha256').update(bytes).digest('hex');

export interface ReferrersRegistry {
  server: Server;
  /** `127.0.0.1:<port>`. */
  host: string;
  taggedManifests: string[];
  close(): Promise<void>;
}

export async function startReferrersRegistry(): Promise<ReferrersRegistry> {
  const blobs = new Map<string, Buffer>();
  const manifests = new Map<string, { bytes: Buffer; mediaType: string }>();
  const taggedManifests: string[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const url = new URL(req.url!, 'http://x');
      const path = url.pathname;
      let match: RegExpExecArray | null;
      if (path === '/v2/') return res.writeHead(200).end('{}');
      if ((match = /^\/v2\/(.+)\/blobs\/uploads\/$/.exec(path)) && req.method === 'POST') {
        return res.writeHead(202, { location: `/v2/${match[1]}/blobs/uploads/${randomUUID()}` }).end();
      }
      if (/^\/v2\/.+\/blobs\/uploads\/[^/]+$/.test(path) && req.method === 'PUT') {
        const digest = url.searchParams.get('digest');
        if (digest !== digestOf(body)) return res.writeHead(400).end('{"errors":[{"code":"DIGEST_INVALID"}]}');
        blobs.set(digest, body);
        return res.writeHead(201).end();
      }
      if ((match = /^\/v2\/.+\/blobs\/(sha256:[0-9a-f]{64})$/.exec(path))) {
        const blob = blobs.get(match[1]);
        if (!blob) return res.writeHead(404).end();
        return res.writeHead(200, { 'content-length': blob.length }).end(req.method === 'HEAD' ? undefined : blob);
      }
      if ((match = /^\/v2\/.+\/manifests\/([^/]+)$/.exec(path))) {
        const reference = match[1];
        if (req.method === 'PUT') {
          const json = JSON.parse(body.toString('utf8'));
          const digest = digestOf(body);
          if (reference.startsWith('sha256:') && reference !== digest) return res.writeHead(400).end('{"errors":[{"code":"DIGEST_INVALID"}]}');
          for (const layer of [json.config, ...(json.layers ?? [])].filter(Boolean)) {
            if (!blobs.has(layer.digest)) return res.writeHead(400).end('{"errors":[{"code":"MANIFEST_BLOB_UNKNOWN"}]}');
          }
          const stored = { bytes: body, mediaType: String(req.headers['content-type']) };
          manifests.set(digest, stored);
          if (!reference.startsWith('sha256:')) {
            manifests.set(reference, stored);
            taggedManifests.push(reference);
          }
          return res.writeHead(201, { 'docker-content-digest': digest, ...(json.subject ? { 'oci-subject': json.subject.digest } : {}) }).end();
        }
        const stored = manifests.get(reference);
        if (!stored) return res.writeHead(404).end('{"errors":[{"code":"MANIFEST_UNKNOWN"}]}');
        return res.writeHead(200, { 'content-type': stored.mediaType, 'docker-content-digest': digestOf(stored.bytes) }).end(stored.bytes);
      }
      if ((match = /^\/v2\/.+\/referrers\/(sha256:[0-9a-f]{64})$/.exec(path))) {
        const referrers = [...manifests]
          .filter(([key]) => key.startsWith('sha256:'))
          .map(([digest, stored]) => ({ digest, stored, json: JSON.parse(stored.bytes.toString('utf8')) }))
          .filter(({ json }) => json.subject?.digest === match![1])
          .map(({ digest, stored, json }) => ({ mediaType: stored.mediaType, digest, size: stored.bytes.length, artifactType: json.artifactType, annotations: json.annotations }));
        return res
          .writeHead(200, { 'content-type': 'application/vnd.oci.image.index.v1+json' })
          .end(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: referrers }));
      }
      res.writeHead(404).end('404 page not found');
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { server, host, taggedManifests, close: () => new Promise((done) => server.close(() => done())) };
}
