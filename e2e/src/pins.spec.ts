import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TempWorkspace } from './workspace';

// The pin policy as an Nx gate, through real nx: every project has an inferred pins target.
describe('nx run-many -t pins in a temp workspace', () => {
  const ws = new TempWorkspace();

  it('passes on reprokit itself', () => {
    const { status, output } = ws.nx('run-many', '-t', 'pins', '--output-style=static');
    assert.equal(status, 0, output);
    assert.match(output, /\[asdf:pins\] \d+ files, 0 findings/);
  });

  it('fails on an unpinned base image, naming file, line, column and rule, and writes SARIF', () => {
    ws.write('packages/asdf/Dockerfile', '# a base by tag\nFROM alpine:3.19\n');
    const { status, output } = ws.nx('run', 'asdf:pins', '--format=sarif', '--outputFile=dist/pins.sarif');
    assert.notEqual(status, 0, output);
    const sarif = JSON.parse(ws.read('dist/pins.sarif'));
    assert.equal(sarif.version, '2.1.0');
    const [result] = sarif.runs[0].results;
    assert.equal(result.ruleId, 'docker-from-unpinned');
    assert.equal(result.locations[0].physicalLocation.artifactLocation.uri, 'packages/asdf/Dockerfile');
    assert.deepEqual(result.locations[0].physicalLocation.region, { startLine: 2, startColumn: 6 });
    const text = ws.nx('run', 'asdf:pins');
    assert.match(text.output, /packages\/asdf\/Dockerfile:2:6 error docker-from-unpinned FROM alpine:3\.19/);
  });

  it('affected -t pins picks the project whose files changed', () => {
    const base = ws.commit('unpinned Dockerfile');
    ws.write('packages/asdf/Dockerfile', 'FROM scratch\n');
    const shown = ws.nx('show', 'projects', '--affected', '-t', 'pins', `--base=${base}`).output;
    assert.deepEqual(shown.trim().split('\n').filter((line) => /^[\w@/-]+$/.test(line)).sort(), ['asdf']);
    assert.equal(ws.nx('run', 'asdf:pins').status, 0);
  });
});
