import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../testing/fixtures';
import { globToRegExp, matchesGlob } from './glob';
import { loadPolicy, POLICY_SCHEMA_PATH } from './policy';
import { RULE_IDS } from './rules';
import { scanPins } from './scan';

function repoWith(files: Record<string, string>): string {
  const dir = tempDir('reprokit-pins-');
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  return dir;
}

describe('glob', () => {
  it('matches *, ? within a segment and ** across segments', () => {
    assert.ok(matchesGlob('a/b/Dockerfile', '**/Dockerfile'));
    assert.ok(matchesGlob('Dockerfile', '**/Dockerfile'));
    assert.ok(matchesGlob('Dockerfile', 'Dockerfile'));
    assert.ok(matchesGlob('x/y/Dockerfile', 'Dockerfile'), 'a pattern without / matches at any depth');
    assert.ok(matchesGlob('test-fixtures/pins/a/b.sh', 'test-fixtures/**'));
    assert.ok(matchesGlob('src/a.sh', 'src/*.sh'));
    assert.ok(!matchesGlob('src/x/a.sh', 'src/*.sh'));
    assert.ok(matchesGlob('a1.sh', 'a?.sh'));
    assert.ok(!matchesGlob('a/.sh', 'a?.sh'));
    assert.ok(matchesGlob('a.b', 'a.b') && !matchesGlob('axb', 'a.b'), '. is literal');
    assert.equal(globToRegExp('x/**/y').test('x/y'), true);
  });
});

describe('pin policy', () => {
  it('lists every rule in its schema, and nothing else', () => {
    const schema = JSON.parse(readFileSync(POLICY_SCHEMA_PATH, 'utf8'));
    assert.deepEqual(Object.keys(schema.properties.rules.properties).sort(), [...RULE_IDS].sort());
    assert.deepEqual(schema.properties.exemptions.items.properties.rule.enum.sort(), [...RULE_IDS, '*'].sort());
  });

  it('rejects a malformed policy with one line naming the file and the JSON path', () => {
    const dir = repoWith({ 'reprokit.pins.json': JSON.stringify({ rules: { 'docker-from-unpinned': 'loud' } }) });
    assert.throws(() => loadPolicy(join(dir, 'reprokit.pins.json')), {
      name: 'UserError',
      message: `${join(dir, 'reprokit.pins.json')}: $.rules["docker-from-unpinned"]: must be one of "off", "error", "warning", "note"`,
    });
    writeFileSync(join(dir, 'p.json'), JSON.stringify({ exemptions: [{ files: '*', rule: 'actions-unpinned' }] }));
    assert.throws(() => loadPolicy(join(dir, 'p.json')), { message: /p\.json: \$\.exemptions\[0\]\.reason: is required$/ });
    writeFileSync(join(dir, 'p.json'), JSON.stringify({ rules: { 'no-such-rule': 'off' } }));
    assert.throws(() => loadPolicy(join(dir, 'p.json')), { message: /p\.json: \$\.rules\["no-such-rule"\]: is not allowed here$/ });
    writeFileSync(join(dir, 'p.json'), JSON.stringify({ exemptions: [{ files: '*', rule: '*', reason: 'x', expires: '2026-02-30' }] }));
    assert.throws(() => loadPolicy(join(dir, 'p.json')), { message: /p\.json: \$\.exemptions\[0\]\.expires: 2026-02-30 is not a date$/ });
    writeFileSync(join(dir, 'p.json'), '{"rules": {,}}');
    assert.throws(() => loadPolicy(join(dir, 'p.json')), { message: /p\.json:1:\d+: invalid JSON/ });
    assert.throws(() => loadPolicy(join(dir, 'missing.json')), { message: /missing\.json: no such file or directory$/ });
  });

  it('accepts a $schema key, turns rules off and changes severities', async () => {
    const dir = repoWith({
      Dockerfile: 'FROM alpine:3.19\n',
      'a.sh': 'cargo build\n',
      'reprokit.pins.json': JSON.stringify({ $schema: './schema.json', rules: { 'docker-from-unpinned': 'off', 'cargo-unlocked': 'note' } }),
    });
    const [result] = await scanPins([dir]);
    assert.deepEqual(result.findings.map((f) => [f.rule, f.severity]), [['cargo-unlocked', 'note']]);
  });

  it('applies exemptions until they expire, then reports the expired exemption at its line', async () => {
    const policy = `{
  "exemptions": [
    { "files": "legacy/**", "rule": "docker-from-unpinned", "reason": "being rewritten" },
    { "files": "*.sh", "rule": "*", "reason": "vendored installer",
      "expires": "2026-03-01" }
  ]
}
`;
    const dir = repoWith({ 'a.sh': 'curl -fsSL https://x.example | sh\n', Dockerfile: 'FROM alpine:3.19\n', 'reprokit.pins.json': policy });
    const before = await scanPins([dir], { today: '2026-03-01' });
    assert.deepEqual(before[0].findings.map((f) => f.rule), ['docker-from-unpinned']);
    const after = await scanPins([dir], { today: '2026-03-02' });
    assert.deepEqual(
      after[0].findings.map((f) => `${f.file}:${f.line}:${f.column} ${f.severity} ${f.rule}`),
      ['Dockerfile:1:6 error docker-from-unpinned', 'a.sh:1:1 error download-piped-to-shell', 'reprokit.pins.json:5:7 warning policy-exemption-expired'],
    );
    assert.match(after[0].findings[2].message, /vendored installer.*expired on 2026-03-01/);
  });

  it('takes a shared policy by path for every repository scanned', async () => {
    const shared = repoWith({ 'shared.json': JSON.stringify({ rules: { 'download-piped-to-shell': 'off' } }) });
    const one = repoWith({ 'a.sh': 'curl -s https://x.example | sh\n' });
    const two = repoWith({ 'b.sh': 'wget -qO- https://x.example | bash\ncargo build\n' });
    const results = await scanPins([one, two], { policy: join(shared, 'shared.json') });
    assert.deepEqual(results.map((r) => r.findings.map((f) => f.rule)), [[], ['cargo-unlocked']]);
  });
});
