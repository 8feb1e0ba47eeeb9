// Deletes what a test's rebuilders pushed to the shared registry on 127.0.0.1:5000 (it runs with
// deletion enabled): per fallback tag (sha256-<hex>), the attestation manifests it lists, the
// subject it is named after and the index itself. The repository's name stays in the catalog.
export async function deletePushedAttestations(repository: string): Promise<void> {
  const base = `http://${repository.replace('/', '/v2/')}`;
  const accept = 'application/vnd.oci.image.index.v1+json';
  const tags: string[] = (await (await fetch(`${base}/tags/list`)).json().catch(() => ({})))?.tags ?? [];
  for (const tag of tags) {
    const index = await (await fetch(`${base}/manifests/${tag}`, { headers: { accept } })).json().catch(() => ({ manifests: [] }));
    const own = (await fetch(`${base}/manifests/${tag}`, { method: 'HEAD', headers: { accept } })).headers.get('docker-content-digest');
    const digests = [...(index.manifests ?? []).map((m: { digest: string }) => m.digest), tag.replace('-', ':'), own];
    for (const digest of digests) if (digest) await fetch(`${base}/manifests/${digest}`, { method: 'DELETE' });
  }
}
