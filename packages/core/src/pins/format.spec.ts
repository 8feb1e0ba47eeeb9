import Ajv from 'ajv';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../testing/fixtures';
import { formatJson, formatSarif, formatText } from './format';
import { RULES } from './rules';
import { scanPins } from './scan';

/**
 * The parts of the SARIF 2.1.0 schema (docs.oasis-open.org/sarif/sarif/v2.1.0) that GitHub code
 * scanning reads, trimmed from the official schema: version, runs[].tool.driver with its rules,
 * results with ruleId, level, message and physical locations.
 */
const SARIF_SCHEMA = {
  type: 'object',
  required: ['version', 'runs'],
  properties: {
    $schema: { type: 'string', format: 'uri' },
    version: { const: '2.1.0' },
    runs: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        required: ['tool'],
        properties: {
          tool: {
            type: 'object',
            required: ['driver'],
            properties: {
              driver: {
                type: 'object',
                required: ['name'],
                properties: {
                  name: { type: 'string' },
                  version: { type: 'string' },
                  rules: {
                    type: 'array',
                    items: {
                      type: 'object',
                      required: ['id'],
                      properties: {
                        id: { type: 'string' },
                        shortDescription: { $ref: '#/definitions/message' },
                        fullDescription: { $ref: '#/definitions/message' },
                        help: { $ref: '#/definitions/message' },
                        defaultConfiguration: { type: 'object', properties: { level: { $ref: '#/definitions/level' } } },
                      },
                    },
                  },
                },
              },
            },
          },
          originalUriBaseIds: { type: 'object', additionalProperties: { type: 'object', properties: { uri: { type: 'string' } } } },
          results: {
            type: 'array',
            items: {
              type: 'object',
              required: ['message'],
              properties: {
                ruleId: { type: 'string' },
                ruleIndex: { type: 'integer', minimum: -1 },
                level: { $ref: '#/definitions/level' },
                message: { $ref: '#/definitions/message' },
                locations: {
                  type: 'array',
                  items: {
                    type: 'object',
                    properties: {
                      physicalLocation: {
                        type: 'object',
                        properties: {
                          artifactLocation: { type: 'object', properties: { uri: { type: 'string' }, uriBaseId: { type: 'string' } } },
                          region: { type: 'object', properties: { startLine: { type: 'integer', minimum: 1 }, startColumn: { type: 'integer', minimum: 1 } } },
                        },
                      },
                    },
                  },
                },
              },
            },
          },
        },
      },
    },
  },
  definitions: {
    level: { enum: ['none', 'note', 'warning', 'error'] },
    message: { type: 'object', anyOf: [{ required: ['text'] }, { required: ['id'] }], properties: { text: { type: 'string' }, markdown: { type: 'string' } } },
  },
};

async function sample() {
  const dir = tempDir('reprokit-pins-');
  writeFileSync(join(dir, 'Dockerfile'), 'FROM alpine:3.19\n');
  writeFileSync(join(dir, 'my script.sh'), '  cargo build\n');
  return { dir, results: await scanPins([dir]) };
}

