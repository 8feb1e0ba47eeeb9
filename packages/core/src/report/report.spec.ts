import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { writeBuildRecord } from '../build/build-record';
import { schemaChecker } from '../manifest/json-schema';
import { recordManifest } from '../manifest/record';
import { tempDir } from '../testing/fixtures';
import { collectReport, findManifests, type ReprokitReport } from './collect-report';
import { renderReportHtml } from './render-html';
import { renderReportMarkdown } from './render-markdown';
import { main } from '../cli';
import { writeVaryResultFiles } from '../vary/result-file';
import { keepMatchedArtifacts } from '../explain/keep-matches';
import { verifyManifest } from '../verification/verify';
import { signEnvelope } from '../attest/dsse';
import { generateSigningKey } from '../attest/keygen';
import { parsePrivateKey } from '../attest/keys';
import { serializeStatement } from '../attest/statement';
import { verificationSummary } from '../attest/vsa';

const checkReport = schemaChecker<ReprokitReport>('reprokit-report.schema.json');

function git(cwd: string, ...args: string[]): string {
  const result = spawnSync('git', args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t', GIT_COMMITTER_DATE: '2026-01-02T03:04:05Z', GIT_AUTHOR_DATE: '2026-01-02T03:04:05Z' },
  });
  assert.equal(result.status, 0, result.stderr);
  return result.stdout.trim();
}

/** A project with built artifacts and a manifest recorded from them by the real recordManifest. */
async function project(root: string, dir: string, name: string, files: Record<string, string>): Promise<void> {
  const dist = join(root, dir, 'dist');
  mkdirSync(dist, { recursive: true });
  for (const [file, content] of Object.entries(files)) {
    writeFileSync(join(dist, file), content);
    writeBuildRecord(dist, { name: file, kind: 'file', file, environment: { type: 'container', image: `reprokit/x-builder@sha256:${'ab'.repeat(32)}`, toolchain: 'gcc 12' }, sourceDateEpoch: 0 });
  }
  await recordManifest({ manifestPath: join(root, dir, 'repro-manifest.json'), project: name, outputDir: 'dist', workspaceRoot: root });
}

/**
 * A git workspace with four projects: `good` (reproduces), `bad` (one artifact altered, one lost,
 * one file added), `fresh` (recorded, nothing built) and `broken` (a manifest that is not JSON), and
 * a Dockerfile with an unpinned image in `good`.
 */
async function workspace(): Promise<string> {
  const root = tempDir('reprokit-report-');
  git(root, 'init', '-q', '-b', 'main');
  writeFileSync(join(root, '.gitignore'), 'dist/\n');
  await project(root, 'packages/good', 'good', { 'good.bin': 'good\n' });
  await project(root, 'packages/bad', 'bad', { 'a.bin': 'a\n', 'b.bin': 'b\n', 'c.bin': 'c\n' });
  await project(root, 'packages/fresh', 'fresh', { 'f.bin': 'f\n' });
  rmSync(join(root, 'packages/fresh/dist'), { recursive: true });
  mkdirSync(join(root, 'packages/broken'));
  writeFileSync(join(root, 'packages/broken/repro-manifest.json'), '{"manifestVersion": 1,\n  "project": }\n');
  writeFileSync(join(root, 'packages/good/Dockerfile'), 'FROM debian:bookworm\n');
  writeFileSync(join(root, 'packages/bad/dist/a.bin'), 'A\n');
  rmSync(join(root, 'packages/bad/dist/b.bin'));
  writeFileSync(join(root, 'packages/bad/dist/<b onmouseover=alert(1)>x'), 'x');
  git(root, 'add', '-A');
  git(root, 'commit', '-q', '-m', 'workspace');
  return root;
}

