import { logProgress } from '../../progress';
import { openAsBlob } from 'node:fs';
import { registryOf } from '../../docker/docker';
import { UserError } from '../../errors';
import { defaultDeadlineMs } from '../../net/transfer-limits';

/** A request without a body to send: its answer within a minute. */
const REQUEST_DEADLINE_MS = 60_000;
import { MANIFEST_MEDIA_TYPE, type ImageManifestFiles, type LayerFile } from './image-files';

/**
 * Pushes an image to a registry through the distribution API, blob by blob, then the manifest as
 * reprokit wrote it. Pushing through the docker daemon would recompress the layers with docker's
 * gzip and give a manifest digest of docker's making; this way the digest in the registry is the
 * one computed here, on every machine and on every push.
 */
export async function pushOciImage(files: ImageManifestFiles, layers: LayerFile[], repository: string, tag: string, log?: (line: string) => void): Promise<string> {
  const host = registryOf(repository);
  if (!host) throw new UserError(`push: ${repository} names no registry (e.g. 127.0.0.1:5000/${repository})`);
  const name = repository.slice(host.length + 1);
  // Plain HTTP only to this machine, as docker itself allows; everything else over TLS.
  const scheme = /^(127\.0\.0\.1|localhost)(:|$)/.test(host) ? 'http' : 'https';
  const base = `${scheme}://${host}/v2/${name}`;
  // Every request has a deadline (net/): a registry that stops answering must not hold a push for ever.
  const request = async (url: string, init: RequestInit, expected: number[], what: string, deadlineMs = REQUEST_DEADLINE_MS): Promise<Response> => {
    let response: Response;
    const deadline = AbortSignal.timeout(deadlineMs);
    try {
      response = await fetch(url, { ...init, signal: deadline });
    } catch (error) {
      if (deadline.aborted) throw new UserError(`push to ${repository}: ${what}: ${host} did not finish within ${deadlineMs / 1000} s`);
      throw new UserError(`push to ${repository}: ${what}: cannot reach ${host} (${(error as Error).cause ?? (error as Error).message})`);
    }
    if (!expected.includes(response.status)) {
      const body = (await response.text()).trim().slice(0, 300);
      throw new UserError(`push to ${repository}: ${what}: HTTP ${response.status} ${body}`);
    }
    return response;
  };
  const blobs: { digest: string; size: number; body: () => Promise<Blob> }[] = [
    ...layers.map((layer) => ({ digest: layer.diffId, size: layer.size, body: () => openAsBlob(layer.path) })),
    { digest: files.imageId, size: files.config.length, body: async () => new Blob([files.config]) },
  ];
  // Counted per blob: fetch uploads a Blob whole, and layers are few.
  const progress = log ? logProgress(`pushing to ${repository}`, blobs.reduce((sum, blob) => sum + blob.size, 0), log) : undefined;
  let sent = 0;
  for (const blob of blobs) {
    const head = await request(`${base}/blobs/${blob.digest}`, { method: 'HEAD' }, [200, 404], `blob ${blob.digest}`);
    sent += blob.size;
    if (head.status === 200) {
      progress?.update(sent);
      continue;
    }
    const started = await request(`${base}/blobs/uploads/`, { method: 'POST' }, [202], 'starting an upload');
    const location = new URL(started.headers.get('location') ?? '', base + '/');
    location.searchParams.set('digest', blob.digest);
    await request(location.href, { method: 'PUT', body: await blob.body(), headers: { 'content-type': 'application/octet-stream' } }, [201], `blob ${blob.digest}`, defaultDeadlineMs(blob.size));
    progress?.update(sent);
  }
  progress?.finish();
  const put = await request(`${base}/manifests/${tag}`, { method: 'PUT', body: new Blob([files.manifest]), headers: { 'content-type': MANIFEST_MEDIA_TYPE } }, [201], 'manifest');
  const digest = put.headers.get('docker-content-digest');
  if (digest && digest !== files.manifestDigest) {
    throw new UserError(`push to ${repository}: the registry stored the manifest as ${digest}, not ${files.manifestDigest}`);
  }
  return `${repository}@${files.manifestDigest}`;
}
