/**
 * The pin-policy catalogue: every external input a build reads must be addressed by its content
 * hash, otherwise the chain of custody is broken. Each rule names one way an input slips through.
 */

export type Severity = 'error' | 'warning' | 'note';

export const SEVERITIES: readonly Severity[] = ['error', 'warning', 'note'];

/** Higher is worse; `--fail-on` compares against it. */
export const SEVERITY_RANK: Record<Severity, number> = { note: 1, warning: 2, error: 3 };

export interface RuleDefinition {
  id: string;
  defaultSeverity: Severity;
  /** One line: what the rule finds (SARIF shortDescription). */
  summary: string;
  /** What to do about a finding (SARIF help, and `fix` of each finding). */
  fix: string;
}

/** One problem in one file. `file` is relative to the repository root, with `/` separators. */
export interface Finding {
  rule: string;
  severity: Severity;
  file: string;
  /** 1-based. */
  line: number;
  /** 1-based, in UTF-16 code units (SARIF's default column kind). */
  column: number;
  message: string;
  fix: string;
}

/** What a checker reports before the policy gives it a severity and the scanner a file name. */
export interface RawFinding {
  rule: string;
  line: number;
  column: number;
  message: string;
}

/** `3 findings (2 error, 1 warning, 0 note)`: the one-line summary of a scan. */
export function summarizeFindings(findings: readonly Finding[]): string {
  const counts = SEVERITIES.map((severity) => `${findings.filter((finding) => finding.severity === severity).length} ${severity}`).join(', ');
  return `${findings.length} findings (${counts})`;
}

/** Whether any finding is at least as severe as `failOn`: what makes a check fail. */
export function reachesSeverity(findings: readonly Finding[], failOn: Severity): boolean {
  return findings.some((finding) => SEVERITY_RANK[finding.severity] >= SEVERITY_RANK[failOn]);
}

