import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { scanPins } from './scan';

const CORPUS = join(__dirname, '..', '..', 'test-fixtures', 'pins');

/**
 * Each case is a directory of test-fixtures/pins scanned as a repository, with every finding it must
 * produce as `file:line:column rule`; nothing else may be reported, so the cases without findings
 * (and the pinned lines in the others) guard against false positives.
 */
const CASES: [string, string[]][] = [
  ['docker-tag', ['Dockerfile:1:6 docker-from-unpinned']],
  ['docker-no-tag', ['Dockerfile:1:6 docker-from-unpinned']],
  ['docker-latest', ['Dockerfile:1:6 docker-from-unpinned']],
  ['docker-pinned-digest', []],
  ['docker-pinned-tag-and-digest', []],
  ['docker-arg-expanded', ['Dockerfile:2:6 docker-from-unpinned']],
  ['docker-arg-braced-pinned', []],
  ['docker-arg-no-default', ['Dockerfile:2:6 docker-from-unpinned']],
  ['docker-arg-default-operator', ['Dockerfile:2:6 docker-from-unpinned']],
  ['docker-arg-in-stage-not-global', ['Dockerfile:3:6 docker-from-unpinned']],
  ['docker-multi-stage', []],
  ['docker-copy-from-image', ['Dockerfile:2:13 docker-from-unpinned']],
  ['docker-platform', ['Dockerfile:1:32 docker-from-unpinned']],
  ['docker-commented', []],
  ['docker-continued-run', ['Dockerfile:4:5 download-piped-to-shell']],
  ['docker-run-quoted-pipe', []],
  ['docker-run-exec-form', ['Dockerfile:2:19 download-piped-to-shell', 'Dockerfile:3:7 cargo-unlocked']],
  ['docker-run-npm', ['Dockerfile:2:5 npm-install-not-ci', 'Dockerfile:4:20 npm-install-unpinned']],
  ['docker-run-heredoc', ['Dockerfile:4:1 download-piped-to-shell']],
  ['docker-add-url', ['Dockerfile:2:5 docker-add-unverified', 'Dockerfile:4:5 docker-add-unverified']],
  ['docker-run-cargo', ['Dockerfile:2:5 cargo-unlocked']],
  ['docker-containerfile', ['Containerfile:1:6 docker-from-unpinned']],
  ['docker-name-suffixes', ['app.Dockerfile:1:6 docker-from-unpinned', 'Dockerfile.dev:1:6 docker-from-unpinned']],
  ['docker-pip', ['Dockerfile:4:5 pip-unhashed']],
  ['docker-onbuild', ['Dockerfile:2:13 download-piped-to-shell']],
  ['docker-mount-from', ['Dockerfile:2:28 docker-from-unpinned']],
  // An install no lock covers, versioned or not (a lock entry for another line does not cover it).
  ['docker-apt-unlocked', ['Dockerfile:2:23 apt-install-unlocked', 'Dockerfile:4:5 apt-install-unlocked']],
  ['docker-apt-locked', ['Dockerfile:4:5 apt-install-unlocked']],
  ['sh-curl-pipe', ['install.sh:2:1 download-piped-to-shell']],
  ['sh-wget-sudo-bash', ['install.sh:1:1 download-piped-to-shell']],
  ['sh-c-substitution', ['a.sh:1:10 download-piped-to-shell']],
  ['sh-process-substitution', ['a.sh:1:8 download-piped-to-shell']],
  ['sh-eval', ['a.sh:1:9 download-piped-to-shell']],
  ['sh-quoted-pipe', []],
  ['sh-comments', []],
  ['sh-heredoc-skipped', ['a.sh:8:1 cargo-unlocked']],
  ['sh-continued-line', ['a.sh:3:3 container-image-unpinned']],
  ['sh-docker-options', ['a.sh:1:88 container-image-unpinned', 'a.sh:2:42 container-image-unpinned', 'a.sh:3:22 container-image-unpinned']],
  ['sh-docker-pinned', []],
  ['sh-podman-buildah', ['a.sh:1:15 container-image-unpinned', 'a.sh:2:23 container-image-unpinned']],
  ['sh-cargo', ['a.sh:1:1 cargo-unlocked', 'a.sh:1:15 cargo-install-unpinned', 'a.sh:2:24 cargo-install-unpinned', 'a.sh:3:1 cargo-unlocked', 'a.sh:6:1 cargo-unlocked']],
  ['sh-npm-bare-install', ['a.sh:1:1 npm-install-not-ci']],
  ['sh-pip', ['a.sh:1:1 pip-unhashed', 'a.sh:3:1 pip-unhashed', 'a.sh:5:1 pip-unhashed']],
  ['sh-go', ['a.sh:2:12 go-install-latest', 'a.sh:3:8 go-install-latest']],
  ['sh-shebang-no-extension', ['bootstrap:3:1 download-piped-to-shell']],
  ['sh-backticks-and-sh-c', ['a.sh:1:4 download-piped-to-shell', 'a.sh:2:8 download-piped-to-shell']],
  ['sh-arrays-and-functions', ['a.sh:3:15 container-image-unpinned', 'a.sh:5:15 cargo-unlocked']],
  ['make-variables', ['Makefile:6:19 container-image-unpinned', 'Makefile:8:3 cargo-unlocked']],
  ['make-continued-and-comments', ['Makefile:3:2 download-piped-to-shell']],
  ['make-dollar-dollar', []],
  ['pkgbuild-skip-remote', ['PKGBUILD:3:9 pkgbuild-source-unverified', 'PKGBUILD:4:9 pkgbuild-local-skip']],
  ['pkgbuild-verified', []],
  ['pkgbuild-missing-sum', ['PKGBUILD:2:9 pkgbuild-source-unverified']],
  ['pkgbuild-md5-only', ['PKGBUILD:1:9 pkgbuild-source-unverified']],
  ['pkgbuild-vcs', ['PKGBUILD:3:9 pkgbuild-vcs-unpinned', 'PKGBUILD:4:9 pkgbuild-vcs-unpinned', 'PKGBUILD:5:9 pkgbuild-vcs-unpinned']],
  ['pkgbuild-arch-suffixed', ['PKGBUILD:1:16 pkgbuild-source-unverified']],
  ['pkgbuild-functions', ['PKGBUILD:4:3 cargo-unlocked']],
  ['lock-cargo-missing', ['Cargo.toml:1:1 cargo-lockfile-missing']],
  ['lock-cargo-present', []],
  ['lock-cargo-workspace-member', []],
  ['lock-cargo-vendored', []],
  ['lock-cargo-path-dependency', []],
  ['lock-cargo-workspace-no-lock', ['Cargo.toml:1:1 cargo-lockfile-missing', 'crates/a/Cargo.toml:1:1 cargo-lockfile-missing']],
  ['lock-npm-missing', ['package.json:1:1 npm-lockfile-missing']],
  ['lock-npm-ancestor', []],
  ['lock-npm-no-deps', []],
  ['lock-yarn-and-pnpm', []],
  ['wf-tags', ['.github/workflows/ci.yml:6:15 actions-unpinned', '.github/workflows/ci.yml:9:15 actions-unpinned', '.github/workflows/ci.yml:11:15 actions-unpinned', '.github/workflows/ci.yml:12:15 actions-unpinned']],
  ['wf-reusable', ['.github/workflows/call.yaml:4:11 actions-unpinned']],
  ['wf-anchors', ['.github/workflows/ci.yml:7:15 actions-unpinned', '.github/workflows/ci.yml:19:22 actions-unpinned']],
  ['wf-run-blocks', ['.github/workflows/ci.yml:8:11 npm-install-not-ci', '.github/workflows/ci.yml:10:11 download-piped-to-shell', '.github/workflows/ci.yml:11:14 cargo-unlocked', '.github/workflows/ci.yml:16:11 container-image-unpinned', '.github/workflows/ci.yml:18:26 go-install-latest']],
  ['wf-container-services', ['.github/workflows/ci.yml:5:16 container-image-unpinned', '.github/workflows/ci.yml:8:16 container-image-unpinned']],
  ['wf-quoted-and-not-workflow', ['.github/workflows/ci.yml:6:16 actions-unpinned']],
  ['wf-broken-yaml', ['.github/workflows/ci.yml:5:3 pins-unparsable']],
  ['action-composite', ['action.yml:5:13 actions-unpinned', 'action.yml:7:12 pip-unhashed']],
];

describe('pin rules on the fixture corpus', () => {
  for (const [name, expected] of CASES) {
    it(name, async () => {
      const [result] = await scanPins([join(CORPUS, name)], { today: '2026-01-01' });
      const actual = result.findings.map((finding) => `${finding.file}:${finding.line}:${finding.column} ${finding.rule}`);
      assert.deepEqual(actual.sort(), [...expected].sort());
    });
  }

  it('covers every rule with a positive case, and has enough cases', () => {
    const covered = new Set(CASES.flatMap(([, expected]) => expected.map((finding) => finding.split(' ')[1])));
    for (const rule of ['docker-from-unpinned', 'docker-add-unverified', 'container-image-unpinned', 'download-piped-to-shell', 'cargo-unlocked', 'npm-install-not-ci', 'pip-unhashed', 'go-install-latest', 'cargo-lockfile-missing', 'npm-lockfile-missing', 'pkgbuild-source-unverified', 'pkgbuild-vcs-unpinned', 'pkgbuild-local-skip', 'actions-unpinned', 'pins-unparsable']) {
      assert.ok(covered.has(rule), `no positive case for ${rule}`);
    }
    assert.ok(CASES.length >= 60);
  });
});
