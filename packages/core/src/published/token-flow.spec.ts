// The distribution spec's anonymous token flow, for real: a node server on 127.0.0.1 that answers
// every /v2/ request without a valid token with 401 and `WWW-Authenticate: Bearer realm=…,service=…,
// scope=…` (as Docker Hub, ghcr.io and Harbor do), hands out tokens at its realm, and proxies the
// authorized requests to the local registry (127.0.0.1:5000), where reprokit's push put the image.
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { recordArtifact, writeManifest } from '../manifest/manifest';
import { pushOciImage } from '../oci/layout/push';
import { tempDir } from '../testing/fixtures';
import { writeTestImage, type TestImage } from '../testing/images';
import { runCli } from '../testing/run-cli';
import { tokenRegistry } from '../testing/token-registry';
import { parseBearerChallenge } from './registry';

// These servers listen on 127.0.0.1, an address a manifest's URL may not reach by default (net/
// address-policy.ts): the tests allow it as a user would, with REPROKIT_ALLOW_PRIVATE_NETWORK=1
// (the CLI children inherit it).
process.env.REPROKIT_ALLOW_PRIVATE_NETWORK = '1';

const REGISTRY = '127.0.0.1:5000';
const repository = `p14-token-${process.pid}`;

describe('the anonymous token flow against a token-gated registry', () => {
  const dir = tempDir('rk-token-');
  const project = join(dir, 'project');
  const manifestPath = join(project, 'repro-manifest.json');
  const front = tokenRegistry(repository);
  const { SERVICE, TOKEN } = front;
  let image: TestImage;
  let ref = '';

  before(async () => {
    mkdirSync(join(project, 'dist'), { recursive: true });
    mkdirSync(join(dir, 'img'));
    image = writeTestImage(join(dir, 'img'), { true: 'not really true\n', 'etc/motd': 'token flow\n' });
    copyFileSync(image.archive, join(project, 'dist/image.tar'));
    await pushOciImage(image.files, image.layers, `${REGISTRY}/${repository}`, 'v1');
    await new Promise<void>((done) => front.server.listen(0, '127.0.0.1', done));
    ref = `127.0.0.1:${(front.server.address() as AddressInfo).port}/${repository}:v1`;
    const artifact = await recordArtifact(manifestPath, { name: 'image', kind: 'oci', file: join(project, 'dist/image.tar'), environment: { type: 'host', toolchain: 'test' } });
    writeManifest(manifestPath, {
      manifestVersion: 1,
      project: 'token',
      outputDir: 'dist',
      recorded: { commit: 'none', commitDate: 'none', recordedAt: '2026-11-25T00:00:00Z', reprokitVersion: '0', tools: {} },
      artifacts: [{ ...artifact, image: { id: image.files.imageId, manifestDigest: image.files.manifestDigest, diffIds: image.layers.map((l) => l.diffId), layout: 'dist/image.oci' }, published: [{ oci: ref }] }],
    });
  });

  after(async () => {
    front.server.closeAllConnections();
    await new Promise((done) => front.server.close(done));
    await fetch(`http://${REGISTRY}/v2/${repository}/manifests/${image.files.manifestDigest}`, { method: 'DELETE' }).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  it('the challenge the server sends is one reprokit parses', () => {
    const port = (front.server.address() as AddressInfo).port;
    assert.deepEqual(parseBearerChallenge(`Bearer realm="http://127.0.0.1:${port}/token",service="${SERVICE}",scope="repository:${repository}:pull"`), {
      realm: `http://127.0.0.1:${port}/token`,
      service: SERVICE,
      scope: `repository:${repository}:pull`,
    });
  });

  it('reprokit published: challenged, asks the realm for a pull token for that repository, then MATCH with the token on every request', async () => {
    const run = await runCli(['published', manifestPath, '--json']);
    assert.equal(run.status, 0, run.stdout + run.stderr);
    const [check] = JSON.parse(run.stdout).checks;
    assert.equal(check.location, ref);
    assert.equal(check.status, 'match', JSON.stringify(check));
    // One challenge, one token request (service and scope from the challenge), then only authorized requests.
    assert.equal(front.seen[0].status, 401);
    assert.equal(front.seen[0].authorization, undefined);
    assert.equal(front.tokenRequests.length, 1);
    assert.equal(front.tokenRequests[0].searchParams.get('service'), SERVICE);
    assert.equal(front.tokenRequests[0].searchParams.get('scope'), `repository:${repository}:pull`);
    const after = front.seen.slice(1);
    assert.ok(after.some((s) => s.path === `/v2/${repository}/manifests/v1` && s.status === 200), JSON.stringify(front.seen));
    assert.ok(after.some((s) => s.path === `/v2/${repository}/blobs/${image.files.imageId}` && s.status === 200), JSON.stringify(front.seen));
    assert.ok(after.every((s) => s.authorization === `Bearer ${TOKEN}`), JSON.stringify(front.seen));
  });

  it('a refused token: UNREACHABLE, one line naming the token service, exit 2', async () => {
    front.mode.refuse = true;
    const run = await runCli(['published', manifestPath]);
    assert.equal(run.status, 2, run.stdout + run.stderr);
    // One line for the location (then the summary line).
    const lines = run.stdout.trim().split('\n');
    assert.equal(lines.length, 2, run.stdout);
    assert.equal(
      lines[0],
      `UNREACHABLE image ${ref}: 127.0.0.1:${(front.server.address() as AddressInfo).port}: the token service http://127.0.0.1:${(front.server.address() as AddressInfo).port}/token refused an anonymous token for repository:${repository}:pull (HTTP 401): is the image private, or its name wrong?`,
    );
    assert.match(lines[1], /: 1 published locations, 0 match, 0 differ, 1 unreachable$/);
    assert.doesNotMatch(run.stderr, /^\s+at /m);
  });
});
