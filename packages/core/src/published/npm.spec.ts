import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { after, before, beforeEach, describe, it } from 'node:test';
import { tarEntries } from '../archive/tar-reader';
import { readManifest, writeManifest } from '../manifest/manifest';
import { projectWithManifest } from '../testing/fixtures';
import { NPM_FIXTURES, npmFixtures } from '../testing/npm-fixtures';
import { checkPublished } from './check';
import { renderPublished } from './published-cli';
import { runCli } from '../testing/run-cli';
import { startVerdaccio, type Verdaccio } from '../testing/verdaccio';

const KLEUR = readFileSync(join(NPM_FIXTURES, 'kleur-4.1.5.tgz'));
const INSIDE = JSON.parse([...tarEntries(gunzipSync(KLEUR), 'kleur')].find((e) => e.path === 'package/package.json')!.content().toString('utf8'));
const SHA512_HEX = createHash('sha512').update(KLEUR).digest('hex');

/** A registry on 127.0.0.1 serving kleur@4.1.5's real tarball with a version document the test shapes. */
describe('published npm locations: the tarball and the registry\'s claims', () => {
  let server: Server;
  let registry: string;
  let doc: Record<string, unknown>;
  let attestationSubject: string;
  before(async () => {
    server = createServer((req, res) => {
      if (req.url === '/kleur/4.1.5') return res.end(JSON.stringify(doc));
      if (req.url === '/kleur/-/kleur-4.1.5.tgz') return res.end(KLEUR);
      if (req.url === '/-/npm/v1/attestations/kleur@4.1.5') {
        const statement = { _type: 'https://in-toto.io/Statement/v1', subject: [{ name: 'pkg:npm/kleur@4.1.5', digest: { sha512: attestationSubject } }], predicateType: 'https://slsa.dev/provenance/v1', predicate: {} };
        return res.end(JSON.stringify({ attestations: [{ predicateType: 'https://slsa.dev/provenance/v1', bundle: { dsseEnvelope: { payloadType: 'application/vnd.in-toto+json', payload: Buffer.from(JSON.stringify(statement)).toString('base64'), signatures: [] } } }] }));
      }
      res.statusCode = 404;
      res.end('{}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    registry = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  after(() => server.close());
  beforeEach(() => {
    delete process.env.REPROKIT_ALLOW_PRIVATE_NETWORK;
    delete process.env.npm_config_registry;
    attestationSubject = SHA512_HEX;
    // The registry's claims as npm publish makes them: the tarball's own package.json fields.
    doc = { ...INSIDE, dist: { integrity: npmFixtures().get('kleur-4.1.5.tgz'), shasum: createHash('sha1').update(KLEUR).digest('hex'), tarball: `${registry}kleur/-/kleur-4.1.5.tgz` } };
  });

  async function manifestWith(location: { npm: string; registry?: string }, content: Buffer = KLEUR): Promise<string> {
    const { manifestPath } = await projectWithManifest(content as unknown as string);
    const manifest = await readManifest(manifestPath);
    manifest.artifacts[0].published = [location];
    writeManifest(manifestPath, manifest);
    return manifestPath;
  }

  it('MATCH: the bytes and every claim agree (integrity, shasum, name, version, dependencies), from a registry the manifest names once allowed', async () => {
    const manifestPath = await manifestWith({ npm: 'kleur@4.1.5', registry });
    const refused = await checkPublished(manifestPath);
    assert.equal(refused.checks[0].status, 'unreachable');
    assert.match(refused.checks[0].reason!, /127\.0\.0\.1.*allow-private-network/);
    const result = await checkPublished(manifestPath, { allowPrivateNetwork: true });
    assert.equal(result.checks[0].status, 'match', renderPublished(result));
    assert.equal(result.checks[0].type, 'npm');
    assert.match(result.checks[0].note!, /dist\.integrity is the tarball's sha512; dist\.shasum is the tarball's sha1; name, version, dependencies, optionalDependencies, peerDependencies: the packument's are the tarball's package\.json's; attestations: the registry lists none/);
  });

  it("the workspace's configured npm registry counts as configuration: no flag needed for 127.0.0.1", async () => {
    const manifestPath = await manifestWith({ npm: 'kleur@4.1.5' });
    process.env.npm_config_registry = registry;
    const result = await checkPublished(manifestPath);
    assert.equal(result.checks[0].status, 'match', renderPublished(result));
    assert.match(result.checks[0].note!, /^http:\/\/127\.0\.0\.1:\d+\/ \(npm_config_registry\)/);
  });

  it('DIFFERS: a packument whose dependencies are not the tarball package.json\'s (manifest confusion), named', async () => {
    doc.dependencies = { 'left-pad': '^1.0.0' };
    const result = await checkPublished(await manifestWith({ npm: 'kleur@4.1.5', registry }), { allowPrivateNetwork: true });
    assert.equal(result.checks[0].status, 'differs');
    assert.match(result.checks[0].reason!, /the packument's dependencies is not the tarball's package\.json's: \(none\) -> \{"left-pad":"\^1\.0\.0"\}/);
    assert.equal(result.exitCode, 1);
  });

  it('DIFFERS: dist.integrity and dist.shasum that are not the served bytes', async () => {
    (doc.dist as Record<string, string>).integrity = npmFixtures().get('ms-2.1.3.tgz')!;
    (doc.dist as Record<string, string>).shasum = '0'.repeat(40);
    const reason = (await checkPublished(await manifestWith({ npm: 'kleur@4.1.5', registry }), { allowPrivateNetwork: true })).checks[0].reason!;
    assert.match(reason, /dist\.integrity sha512-6Flz\S+, the tarball's is sha512-o\+NO/);
    assert.match(reason, /dist\.shasum 0{40}, the tarball's sha1 is/);
  });

  it("attestations: a subject with the tarball's sha512 agrees, another one is DIFFERS", async () => {
    (doc.dist as Record<string, unknown>).attestations = { url: `${registry}-/npm/v1/attestations/kleur@4.1.5`, provenance: { predicateType: 'https://slsa.dev/provenance/v1' } };
    const manifestPath = await manifestWith({ npm: 'kleur@4.1.5', registry });
    const good = await checkPublished(manifestPath, { allowPrivateNetwork: true });
    assert.match(good.checks[0].note!, /attestation 1 \(https:\/\/slsa\.dev\/provenance\/v1\): subject pkg:npm\/kleur@4\.1\.5 has the tarball's sha512/);
    attestationSubject = 'ab'.repeat(64);
    const bad = await checkPublished(manifestPath, { allowPrivateNetwork: true });
    assert.equal(bad.checks[0].status, 'differs');
    assert.match(bad.checks[0].reason!, /attestation 1 .*: subject sha512 (ab)+, the tarball's is [0-9a-f]{128}/);
  });

  it('DIFFERS: the registry serves other bytes than the manifest records, explained against the kept copy', async () => {
    const other = readFileSync(join(NPM_FIXTURES, 'ms-2.1.3.tgz'));
    const result = await checkPublished(await manifestWith({ npm: 'kleur@4.1.5', registry }, other), { allowPrivateNetwork: true });
    assert.equal(result.checks[0].status, 'differs');
    assert.match(result.checks[0].reason!, /bytes, the manifest records/);
    assert.ok(result.checks[0].diff && !result.checks[0].diff.same);
  });

  it('UNREACHABLE: a version the registry does not have', async () => {
    const result = await checkPublished(await manifestWith({ npm: 'kleur@9.9.9', registry }), { allowPrivateNetwork: true });
    assert.equal(result.checks[0].status, 'unreachable');
    assert.match(result.checks[0].reason!, /has no kleur(@9\.9\.9)?/);
  });

  it('the CLI: published add --npm records the location (a bad spec refused by the schema), published checks it', async () => {
    const { manifestPath } = await projectWithManifest(KLEUR as unknown as string);
    const bad = await runCli(['published', 'add', manifestPath, 'hello', '--npm', 'kleur@^4']);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /published\[0\]|npm/);
    const added = await runCli(['published', 'add', manifestPath, 'hello', '--npm', 'kleur@4.1.5', '--registry', registry]);
    assert.equal(added.status, 0, added.stderr);
    assert.deepEqual((await readManifest(manifestPath)).artifacts[0].published, [{ npm: 'kleur@4.1.5', registry }]);
    doc.dependencies = { 'left-pad': '^1.0.0' };
    const checked = await runCli(['published', manifestPath, '--allow-private-network']);
    assert.equal(checked.status, 1, checked.stderr);
    assert.match(checked.stdout, /^DIFFERS +hello kleur@4\.1\.5 \(http:\/\/127\.0\.0\.1:\d+\/\): the packument's dependencies is not the tarball's package\.json's: \(none\) -> \{"left-pad":"\^1\.0\.0"\}/m);
  });
});

/** npm on PATH (as on every machine that publishes), against the test registry. */
function npm(args: string[], npmrc: string, cwd?: string): string {
  const result = spawnSync('npm', [...args, '--userconfig', npmrc], { cwd, encoding: 'utf8', env: { ...process.env, npm_config_registry: undefined } });
  assert.equal(result.status, 0, `npm ${args.join(' ')}: ${result.stderr}`);
  return result.stdout;
}

describe('published npm locations against a real registry (verdaccio on 127.0.0.1)', () => {
  let registry: Verdaccio;
  before(async () => {
    registry = await startVerdaccio();
  });
  after(() => registry?.stop());
  beforeEach(() => {
    delete process.env.REPROKIT_ALLOW_PRIVATE_NETWORK;
  });

  it('MATCH after npm publish of the recorded tarball; DIFFERS, naming the changed file, after a republish from a changed tree', async () => {
    const { manifestPath, dir } = await projectWithManifest(KLEUR as unknown as string);
    const manifest = await readManifest(manifestPath);
    manifest.artifacts[0].published = [{ npm: 'kleur@4.1.5' }];
    writeManifest(manifestPath, manifest);
    // The workspace's npm configuration names the registry: configuration, so 127.0.0.1 is reached.
    writeFileSync(join(dir, 'package.json'), '{}\n');
    writeFileSync(join(dir, '.npmrc'), `registry=${registry.url}\n`);
    writeFileSync(join(dir, 'kleur-4.1.5.tgz'), KLEUR);
    npm(['publish', join(dir, 'kleur-4.1.5.tgz')], registry.npmrc);
    const matched = await checkPublished(manifestPath);
    assert.equal(matched.checks[0].status, 'match', renderPublished(matched));
    assert.match(matched.checks[0].note!, new RegExp(`^${registry.url.replace(/[.]/g, '\\.')} \\(.*\\.npmrc \\(registry\\)\\);.*dist\\.integrity is the tarball's sha512.*the packument's are the tarball's package\\.json's`));

    // The same version again from a changed tree: unpacked, one byte of index.js changed, packed by npm.
    const tree = join(dir, 'changed');
    for (const entry of tarEntries(gunzipSync(KLEUR), 'kleur', { safe: true })) {
      if (entry.type !== 'file') continue;
      const target = join(tree, entry.path);
      mkdirSync(dirname(target), { recursive: true });
      const content = entry.content();
      if (entry.path === 'package/index.js') content[0] ^= 0x01;
      writeFileSync(target, content);
    }
    npm(['unpublish', 'kleur@4.1.5', '--force'], registry.npmrc);
    npm(['publish', '--ignore-scripts', join(tree, 'package')], registry.npmrc, tree);
    const differs = await checkPublished(manifestPath);
    assert.equal(differs.checks[0].status, 'differs', renderPublished(differs));
    assert.match(differs.checks[0].reason!, /^(sha256 [0-9a-f]{64}|\d+ bytes), the manifest records/);
    assert.ok(differs.checks[0].diff!.differences.some((d) => d.where.includes('package/index.js')), renderPublished(differs));
    assert.equal(differs.exitCode, 1);
  });
});
