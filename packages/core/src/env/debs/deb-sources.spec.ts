import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { imageLockText, serializeBuildEnvLock, type BuildEnvLock, type LockedPackage } from '../build-env';
import { fetchLockedDebs } from './deb-cache';
import { recordSources, SNAPSHOT_ORIGIN } from './deb-sources';
import { emptyAptConfig } from '../../testing/empty-apt';
import { tempDir } from '../../testing/fixtures';
import { ARCHIVE_STAMP, SnapshotMirror } from '../../testing/snapshot-mirror';


/** A package whose "deb" is random bytes: fetching checks bytes and sizes, not the format. */
function fakePackage(name: string): { p: LockedPackage & { sha1: string }; bytes: Buffer } {
  const bytes = randomBytes(3000 + name.length);
  const p = {
    name,
    version: '1.0-superseded',
    architecture: 'all' as const,
    filename: `pool/main/${name[0]}/${name}/${name}_1.0-superseded_all.deb`,
    size: bytes.length,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    sha1: createHash('sha1').update(bytes).digest('hex'),
  };
  return { p, bytes };
}

describe('.deb sources: the cache, apt, snapshot URLs, mirrors (apt with an empty index, servers on 127.0.0.1)', () => {
  const mirror = new SnapshotMirror();
  let savedAptConfig: string | undefined;
  before(async () => {
    savedAptConfig = process.env.APT_CONFIG;
    process.env.APT_CONFIG = emptyAptConfig();
    await mirror.start();
  });
  after(async () => {
    if (savedAptConfig === undefined) delete process.env.APT_CONFIG;
    else process.env.APT_CONFIG = savedAptConfig;
    await mirror.stop();
  });

  it("records the archive URL snapshot's info API names for the lock's pool path, else the file/<sha1> URL", async () => {
    const [a, b] = [fakePackage('alpha'), fakePackage('beta')];
    mirror.info.set(a.p.sha1, {
      result: [
        { archive_name: 'debian-ports', first_seen: '20240101T000000Z', path: `/${dirname(a.p.filename)}`, name: basename(a.p.filename), size: a.p.size },
        { archive_name: 'debian', first_seen: '20240607T080910Z', path: `/${dirname(a.p.filename)}`, name: basename(a.p.filename), size: a.p.size },
        { archive_name: 'debian', first_seen: '20230101T000000Z', path: '/pool/main/other', name: basename(a.p.filename), size: a.p.size },
      ],
    });
    const debs = new Map<string, string>();
    for (const { p, bytes } of [a, b]) {
      debs.set(p.name, join(tempDir(), basename(p.filename)));
      writeFileSync(debs.get(p.name)!, bytes);
    }
    const { sha1: _a, ...withoutSha1 } = a.p;
    const recorded = await recordSources([withoutSha1, b.p], debs, { snapshot: mirror.base });
    assert.equal(recorded[0].sha1, a.p.sha1);
    assert.equal(recorded[0].snapshot, `${SNAPSHOT_ORIGIN}/archive/debian/20240607T080910Z/${a.p.filename}`);
    assert.equal(recorded[1].snapshot, `${SNAPSHOT_ORIGIN}/file/${b.p.sha1}`);
  });

  it('records file/<sha1> URLs for every package when the snapshot service cannot be reached, and says so once', async () => {
    const { p, bytes } = fakePackage('gamma');
    const deb = join(tempDir(), 'gamma.deb');
    writeFileSync(deb, bytes);
    const lines: string[] = [];
    const recorded = await recordSources([p, { ...p, name: 'gamma2' }], new Map([[p.name, deb], ['gamma2', deb]]), { snapshot: 'http://127.0.0.1:9', log: (line) => lines.push(line) });
    assert.deepEqual(recorded.map((r) => r.snapshot), [`${SNAPSHOT_ORIGIN}/file/${p.sha1}`, `${SNAPSHOT_ORIGIN}/file/${p.sha1}`]);
    assert.equal(lines.filter((line) => line.includes('cannot be asked')).length, 1, lines.join('\n'));
  });

  it('takes each package from the first source that has it: cache, --debs, snapshot URL, then the mirrors', async () => {
    const [inCache, inDir, atSnapshot, atFileMirror, atHttpMirror] = ['cached', 'dirred', 'snapped', 'filemirrored', 'httpmirrored'].map(fakePackage);
    const cache = tempDir();
    writeFileSync(join(cache, basename(inCache.p.filename)), inCache.bytes);
    const debsDir = tempDir();
    writeFileSync(join(debsDir, basename(inDir.p.filename)), inDir.bytes);
    mirror.serve(atSnapshot.p, atSnapshot.bytes);
    const fileMirror = tempDir();
    mkdirSync(join(fileMirror, dirname(atFileMirror.p.filename)), { recursive: true });
    writeFileSync(join(fileMirror, atFileMirror.p.filename), atFileMirror.bytes);
    mirror.files.set(`/flat/${basename(atHttpMirror.p.filename)}`, atHttpMirror.bytes);
    const all = [inCache, inDir, atSnapshot, atFileMirror, atHttpMirror];
    // Each recorded snapshot URL points at the archive layout, which this mirror has only for one.
    for (const { p } of all) p.snapshot = `${SNAPSHOT_ORIGIN}/archive/debian/${ARCHIVE_STAMP}/${p.filename}`;
    mirror.requests.length = 0;
    const paths = await fetchLockedDebs(
      all.map(({ p }) => p),
      'env.lock.json',
      cache,
      () => {},
      { debsDirs: [debsDir], snapshot: mirror.base, mirrors: [pathToFileURL(fileMirror).href, `${mirror.base}/flat`] },
    );
    for (const { p, bytes } of all) assert.ok(readFileSync(paths.get(p.name)!).equals(bytes), p.name);
    // Nothing the cache or the directory had was asked of a server.
    assert.ok(!mirror.requests.some((url) => url.includes('cached') || url.includes('dirred')), mirror.requests.join('\n'));
    assert.ok(mirror.requests.includes(`/archive/debian/${ARCHIVE_STAMP}/${atSnapshot.p.filename}`));
  });

  it('refuses a .deb with other bytes from the snapshot URL, and keeps it out of the cache', async () => {
    const { p } = fakePackage('tampered');
    const other = randomBytes(p.size);
    mirror.files.set(`/file/${p.sha1}`, other);
    const cache = tempDir();
    const snapshot = `${SNAPSHOT_ORIGIN}/file/${p.sha1}`;
    await assert.rejects(fetchLockedDebs([{ ...p, snapshot }], 'env.lock.json', cache, () => {}, { snapshot: mirror.base }), {
      message: `env.lock.json: tampered 1.0-superseded: ${mirror.base}/file/${p.sha1} has sha256 ${createHash('sha256').update(other).digest('hex')} but the lock says ${p.sha256}: refusing to build`,
    });
    assert.equal(existsSync(join(cache, basename(p.filename))), false);
  });

  it('refuses a file in --debs with other bytes, and a server sending more than the locked size', async () => {
    const { p } = fakePackage('bigger');
    const dir = tempDir();
    writeFileSync(join(dir, basename(p.filename)), 'not it');
    await assert.rejects(fetchLockedDebs([p], 'env.lock.json', tempDir(), () => {}, { debsDirs: [dir] }), { message: /bigger 1\.0-superseded: .*bigger_1\.0-superseded_all\.deb has sha256 [0-9a-f]{64} but the lock says/ });
    mirror.files.set(`/file/${p.sha1}`, randomBytes(p.size + 100_000));
    await assert.rejects(fetchLockedDebs([{ ...p, snapshot: `${SNAPSHOT_ORIGIN}/file/${p.sha1}` }], 'env.lock.json', tempDir(), () => {}, { snapshot: mirror.base }), {
      message: `${mirror.base}/file/${p.sha1}: more than the ${p.size} bytes the lock says`,
    });
  });

  it('names what no source has and what to do', async () => {
    const { p } = fakePackage('nowhere');
    await assert.rejects(fetchLockedDebs([p], 'env.lock.json', tempDir(), () => {}, { snapshot: mirror.base, mirrors: [`${mirror.base}/empty`] }), {
      message: /^env\.lock\.json: no source has nowhere=1\.0-superseded: neither their suites. archives nor apt offer these versions any more, .*`--debs DIR`.*`--mirror URL`/,
    });
  });
});

describe('the lock the image carries', () => {
  it('leaves out the image ID and where the .debs come from, so recording sources keeps every image ID', () => {
    const { p } = fakePackage('delta');
    const { sha1: _s, ...bare } = p;
    const lock: BuildEnvLock = { lockVersion: 1, name: 'x', architecture: 'amd64', packages: [bare], links: {}, env: { PATH: '/usr/bin' }, user: '1000:1000', imageId: 'sha256:' + '1'.repeat(64) };
    const withSources = { ...lock, packages: [{ ...bare, sha1: p.sha1, snapshot: `${SNAPSHOT_ORIGIN}/file/${p.sha1}` }] };
    assert.equal(imageLockText(withSources), imageLockText(lock));
    assert.ok(!imageLockText(lock).includes('imageId'));
    assert.ok(serializeBuildEnvLock(withSources).includes(`"snapshot": "${SNAPSHOT_ORIGIN}/file/${p.sha1}"`));
    // What the image carried before sources existed: the committed lock without its image ID.
    const { imageId: _i, ...withoutId } = lock;
    assert.equal(imageLockText(lock), serializeBuildEnvLock(withoutId));
  });
});
