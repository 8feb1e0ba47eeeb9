import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { validateOciLayout } from './validate-layout';

const MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const CONFIG = 'application/vnd.oci.image.config.v1+json';
const LAYER = 'application/vnd.oci.image.layer.v1.tar';

/** The parts of a small image layout, each changeable before `write` puts it on disk. */
interface Layout {
  layout: unknown;
  config: Record<string, unknown>;
  layers: Buffer[];
  /** Applied to the manifest and then to the index before they are written. */
  manifest?: (manifest: Record<string, any>) => void;
  index?: (index: Record<string, any>) => void;
  /** Runs last, given the directory and the blobs' digests. */
  after?: (dir: string, blobs: { manifest: string; config: string; layers: string[] }) => void;
}

describe('validateOciLayout', () => {
  const root = mkdtempSync(join(tmpdir(), 'reprokit-layout-'));
  after(() => rmSync(root, { recursive: true, force: true }));
  let count = 0;

  const base = (): Layout => ({
    layout: { imageLayoutVersion: '1.0.0' },
    config: { architecture: 'amd64', os: 'linux', created: '1970-01-01T00:00:00Z', config: { Cmd: ['/hello'] }, rootfs: { type: 'layers', diff_ids: [] } },
    layers: [Buffer.from('first layer'), Buffer.from('second layer')],
  });

  function write(parts: Layout): string {
    const dir = join(root, `layout-${count++}`);
    mkdirSync(join(dir, 'blobs', 'sha256'), { recursive: true });
    const blob = (bytes: Buffer, mediaType: string) => {
      const hex = createHash('sha256').update(bytes).digest('hex');
      writeFileSync(join(dir, 'blobs', 'sha256', hex), bytes);
      return { mediaType, digest: `sha256:${hex}`, size: bytes.length };
    };
    const layers = parts.layers.map((bytes) => blob(bytes, LAYER));
    if ((parts.config.rootfs as { diff_ids: string[] }).diff_ids.length === 0) (parts.config.rootfs as { diff_ids: string[] }).diff_ids = layers.map((layer) => layer.digest);
    const config = blob(Buffer.from(JSON.stringify(parts.config)), CONFIG);
    const manifest: Record<string, any> = { schemaVersion: 2, mediaType: MANIFEST, config, layers };
    parts.manifest?.(manifest);
    const manifestDescriptor = blob(Buffer.from(JSON.stringify(manifest)), MANIFEST);
    const index: Record<string, any> = { schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [manifestDescriptor] };
    parts.index?.(index);
    writeFileSync(join(dir, 'index.json'), JSON.stringify(index));
    writeFileSync(join(dir, 'oci-layout'), JSON.stringify(parts.layout));
    parts.after?.(dir, { manifest: manifestDescriptor.digest, config: config.digest, layers: layers.map((layer) => layer.digest) });
    return dir;
  }
  const blobPath = (digest: string) => join('blobs', 'sha256', digest.slice('sha256:'.length));
  const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  /** The layout built from `base()` changed by `change` must be refused with `message`. */
  async function refused(change: (parts: Layout) => void, message: (dir: string) => RegExp): Promise<void> {
    const parts = base();
    change(parts);
    const dir = write(parts);
    await assert.rejects(validateOciLayout(dir), (error: Error) => {
      assert.equal(error.name, 'UserError');
      assert.match(error.message, message(dir));
      assert.doesNotMatch(error.message, /\n/, 'one line');
      return true;
    });
  }

  it('accepts a valid layout: index → manifest → config and layers', async () => {
    await validateOciLayout(write(base()));
  });

  it('refuses an oci-layout file of another version or none', async () => {
    await refused((p) => (p.layout = { imageLayoutVersion: '2.0.0' }), (dir) => new RegExp(`^${escape(join(dir, 'oci-layout'))}: .*imageLayoutVersion: must be one of "1\\.0\\.0"`));
    await refused((p) => (p.after = (dir) => unlinkSync(join(dir, 'oci-layout'))), (dir) => new RegExp(`^${escape(join(dir, 'oci-layout'))}: missing`));
  });

  it('refuses a blob missing from blobs/<alg>/<hex>', async () => {
    await refused(
      (p) => (p.after = (dir, blobs) => unlinkSync(join(dir, blobPath(blobs.layers[1])))),
      () => /\/blobs\/sha256\/[0-9a-f]{64}: \/layers\/1: blob sha256:[0-9a-f]{64} is missing/,
    );
  });

  it('refuses a descriptor whose size is not the blob’s', async () => {
    await refused((p) => (p.manifest = (m) => (m.layers[0].size += 1)), () => /: \/layers\/0\/size: 12, but the blob has 11 bytes/);
  });

  it('refuses digests of other algorithms than sha256, which the schema allows', async () => {
    await refused((p) => (p.manifest = (m) => (m.layers[0].digest = `sha512:${'a'.repeat(128)}`)), () => /: \/layers\/0\/digest: sha512:a+ is not a sha256 digest/);
  });

  it('refuses a blob that does not hash to its digest', async () => {
    await refused(
      (p) => (p.after = (dir, blobs) => writeFileSync(join(dir, blobPath(blobs.layers[0])), 'First layer')),
      () => /blobs\/sha256\/[0-9a-f]{64}: hashes to sha256:[0-9a-f]{64}, not its name/,
    );
  });

  it('refuses documents that break the image-spec schemas, naming the blob, the document and the JSON path', async () => {
    await refused((p) => (p.manifest = (m) => (m.layers[1].digest = 'sha256:UPPER/CASE')), () => /blobs\/sha256\/[0-9a-f]{64}: manifest: \$\.layers\[1\]\.digest: must match pattern/);
    await refused((p) => (p.manifest = (m) => (m.layers = [])), () => /: manifest: \$\.layers: must NOT have fewer than 1 items/);
    await refused((p) => (p.index = (i) => (i.manifests[0].annotations = { 'org.opencontainers.image.version': 1 })), (dir) => new RegExp(`^${escape(join(dir, 'index.json'))}: index: \\$\\.manifests\\[0\\]\\.annotations\\["org\\.opencontainers\\.image\\.version"\\]: must be string`));
    await refused((p) => (p.index = (i) => (i.schemaVersion = 1)), () => /index\.json: index: \$\.schemaVersion: must be >= 2/);
    await refused((p) => delete p.config.os, () => /blobs\/sha256\/[0-9a-f]{64}: config: \$\.os: is required/);
    // draft-04 asserts formats: the config's dates are RFC 3339.
    await refused((p) => (p.config.created = 'yesterday'), () => /: config: \$\.created: must match format "date-time"/);
    await refused((p) => ((p.config.rootfs as Record<string, unknown>).type = 'tarballs'), () => /: config: \$\.rootfs\.type: must be one of "layers"/);
  });

  it('refuses unknown layer media types, diffIDs that do not match the layers, and Env entries without =', async () => {
    await refused((p) => (p.manifest = (m) => (m.layers[0].mediaType = 'application/vnd.docker.image.rootfs.diff.tar.gzip')), () => /: \/layers\/0\/mediaType: application\/vnd\.docker\.image\.rootfs\.diff\.tar\.gzip is not an OCI layer type/);
    await refused((p) => ((p.config.rootfs as Record<string, unknown>).diff_ids = [`sha256:${'0'.repeat(64)}`]), () => /: \/rootfs\/diff_ids: 1 diffIDs for 2 layers/);
    await refused((p) => (p.config.config = { Env: ['PATH=/bin', 'NOEQUALS'] }), () => /: \/config\/Env\/1: "NOEQUALS" is not NAME=value/);
  });
});
