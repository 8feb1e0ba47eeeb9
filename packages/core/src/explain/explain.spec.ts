// Every MISMATCH explained by reprokit diff, given the expected bytes: the keep store (what reproduce
// and checksum kept when the artifact matched), else a published location serving those bytes.
// A real ELF (the system's /usr/bin/true), a manifest recorded by the real recordManifest, the real
// CLI, and a real HTTP server on 127.0.0.1.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { writeBuildRecord } from '../build/build-record';
import { sha256Hex } from '../hostile/hostile-fixtures';
import { readManifest } from '../manifest/manifest';
import { recordManifest } from '../manifest/record';
import { reproduceReport } from '../verification/reproduce';
import { serializeManifest } from '../manifest/manifest';
import { projectWithManifest, tempDir } from '../testing/fixtures';
import { runCli } from '../testing/run-cli';
import { keepRecordedArtifacts } from './keep-matches';
import { KeepStore } from './keep-store';

// These servers listen on 127.0.0.1, an address a manifest's URL may not reach by default (net/
// address-policy.ts): the tests allow it as a user would, with REPROKIT_ALLOW_PRIVATE_NETWORK=1
// (the CLI children inherit it).
process.env.REPROKIT_ALLOW_PRIVATE_NETWORK = '1';

const ELF = '/usr/bin/true';

/** The file offset of an ELF section, as readelf -S -W reads it. */
function sectionOffset(file: string, name: string): number {
  const out = execFileSync('readelf', ['-S', '-W', file], { encoding: 'utf8' });
  const match = new RegExp(`\\]\\s+${name.replace('.', '\\.')}\\s+\\S+\\s+[0-9a-f]+\\s+([0-9a-f]+)`).exec(out);
  assert.ok(match, `no ${name} in ${file}`);
  return parseInt(match[1], 16);
}

function flipByte(file: string, offset: number): void {
  const bytes = readFileSync(file);
  bytes[offset] ^= 0x20;
  writeFileSync(file, bytes);
}

/** The real CLI, asynchronously: the HTTP server below runs in this process. */
const verifyCli = (manifestPath: string, ...args: string[]) => runCli(['verify', manifestPath, ...args]);

describe('KeepStore: content-addressed, bounded, checked when read', () => {
  const dir = tempDir('rk-keep-');
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps by sha256, refuses a file that is not what the caller says, evicts the least recently used', async () => {
    const store = new KeepStore(join(dir, 'kept'), 10);
    const file = (name: string, text: string) => (writeFileSync(join(dir, name), text), { path: join(dir, name), sha: sha256Hex(text), size: Buffer.byteLength(text) });
    const a = file('a', 'aaaa');
    const b = file('b', 'bbbb');
    const c = file('c', 'cccc');
    assert.equal(store.keep(a.path, a.sha, a.size), true);
    assert.equal(await store.find(a.sha, a.size), join(dir, 'kept', a.sha));
    // Bytes that are not the sha256 claimed are never stored under it.
    assert.equal(store.keep(b.path, a.sha.replace(/^./, (x) => (x === '0' ? '1' : '0')), b.size), false);
    await new Promise((wait) => setTimeout(wait, 20));
    assert.equal(store.keep(b.path, b.sha, b.size), true);
    await new Promise((wait) => setTimeout(wait, 20));
    assert.equal(store.keep(c.path, c.sha, c.size), true);
    // 12 bytes > 10: the oldest (a) went.
    assert.equal(await store.find(a.sha, a.size), undefined);
    assert.ok(await store.find(c.sha, c.size));
    assert.deepEqual(readdirSync(join(dir, 'kept')).sort(), [b.sha, c.sha].sort(), 'no temporary file left');
    // Larger than the whole store: not kept.
    const big = file('big', 'x'.repeat(11));
    assert.equal(store.keep(big.path, big.sha, big.size), false);
    // A copy altered in the store is not used, and removed.
    writeFileSync(join(dir, 'kept', b.sha), 'BBBB');
    assert.equal(await store.find(b.sha, b.size), undefined);
    assert.equal(existsSync(join(dir, 'kept', b.sha)), false);
  });
});