describe('reprokit report', () => {
  it('finds every manifest git knows, not the ones under node_modules or dist', async () => {
    const root = await workspace();
    mkdirSync(join(root, 'node_modules/dep'), { recursive: true });
    writeFileSync(join(root, 'node_modules/dep/repro-manifest.json'), '{}');
    assert.deepEqual(findManifests(root), ['packages/bad/repro-manifest.json', 'packages/broken/repro-manifest.json', 'packages/fresh/repro-manifest.json', 'packages/good/repro-manifest.json']);
  });

  it('gives every artifact its verdict, explains what differs, and validates against its schema', async () => {
    const root = await workspace();
    const report = await collectReport({ workspaceRoot: root, now: new Date('2026-11-25T00:00:00Z') });
    checkReport(JSON.parse(JSON.stringify(report)), 'report');
    assert.equal(report.ok, false);
    assert.deepEqual(report.counts, { reproduced: 2, mismatch: 1, missing: 1, 'not-built': 1, unexpected: 1 });
    assert.equal(report.workspace.commit, git(root, 'rev-parse', 'HEAD'));
    assert.equal(report.workspace.commitDate, '2026-01-02T03:04:05Z');
    const byName = Object.fromEntries(report.projects.map((p) => [p.name, p]));
    assert.deepEqual(
      byName.bad.artifacts.map((a) => [a.name, a.status, a.path]),
      [
        ['a.bin', 'mismatch', 'packages/bad/dist/a.bin'],
        ['b.bin', 'missing', 'packages/bad/dist/b.bin'],
        ['c.bin', 'reproduced', 'packages/bad/dist/c.bin'],
        ['dist/<b onmouseover=alert(1)>x', 'unexpected', 'packages/bad/dist/<b onmouseover=alert(1)>x'],
      ],
    );
    const mismatch = byName.bad.artifacts[0];
    assert.ok(mismatch.explanation.some((line) => line.startsWith('blake2b512 differs: expected ') && line.includes(mismatch.actual!.blake2b512)), mismatch.explanation.join('\n'));
    assert.deepEqual(byName.fresh.artifacts.map((a) => a.status), ['not-built']);
    assert.match(byName['packages/broken'].error ?? '', /packages\/broken\/repro-manifest\.json:\d+:\d+: invalid JSON/);
    assert.deepEqual(report.environments, [{ type: 'container', image: `reprokit/x-builder@sha256:${'ab'.repeat(32)}`, toolchain: 'gcc 12' }]);
  });

  it('gives each pin finding to the project that holds the file, with its line', async () => {
    const root = await workspace();
    const report = await collectReport({ workspaceRoot: root });
    const good = report.projects.find((p) => p.name === 'good')!;
    assert.equal(good.pins.findings.length >= 1, true);
    assert.deepEqual([good.pins.findings[0].file, good.pins.findings[0].line], ['packages/good/Dockerfile', 1]);
    assert.equal(good.pins.error + good.pins.warning + good.pins.note, good.pins.findings.length);
    assert.equal(report.projects.find((p) => p.name === 'bad')!.pins.findings.length, 0);
    const without = await collectReport({ workspaceRoot: root, pins: false });
    assert.equal(without.projects.every((p) => p.pins.findings.length === 0), true);
  });

  it('writes a paper trail whose hash lines b2sum -c accepts from the workspace root', async () => {
    const root = await workspace();
    const report = await collectReport({ workspaceRoot: root, pins: false });
    const trail = report.paperTrail;
    assert.match(trail, new RegExp(`^commit: +${report.workspace.commit} \\(clean\\)$`, 'm'));
    assert.match(trail, /^ {2}reprokit\/x-builder@sha256:(ab){32} \(gcc 12\)$/m);
    assert.match(trail, /^# MISMATCH packages\/bad\/dist\/a\.bin$/m);
    const checked = spawnSync('b2sum', ['-c'], { cwd: root, input: trail, encoding: 'utf8' });
    assert.equal(checked.status, 0, checked.stderr);
    assert.deepEqual(checked.stdout.trim().split('\n').sort(), ['packages/bad/dist/c.bin: OK', 'packages/good/dist/good.bin: OK']);
  });

  it('renders HTML that escapes names and says each status in words, and Markdown with the same verdicts', async () => {
    const root = await workspace();
    const report = await collectReport({ workspaceRoot: root });
    const html = renderReportHtml(report, { linkBase: '..' });
    assert.ok(!html.includes('<b onmouseover=alert(1)>x'), 'a file name must not become markup');
    assert.ok(html.includes('&lt;b onmouseover=alert(1)&gt;x'));
    assert.ok(!/<(link|img|iframe)\b|src=|https?:\/\//.test(html.replace(/https?:\/\/[^"]*\bw3\.org\b/g, '')), 'no external assets');
    for (const word of ['REPRODUCED', 'MISMATCH', 'MISSING', 'NOT BUILT', 'UNEXPECTED']) assert.ok(html.includes(`</span> ${word}</span>`), word);
    assert.match(html, /<a href="\.\.\/packages\/good\/Dockerfile">packages\/good\/Dockerfile:1:\d+<\/a>/);
    const markdown = renderReportMarkdown(report);
    assert.match(markdown, /^## ❌ reprokit: 4 of 6 artifacts not reproduced, 1 manifest\(s\) unreadable$/m);
    assert.match(markdown, /^\| 2 \| 1 \| 1 \| 1 \| 1 \|$/m);
    assert.match(markdown, /^\| bad \| a\.bin \| file \| ✗ \*\*MISMATCH\*\* \|/m);
    assert.match(markdown, /^ {2}- blake2b512 differs: expected [0-9a-f]{128}, got [0-9a-f]{128}$/m);
    assert.match(markdown, /^- ERROR `packages\/good\/Dockerfile:1:\d+` /m);
  });

  it('the CLI writes the three files and exits 1 when something did not reproduce; usage errors exit 2', async () => {
    const root = await workspace();
    const out = join(root, 'out');
    const cwd = process.cwd();
    const write = process.stdout.write;
    let printed = '';
    process.stdout.write = ((chunk: string) => ((printed += chunk), true)) as typeof process.stdout.write;
    let status: number;
    try {
      process.chdir(root);
      status = await main(['report', '--out', out]);
    } finally {
      process.chdir(cwd);
      process.stdout.write = write;
    }
    assert.equal(status, 1);
    assert.match(printed, /^NOT REPRODUCED: 2 reproduced, 1 mismatch, 1 missing, 1 not built, 1 unexpected$/m);
    const json = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    checkReport(json, 'report.json');
    assert.match(readFileSync(join(out, 'index.html'), 'utf8'), /^<!doctype html>/);
    assert.match(readFileSync(join(out, 'report.md'), 'utf8'), /^## ❌ reprokit/);
    const stderr = process.stderr.write;
    process.stderr.write = (() => true) as typeof process.stderr.write;
    try {
      assert.equal(await main(['report', root, root]), 2);
    } finally {
      process.stderr.write = stderr;
    }
  });

  it('with attestations, shows who attested each artifact and names a builder that disagrees', async () => {
    const root = await workspace();
    const keys = join(root, 'keys');
    const trusted = join(root, 'trusted');
    const attestations = join(root, 'attestations');
    for (const dir of [keys, trusted, attestations]) mkdirSync(dir);
    const manifest = JSON.parse(readFileSync(join(root, 'packages/good/repro-manifest.json'), 'utf8'));
    const artifact = manifest.artifacts[0];
    for (const [builder, rebuilt] of [['alice', artifact.sha256], ['mallory', '0'.repeat(64)]] as const) {
      const { keyFile, pubFile, keyId } = generateSigningKey(join(keys, builder));
      writeFileSync(join(trusted, `${builder}.pub`), readFileSync(pubFile));
      const statement = verificationSummary({
        verifierId: `urn:test:${builder}`,
        verifierVersion: {},
        project: 'good',
        artifact: { name: artifact.name, path: artifact.path, sha256: artifact.sha256 },
        rebuiltSha256: rebuilt,
        passed: rebuilt === artifact.sha256,
        inputAttestations: [],
        timeVerified: new Date(0),
      });
      const envelope = signEnvelope(serializeStatement(statement), { key: parsePrivateKey(readFileSync(keyFile, 'utf8'), keyFile), keyId });
      writeFileSync(join(attestations, `${builder}.json`), JSON.stringify(envelope));
    }
    const one = await collectReport({ workspaceRoot: root, pins: false, attestations: { dir: attestations, trustedKeys: trusted, threshold: 1 } });
    checkReport(JSON.parse(JSON.stringify(one)), 'report');
    const good = one.projects.find((p) => p.name === 'good')!.artifacts[0];
    assert.deepEqual(good.attestations, { threshold: 1, passedBy: ['alice'], ok: true, disagreements: [{ builder: 'mallory', what: `FAILED: rebuilt sha256:${'0'.repeat(64)}` }] });
    assert.deepEqual(good.explanation, [`builder mallory disagrees: FAILED: rebuilt sha256:${'0'.repeat(64)}`]);
    assert.deepEqual(one.attestations, { threshold: 1, trustedBuilders: ['alice', 'mallory'], rejected: [] });
    const two = await collectReport({ workspaceRoot: root, pins: false, attestations: { dir: attestations, trustedKeys: trusted, threshold: 2 } });
    const strict = two.projects.find((p) => p.name === 'good')!.artifacts[0];
    assert.equal(strict.attestations!.ok, false);
    assert.ok(strict.explanation.includes('attested PASSED by 1 of 2 trusted builders, threshold 2'), strict.explanation.join('\n'));
    assert.match(renderReportHtml(two, { linkBase: '..' }), /Threshold 2 of 2 trusted builders \(alice, mallory\)/);
    assert.match(renderReportMarkdown(two), /^Attestations: 0 of \d+ artifacts attested PASSED by at least 2 of 2 trusted builders \(alice, mallory\)\.$/m);
  });

  it('shows results left beside a build record, and does not follow a symbolic link there', async () => {
    const root = await workspace();
    const records = join(root, 'packages/good/dist/.reprokit');
    writeFileSync(join(records, 'good.bin.intoto.json'), JSON.stringify({ _type: 'https://in-toto.io/Statement/v1', subject: [{ name: 'good.bin' }], predicateType: 'https://slsa.dev/provenance/v1', predicate: {} }));
    writeFileSync(join(records, 'good.bin.intoto.times.json'), '{}');
    writeFileSync(join(root, 'outside.json'), '{"summary": "from outside the project"}');
    symlinkSync(join(root, 'outside.json'), join(records, 'good.bin.vary.json'));
    const report = await collectReport({ workspaceRoot: root, pins: false });
    const good = report.projects.find((p) => p.name === 'good')!.artifacts[0];
    assert.deepEqual(good.extra, [{ source: 'packages/good/dist/.reprokit/good.bin.intoto.json', label: 'intoto', text: 'in-toto statement, https://slsa.dev/provenance/v1, 1 subject' }]);
    assert.deepEqual(good.variations, { verdict: 'not varied', summary: 'variation result not read: a symbolic link', variations: [], culprits: [], source: 'packages/good/dist/.reprokit/good.bin.vary.json' });
  });

  it('gives a result file to the artifact whose name it starts with, the longest one (asdf.pkg.vary.json is not asdf\'s)', async () => {
    const root = await workspace();
    await project(root, 'packages/nested', 'nested', { tool: 'tool\n', 'tool.pkg': 'package\n' });
    const statement = JSON.stringify({ _type: 'https://in-toto.io/Statement/v1', subject: [{ name: 'tool.pkg' }], predicateType: 'https://slsa.dev/provenance/v1', predicate: {} });
    writeFileSync(join(root, 'packages/nested/dist/.reprokit/tool.pkg.intoto.json'), statement);
    writeVaryResultFiles(join(root, 'packages/nested/dist'), [{ summary: 'REPRODUCIBLE UNDER 9 VARIATIONS', verdict: 'reproducible', artifact: 'tool.pkg', variations: ['clock'], culprits: [], image: '' }]);
    const report = await collectReport({ workspaceRoot: root, pins: false });
    const artifacts = report.projects.find((p) => p.name === 'nested')!.artifacts;
    const tool = artifacts.find((a) => a.name === 'tool')!;
    const pkg = artifacts.find((a) => a.name === 'tool.pkg')!;
    assert.equal(tool.extra, undefined);
    assert.equal(tool.variations, undefined);
    assert.deepEqual(pkg.extra?.map((e) => e.label), ['intoto']);
    assert.equal(pkg.variations?.summary, 'REPRODUCIBLE UNDER 9 VARIATIONS');
  });

  it('explains a mismatch with reprokit diff against a kept copy of the expected bytes, and says what to do when there is none', async () => {
    const root = await workspace();
    // A build that matched kept its artifacts (reproduce and checksum do this): then one byte changed.
    await project(root, 'packages/kept', 'kept', { 'notes.txt': 'one\ntwo\nthree\n' });
    keepMatchedArtifacts(await verifyManifest(join(root, 'packages/kept/repro-manifest.json')));
    writeFileSync(join(root, 'packages/kept/dist/notes.txt'), 'one\nTWO\nthree\n');
    const report = await collectReport({ workspaceRoot: root, pins: false });
    const explanation = (projectName: string, name: string) => report.projects.find((p) => p.name === projectName)!.artifacts.find((a) => a.name === name)!.explanation;
    const kept = explanation('kept', 'notes.txt');
    assert.ok(kept.includes('what differs from the expected bytes (kept copy):'), kept.join('\n'));
    assert.ok(kept.some((line) => /^\s*-two$/.test(line)) && kept.some((line) => /^\s*\+TWO$/.test(line)), kept.join('\n'));
    // bad's a.bin was changed before anything kept it: no expected bytes, and the next step.
    assert.ok(explanation('bad', 'a.bin').some((line) => /^no copy of the expected bytes: a build that matches keeps one/.test(line)), explanation('bad', 'a.bin').join('\n'));
    assert.match(renderReportHtml(report, { linkBase: '..' }), /<li>what differs from the expected bytes \(kept copy\):<\/li>/);
  });

  it('shows what variation builds found: a column per artifact, the culprits with what differs, the same in Markdown', async () => {
    const root = await workspace();
    const records = (dir: string) => join(root, dir, 'dist/.reprokit');
    const variations = ['build-path', 'clock', 'hostname'];
    // Written by vary's own writer: the report reads what vary writes.
    writeVaryResultFiles(join(root, 'packages/good/dist'), [{ summary: 'REPRODUCIBLE UNDER 3 VARIATIONS', verdict: 'reproducible', artifact: 'good.bin', variations, culprits: [], image: `sha256:${'cd'.repeat(32)}` }]);
    const culprit = { variation: 'clock', difference: 'section .rodata differs at 0x2004' };
    writeVaryResultFiles(join(root, 'packages/bad/dist'), [{ summary: 'NOT REPRODUCIBLE UNDER: clock', verdict: 'not reproducible', artifact: 'c.bin', variations, culprits: [culprit], image: '' }]);
    // Not what vary writes: named, not shown in part.
    writeFileSync(join(records('packages/bad'), 'a.bin.vary.json'), JSON.stringify({ summary: 'REPRODUCIBLE', verdict: 'fine' }));
    const report = await collectReport({ workspaceRoot: root, pins: false });
    checkReport(JSON.parse(JSON.stringify(report)), 'report.json');
    const artifact = (projectName: string, name: string) => report.projects.find((p) => p.name === projectName)!.artifacts.find((a) => a.name === name)!;
    assert.deepEqual(artifact('good', 'good.bin').variations, { verdict: 'reproducible', summary: 'REPRODUCIBLE UNDER 3 VARIATIONS', variations, culprits: [], source: 'packages/good/dist/.reprokit/good.bin.vary.json' });
    assert.deepEqual(artifact('bad', 'c.bin').variations?.culprits, [culprit]);
    assert.match(artifact('bad', 'a.bin').variations!.summary, /^variation result not read: not a vary result/);
    assert.equal(artifact('bad', 'b.bin').variations, undefined);
    assert.equal(artifact('good', 'good.bin').extra, undefined);
    const html = renderReportHtml(report, { linkBase: '..' });
    assert.match(html, /<th scope="col">Variations<\/th>/);
    assert.match(html, /<td data-sort="reproducible">✓ 3 variations<\/td>/);
    assert.match(html, /<td data-sort="not reproducible">✗ clock<\/td>/);
    assert.match(html, /<li>variation clock changes it: section \.rodata differs at 0x2004<\/li>/);
    const markdown = renderReportMarkdown(report);
    assert.match(markdown, /^### Nondeterminism found by variation builds$/m);
    assert.match(markdown, /^- \*\*bad \/ c\.bin\*\*: NOT REPRODUCIBLE UNDER: clock$/m);
    assert.match(markdown, /^ {2}- variation clock changes it: section \.rodata differs at 0x2004$/m);
    assert.match(markdown, /^\| good \| good\.bin \| file \| .* \| ✓ 3 variations \|$/m);
  });

  it('with --published, downloads each published location and shows MATCH, or what differs', async () => {
    const root = await workspace();
    const releases = join(root, 'releases');
    mkdirSync(releases);
    writeFileSync(join(releases, 'good.bin'), 'good\n');
    writeFileSync(join(releases, 'c.bin'), 'C\n');
    const publish = (manifestRel: string, name: string, file: string) => {
      const path = join(root, manifestRel);
      const manifest = JSON.parse(readFileSync(path, 'utf8'));
      manifest.artifacts.find((a: { name: string }) => a.name === name).published = [{ url: `file://${join(releases, file)}` }];
      writeFileSync(path, JSON.stringify(manifest, null, 2));
    };
    publish('packages/good/repro-manifest.json', 'good.bin', 'good.bin');
    publish('packages/bad/repro-manifest.json', 'c.bin', 'c.bin');
    const unchecked = await collectReport({ workspaceRoot: root, pins: false });
    assert.equal(unchecked.projects.find((p) => p.name === 'good')!.artifacts[0].publishedChecks, undefined);
    const report = await collectReport({ workspaceRoot: root, pins: false, published: true });
    checkReport(JSON.parse(JSON.stringify(report)), 'report');
    const good = report.projects.find((p) => p.name === 'good')!.artifacts[0];
    assert.deepEqual(good.publishedChecks, [{ location: `file://${join(releases, 'good.bin')}`, type: 'url', status: 'match' }]);
    const c = report.projects.find((p) => p.name === 'bad')!.artifacts.find((a) => a.name === 'c.bin')!;
    assert.equal(c.status, 'reproduced');
    assert.equal(c.publishedChecks![0].status, 'differs');
    assert.ok(c.explanation.some((line) => line.startsWith(`published file://${join(releases, 'c.bin')}: DIFFERS`)), c.explanation.join('\n'));
    assert.match(renderReportHtml(report, { linkBase: '..' }), /published file:\/\/[^<]*good\.bin: MATCH/);
  });
});