describe('pin finding output', () => {
  it('text: file:line:col severity rule message', async () => {
    const { dir, results } = await sample();
    assert.equal(
      formatText(results, dir),
      'Dockerfile:1:6 error docker-from-unpinned FROM alpine:3.19: the image is not pinned by digest\n' +
        'my script.sh:1:3 error cargo-unlocked cargo build without --locked: dependencies may resolve to other versions than Cargo.lock records\n',
    );
    assert.match(formatText(results, join(dir, '..')), /^reprokit-pins-\w+\/Dockerfile:1:6 /);
  });

  it('json: an array of findings with their fix', async () => {
    const { dir, results } = await sample();
    const json = JSON.parse(formatJson(results, dir));
    assert.deepEqual(Object.keys(json[0]), ['rule', 'severity', 'file', 'line', 'column', 'message', 'fix', 'repository']);
    assert.deepEqual(json[1], {
      rule: 'cargo-unlocked',
      severity: 'error',
      file: 'my script.sh',
      line: 1,
      column: 3,
      message: 'cargo build without --locked: dependencies may resolve to other versions than Cargo.lock records',
      fix: 'Add `--locked` (or `--frozen`).',
      repository: '.',
    });
  });

  it('sarif: validates against the official SARIF 2.1.0 JSON schema', async () => {
    const { results } = await sample();
    // The OASIS schema (as published via SchemaStore) ships in @microsoft/jest-sarif; it is draft-04,
    // which ajv 8 reads once the draft-04 `$schema`/`id` keywords are taken off.
    const { $schema: _draft, id, ...official } = JSON.parse(
      readFileSync(require.resolve('@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json'), 'utf8'),
    );
    const validate = new Ajv({ strict: false, validateFormats: false, unicodeRegExp: false }).compile({ ...official, $id: id });
    const sarif = JSON.parse(formatSarif(results)) as { runs: { results: unknown[] }[] };
    assert.ok(validate(sarif), JSON.stringify(validate.errors));
    assert.ok(sarif.runs[0].results.length > 0);
  });

  it('sarif: valid SARIF 2.1.0 with rules, levels and relative locations', async () => {
    const { dir, results } = await sample();
    const text = formatSarif(results);
    const validate = new Ajv({ strict: false, validateFormats: false }).compile(SARIF_SCHEMA);
    assert.ok(validate(JSON.parse(text)), JSON.stringify(validate.errors));
    const sarif = JSON.parse(text);
    const run = sarif.runs[0];
    assert.deepEqual(run.tool.driver.rules.map((rule: { id: string }) => rule.id), RULES.map((rule) => rule.id));
    assert.equal(run.tool.driver.rules[0].defaultConfiguration.level, 'error');
    assert.equal(run.originalUriBaseIds.SRCROOT.uri, `file://${dir}/`);
    assert.deepEqual(run.results[1].locations[0].physicalLocation, {
      artifactLocation: { uri: 'my%20script.sh', uriBaseId: 'SRCROOT' },
      region: { startLine: 1, startColumn: 3 },
    });
    assert.equal(run.results[1].ruleId, 'cargo-unlocked');
    assert.equal(run.tool.driver.rules[run.results[1].ruleIndex].id, 'cargo-unlocked');
  });
});

describe('reprokit pins check', () => {
  const cli = join(__dirname, 'pins-cli.js');
  const pins = (cwd: string, ...args: string[]) =>
    spawnSync(process.execPath, ['-e', `require(${JSON.stringify(cli)}).pinsCommand(process.argv.slice(1)).then((c) => process.exit(c), (e) => { console.error(e.name + ': ' + e.message); process.exit(2); })`, ...args], {
      cwd,
      encoding: 'utf8',
    });

  it('exits 0 when clean, 1 at --fail-on, 2 on bad usage or a bad policy', async () => {
    const dir = tempDir('reprokit-pins-');
    writeFileSync(join(dir, 'a.sh'), 'echo ok\n');
    assert.equal(pins(dir, 'check').status, 0);
    writeFileSync(join(dir, 'PKGBUILD'), "source=('local.patch')\nsha256sums=('SKIP')\n");
    const note = pins(dir, 'check', '.');
    assert.equal(note.status, 0, 'a note is below the default --fail-on error');
    assert.equal(note.stdout, 'PKGBUILD:1:9 note pkgbuild-local-skip source[0] local.patch: local file with checksum SKIP or missing\n');
    assert.equal(pins(dir, 'check', '--fail-on', 'note').status, 1);
    const json = pins(dir, 'check', '--format', 'json', '--fail-on', 'note');
    assert.equal(JSON.parse(json.stdout)[0].rule, 'pkgbuild-local-skip');
    assert.equal(JSON.parse(pins(dir, 'check', '--format', 'sarif').stdout).version, '2.1.0');
    for (const args of [['check', '--format', 'xml'], ['check', '--fail-on', 'fatal'], ['check', '--nope'], ['lint']]) {
      const result = pins(dir, ...args);
      assert.equal(result.status, 2, args.join(' '));
      assert.match(result.stderr, /^UserError: .+\n$/);
    }
    writeFileSync(join(dir, 'reprokit.pins.json'), '{"exemptions": [{"files": "*"}]}');
    const bad = pins(dir, 'check');
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /^UserError: .*reprokit\.pins\.json: \$\.exemptions\[0\]\.rule: is required\n$/);
  });
});