describe('checksum --update keeps what it recorded', () => {
  it('the recorded artifacts go to the store; a file changed since the recording does not', async () => {
    const { dir, manifestPath, artifact } = await projectWithManifest('recorded bytes\n');
    const manifest = await readManifest(manifestPath);
    const store = join(dir, 'kept');
    assert.equal(keepRecordedArtifacts(manifestPath, manifest, { keepDir: store }), 1);
    assert.deepEqual(readFileSync(join(store, manifest.artifacts[0].sha256), 'utf8'), 'recorded bytes\n');
    rmSync(store, { recursive: true });
    writeFileSync(artifact, 'changed bytes!\n');
    assert.equal(keepRecordedArtifacts(manifestPath, manifest, { keepDir: store }), 0);
    assert.deepEqual(existsSync(store) ? readdirSync(store) : [], []);
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('a MISMATCH explained by reprokit diff', () => {
  const dir = tempDir('rk-explain-');
  const manifestPath = join(dir, 'repro-manifest.json');
  const artifact = join(dir, 'dist', 'true');
  const kept = join(dir, 'node_modules', '.cache', 'reprokit', 'kept');
  let good: Buffer;
  let server: Server;
  let base = '';

  before(async () => {
    // A workspace (nx.json) with one project whose artifact is an ELF.
    writeFileSync(join(dir, 'nx.json'), '{}\n');
    mkdirSync(join(dir, 'dist'));
    copyFileSync(ELF, artifact);
    good = readFileSync(artifact);
    writeBuildRecord(join(dir, 'dist'), { name: 'true', kind: 'elf', file: 'true', environment: { type: 'host', toolchain: 'coreutils' }, sourceDateEpoch: 0 });
    await recordManifest({ manifestPath, project: 'true', outputDir: 'dist', workspaceRoot: dir });
    server = createServer((request, response) => {
      if (request.url === '/good/true') response.end(good);
      else if (request.url === '/other/true') response.end(Buffer.concat([good.subarray(0, good.length - 1), Buffer.from('!')]));
      else response.writeHead(404).end();
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((done) => server.close(done));
    rmSync(dir, { recursive: true, force: true });
  });

  it('reproduce keeps what matched, in the workspace node_modules/.cache/reprokit/kept', async () => {
    const report = await reproduceReport({ manifestPath, workspaceRoot: dir, projectRoot: '.' });
    assert.equal(report.ok, true, report.text);
    assert.deepEqual(readdirSync(kept), [sha256Hex(good)]);
    assert.deepEqual(readFileSync(join(kept, sha256Hex(good))), good);
  });

  it('one byte changed in .rodata after a kept good build: MISMATCH naming section .rodata (reproduce, verify, verify --json)', async () => {
    flipByte(artifact, sectionOffset(artifact, '.rodata') + 3);
    const report = await reproduceReport({ manifestPath, workspaceRoot: dir, projectRoot: '.' });
    assert.equal(report.ok, false);
    const lines = report.text.split('\n');
    const mismatch = lines.findIndex((line) => /^true\s+elf\s+MISMATCH/.test(line));
    const explained = lines.indexOf('true: what differs from the expected bytes (kept copy):');
    const summary = lines.findIndex((line) => / 0 match, 1 mismatch, 0 missing, 0 unexpected$/.test(line));
    assert.ok(mismatch >= 0 && explained > mismatch && summary > explained, report.text);
    // Only .rodata: the diff descends into the ELF and names the section, nothing else.
    const differences = lines.slice(explained + 1, summary).filter((line) => /^ {4}\S/.test(line));
    assert.match(differences[0], /^ {4}section \.rodata: /, report.text);
    assert.match(differences.at(-1)!, /differ \(elf\): 1 difference$/, report.text);

    const cli = await verifyCli(manifestPath);
    assert.equal(cli.status, 1, cli.stderr);
    assert.match(cli.stdout, /^ {4}section \.rodata: /m);
    const json = await verifyCli(manifestPath, '--json');
    assert.equal(json.status, 1, json.stderr);
    const parsed = JSON.parse(json.stdout);
    assert.equal(parsed.explanations[0].artifact, 'true');
    assert.equal(parsed.explanations[0].expectedFrom, 'kept copy');
    assert.deepEqual(parsed.explanations[0].diff.differences.map((d: { where: string[] }) => d.where), [['section .rodata']]);
  });

  it('without a kept copy: one line saying so and what to do', async () => {
    rmSync(kept, { recursive: true, force: true });
    const cli = await verifyCli(manifestPath);
    assert.equal(cli.status, 1, cli.stderr);
    const notes = cli.stdout.split('\n').filter((line) => line.startsWith('true: no copy'));
    assert.equal(notes.length, 1, cli.stdout);
    assert.match(notes[0], /^true: no copy of the expected bytes: a build that matches keeps one .*reprokit published add MANIFEST true --url URL\)$/);
  });

  it('the expected bytes from a published location: one that serves other bytes is passed over, one that serves them is diffed (and kept)', async () => {
    const manifest = await readManifest(manifestPath);
    manifest.artifacts[0].published = [{ url: `${base}/missing/true` }, { url: `${base}/other/true` }, { url: `${base}/good/true` }];
    writeFileSync(manifestPath, serializeManifest(manifest));
    const cli = await verifyCli(manifestPath);
    assert.equal(cli.status, 1, cli.stderr);
    assert.ok(cli.stdout.includes(`true: what differs from the expected bytes (${base}/good/true):`), cli.stdout);
    assert.match(cli.stdout, /^ {4}section \.rodata: /m);
    assert.deepEqual(readdirSync(kept), [sha256Hex(good)], 'the verified download was kept');
    // Only locations that do not serve the bytes: the note names why each was passed over.
    manifest.artifacts[0].published = [{ url: `${base}/missing/true` }, { url: `${base}/other/true` }];
    writeFileSync(manifestPath, serializeManifest(manifest));
    rmSync(kept, { recursive: true, force: true });
    const none = await verifyCli(manifestPath);
    const note = none.stdout.split('\n').find((line) => line.startsWith('true: no copy'));
    assert.ok(note?.includes(`${base}/missing/true: HTTP 404`), none.stdout);
    assert.ok(note?.includes(`${base}/other/true serves other bytes`), none.stdout);
  });
});