export const RULES: readonly RuleDefinition[] = [
  {
    id: 'docker-from-unpinned',
    defaultSeverity: 'error',
    summary: 'A Dockerfile image (FROM, COPY --from, RUN --mount from=) is not pinned by digest',
    fix: 'Pin the image by digest: `name:tag@sha256:<64 hex>` (`docker buildx imagetools inspect name:tag` prints it).',
  },
  {
    id: 'docker-add-unverified',
    defaultSeverity: 'error',
    summary: 'A Dockerfile ADD downloads a URL without --checksum, or a git repository without a commit',
    fix: 'Add `--checksum=sha256:<64 hex>` to ADD of a URL; for a git source, end the URL with `#<40-hex commit>`.',
  },
  {
    id: 'container-image-unpinned',
    defaultSeverity: 'error',
    summary: 'A container image run or pulled by a command or a workflow is not pinned by digest',
    fix: 'Refer to the image as `name:tag@sha256:<64 hex>`.',
  },
  {
    id: 'download-piped-to-shell',
    defaultSeverity: 'error',
    summary: 'A downloaded script is executed without checking its hash (curl/wget piped into a shell)',
    fix: 'Download to a file, check it with `sha256sum -c` against a committed hash, then run it.',
  },
  {
    id: 'download-then-run',
    defaultSeverity: 'error',
    summary: 'A file fetched by curl, wget, gsutil or aws is executed later (./f, sh f, source f, python f) without a hash check',
    fix: 'Check the file before running it: `echo "<sha256>  f" | sha256sum -c -` with the hash committed, or `gpg --verify f.asc f`; or fetch it from a URL that names a full commit.',
  },
  {
    id: 'cargo-unlocked',
    defaultSeverity: 'error',
    summary: 'cargo build/install/run without --locked may resolve other dependency versions than Cargo.lock',
    fix: 'Add `--locked` (or `--frozen`).',
  },
  {
    id: 'cargo-install-unpinned',
    defaultSeverity: 'error',
    summary: 'cargo install of a crate without an exact version, or from git without a full --rev',
    fix: 'Name the version: `cargo install --locked CRATE@X.Y.Z`; for git, `--rev <40-hex commit>`.',
  },
  {
    id: 'npm-install-unpinned',
    defaultSeverity: 'error',
    summary: 'npm/yarn/pnpm install or add of a package without an exact version, a global install, or an update',
    fix: 'Declare the package in package.json and install with `npm ci`; for a one-off tool, `npm install PKG@X.Y.Z` (a git dependency needs `#<40-hex commit>`).',
  },
  {
    id: 'npm-install-not-ci',
    defaultSeverity: 'warning',
    summary: '`npm install` in CI or a Dockerfile may rewrite package-lock.json instead of installing it',
    fix: 'Use `npm ci`, which installs exactly what package-lock.json records and fails if it is out of date.',
  },
  {
    id: 'apt-install-unlocked',
    defaultSeverity: 'error',
    summary: 'A Dockerfile RUN installs Debian packages (apt-get/apt install) that no `<Dockerfile>.lock.json` locks: apt takes whatever the archive has on the day of the build (hadolint DL3008 for unversioned ones)',
    fix: 'Run `reprokit oci lock DOCKERFILE`: it locks every install of the RUN instructions by version and sha256 into `<Dockerfile>.lock.json`, and reprokit builds them offline from it.',
  },
  {
    id: 'pip-unhashed',
    defaultSeverity: 'error',
    summary: 'pip install without hash checking',
    fix: 'Install from a requirements file with `--hash=sha256:…` on every line (`pip-compile --generate-hashes`), with `--require-hashes`.',
  },
  {
    id: 'go-install-latest',
    defaultSeverity: 'error',
    summary: 'go get/install/run of a moving version (@latest, @upgrade, @patch, a branch, a tag, @v1.2), go get without a version, -u or -insecure',
    fix: 'Name a full semantic version (`@v1.2.3`) or a commit; go.sum and the checksum database then pin its content.',
  },
  {
    id: 'gem-install-unpinned',
    defaultSeverity: 'error',
    summary: 'gem install without an exact version (-v X.Y.Z or NAME:X.Y.Z)',
    fix: 'Add `-v X.Y.Z`, or declare the gem in a Gemfile with a committed Gemfile.lock and `bundle install --frozen`.',
  },
  {
    id: 'choco-unverified',
    defaultSeverity: 'error',
    summary: 'choco install without --requirechecksums',
    fix: 'Add `--requirechecksums` (and `--version X.Y.Z`).',
  },
  {
    id: 'nuget-unlocked',
    defaultSeverity: 'error',
    summary: 'NuGet packages installed without a version (nuget install, dotnet add package) or restored without locked mode',
    fix: 'Commit packages.lock.json and restore with `--locked-mode` (dotnet), `-LockedMode` (nuget) or `/p:RestoreLockedMode=true` (msbuild); give `-Version`/`--version` when adding.',
  },
  {
    id: 'cargo-lockfile-missing',
    defaultSeverity: 'error',
    summary: 'A Cargo project has no committed Cargo.lock',
    fix: 'Run `cargo generate-lockfile` and commit Cargo.lock.',
  },
  {
    id: 'npm-lockfile-missing',
    defaultSeverity: 'error',
    summary: 'A package.json with dependencies has no lockfile beside it or above it',
    fix: 'Run `npm install --package-lock-only` (or your package manager\'s equivalent) and commit the lockfile.',
  },
  {
    id: 'pkgbuild-source-unverified',
    defaultSeverity: 'error',
    summary: 'A PKGBUILD downloads a source whose checksum is SKIP or missing',
    fix: 'Record the checksum with `updpkgsums` (sha256sums, sha512sums or b2sums).',
  },
  {
    id: 'pkgbuild-vcs-unpinned',
    defaultSeverity: 'error',
    summary: 'A PKGBUILD VCS source is not pinned to a commit (a branch or a tag can move)',
    fix: 'End the source with `#commit=<full commit hash>`, or record a checksum for a `#tag=` source (makepkg >= 6.1).',
  },
  {
    id: 'pkgbuild-local-skip',
    defaultSeverity: 'note',
    summary: 'A PKGBUILD local source has its checksum SKIPped (the file is in the repository, so it is covered by the commit)',
    fix: 'Record its checksum with `updpkgsums` to make the PKGBUILD self-verifying.',
  },
  {
    id: 'actions-unpinned',
    defaultSeverity: 'error',
    summary: 'A GitHub Action or reusable workflow is not pinned by a full commit SHA (tags and branches can move)',
    fix: 'Use `owner/repo@<40-hex commit>  # vX.Y.Z`.',
  },
  {
    id: 'env-lock-unservable',
    defaultSeverity: 'error',
    summary: 'An environment lock has packages that no source (the .deb cache, a package vault, apt, snapshot, a mirror) can serve now',
    fix: 'Store the .debs in a package vault while some machine still has them (`reprokit env vault push LOCK --registry R`), or re-lock from a suite that keeps its versions (`reprokit env lock`); `reprokit env check LOCK` lists each source.',
  },
  {
    id: 'policy-exemption-expired',
    defaultSeverity: 'warning',
    summary: 'An exemption in the pin policy has expired and no longer applies',
    fix: 'Fix the findings it covered, or renew the exemption with a new date and reason.',
  },
  {
    id: 'pins-unparsable',
    defaultSeverity: 'error',
    summary: 'A file that may pull external inputs could not be parsed (or exceeded a nesting or work bound), so it was not checked',
    fix: 'Fix the syntax error, or simplify the file below the bound named in the message.',
  },
  {
    id: 'pins-file-unchecked',
    defaultSeverity: 'error',
    summary: 'A file that can pull external inputs (Dockerfile, workflow, script, manifest) was not checked: binary, too large or unreadable',
    fix: 'Make it a readable text file under the size bound, or exempt it in reprokit.pins.json with a reason.',
  },
  {
    id: 'pins-file-skipped',
    defaultSeverity: 'note',
    summary: 'A file was not checked because it is binary (it has no shell shebang, so it is not a script)',
    fix: 'Nothing to do if it is not a script; otherwise make it text.',
  },
];

const byId = new Map(RULES.map((rule) => [rule.id, rule]));

export function ruleById(id: string): RuleDefinition {
  const rule = byId.get(id);
  if (!rule) throw new Error(`unknown pin rule ${id}`);
  return rule;
}

export const RULE_IDS: readonly string[] = RULES.map((rule) => rule.id);

/** A container image reference is pinned when it carries a content digest. */
export function isPinnedImage(reference: string): boolean {
  return /@sha256:[0-9a-f]{64}$/.test(reference) || /@sha512:[0-9a-f]{128}$/.test(reference);
}
