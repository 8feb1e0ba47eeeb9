import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../testing/fixtures';
import { scanPins } from './scan';

/**
 * Cases for the constructs of issue 13, written from the tools' documentation (curl, wget, gsutil,
 * aws, npm, go, gem, choco, NuGet, pip, cargo, GitHub Actions, Dockerfile reference) and from the
 * shapes real pipelines use. Each case is a small repository: every finding it must produce as
 * `file:line:column rule`, and nothing else, so the negative cases guard against false positives.
 */
const COMMIT = '8f4b2e1c9d7a6b5f3e2d1c0b9a8f7e6d5c4b3a29';
const DIGEST = `sha256:${'4d5e6f'.repeat(10)}a1b2`;
const SUM = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const IMAGE = `debian:12@${DIGEST}`;

type Case = [name: string, files: Record<string, string>, expected: string[]];

/** A workflow with one job of the given steps (already indented as a YAML sequence under `steps:`). */
const workflow = (steps: string, job = 'runs-on: ubuntu-latest') => ({
  '.github/workflows/ci.yml': `on: push\njobs:\n  build:\n    ${job}\n    steps:\n${steps}`,
});

const DOWNLOAD_THEN_RUN: Case[] = [
  ['curl -o, then sh', { 'a.sh': 'curl -fsSL -o install.sh https://get.example.com/install.sh\nsh install.sh\n' }, ['a.sh:2:4 download-then-run']],
  ['curl -O (in a cluster), chmod, ./f', { 'a.sh': 'curl -fsSLO https://example.com/tools/setup.sh\nchmod +x setup.sh && ./setup.sh\n' }, ['a.sh:2:22 download-then-run']],
  ['wget names the file after the URL', { 'a.sh': 'wget https://example.com/get-tool.sh\nbash get-tool.sh --yes\n' }, ['a.sh:2:6 download-then-run']],
  ['wget -qO then source', { 'a.sh': 'wget -qO /tmp/env.sh https://example.com/env.sh\nsource /tmp/env.sh\n' }, ['a.sh:2:8 download-then-run']],
  ['a > redirect, then . ./f', { 'a.sh': 'curl -s https://example.com/profile > profile.sh\n. ./profile.sh\n' }, ['a.sh:2:3 download-then-run']],
  ['--output=, then run by path', { 'a.sh': 'curl --output=tool https://example.com/tool\n./tool --version\n' }, ['a.sh:2:1 download-then-run']],
  ['--output-dir with -O', { 'a.sh': 'curl -O --output-dir /opt https://example.com/i.sh\nsh /opt/i.sh\n' }, ['a.sh:2:4 download-then-run']],
  ['wget -P prefix', { 'a.sh': 'wget -P /opt https://example.com/i.sh\nbash /opt/i.sh\n' }, ['a.sh:2:6 download-then-run']],
  ['gsutil cp into a directory', { 'a.sh': 'gsutil cp gs://bucket/setup.sh /tmp/\nbash /tmp/setup.sh\n' }, ['a.sh:2:6 download-then-run']],
  ['gcloud storage cp', { 'a.sh': 'gcloud storage cp gs://bucket/setup.sh setup.sh\n./setup.sh\n' }, ['a.sh:2:1 download-then-run']],
  ['gsutil without cp is not a command', { 'a.sh': 'gsutil gs://bucket/setup.sh setup.sh\n./setup.sh\n' }, []],
  ['Mercurial at a hash, Subversion never', { 'a.sh': `pip install --no-deps -e hg+https://hg.example.com/r@${COMMIT}#egg=r\npip install --no-deps -e svn+https://svn.example.com/r@${COMMIT}#egg=r\n` }, ['a.sh:2:1 pip-unhashed']],
  ['curl | bash /dev/stdin', { 'a.sh': 'curl -sSL https://dot.net/v1/dotnet-install.sh | bash /dev/stdin --channel 8.0\n' }, ['a.sh:1:1 download-piped-to-shell']],
  ['aws s3 cp', { 'a.sh': 'aws s3 cp s3://bucket/bootstrap.sh ./bootstrap.sh\nsh ./bootstrap.sh\n' }, ['a.sh:2:4 download-then-run']],
  ['aws s3api get-object', { 'a.sh': 'aws s3api get-object --bucket b --key k/run.py run.py\npython3 run.py\n' }, ['a.sh:2:9 download-then-run']],
  ['python runs get-pip.py', { 'a.sh': 'curl -sSLo get-pip.py https://bootstrap.pypa.io/get-pip.py\npython3 get-pip.py\n' }, ['a.sh:2:9 download-then-run']],
  ['one line joined by &&', { 'a.sh': 'curl -o x.sh https://example.com/x.sh && sh x.sh\n' }, ['a.sh:1:45 download-then-run']],
  ['exec and sudo in front', { 'a.sh': 'wget -O i https://example.com/i\nchmod 755 i\nsudo ./i\nexec ./i\n' }, ['a.sh:3:6 download-then-run', 'a.sh:4:6 download-then-run']],
  ['a binary fetched onto the PATH, run by name', { 'a.sh': 'curl -fsSLo /usr/local/bin/kubectl https://dl.example.com/kubectl\nchmod +x /usr/local/bin/kubectl\nkubectl version\n' }, ['a.sh:3:1 download-then-run']],
  ['fetched elsewhere, a command of that name is another file', { 'a.sh': 'curl -fsSLo /tmp/kubectl https://dl.example.com/kubectl\nkubectl version\n' }, []],
  ['an archive fetched and unpacked is not run', { 'a.sh': 'wget https://example.com/tool.tar.gz && tar xzf tool.tar.gz\n' }, []],
  ['checked by echo | sha256sum -c', { 'a.sh': `curl -o i.sh https://example.com/i.sh\necho "${SUM}  i.sh" | sha256sum -c -\nsh i.sh\n` }, []],
  ['checked by a list the script writes', { 'a.sh': `curl -o i.sh https://example.com/i.sh\nprintf '%s  %s\\n' ${SUM} i.sh > SUMS\nsha256sum --check SUMS\nsh i.sh\n` }, []],
  ['checked by a committed list', { 'a.sh': 'curl -o i.sh https://example.com/i.sh\nsha256sum -c i.sh.sha256\nsh i.sh\n', 'i.sh.sha256': `${SUM}  i.sh\n` }, []],
  ['a committed list that names another file', { 'a.sh': 'curl -o i.sh https://example.com/i.sh\nsha256sum -c other.sha256\nsh i.sh\n', 'other.sha256': `${SUM}  other.tgz\n` }, ['a.sh:3:4 download-then-run']],
  ['a list fetched beside the file vouches for nothing', { 'a.sh': 'curl -O https://example.com/i.sh\ncurl -O https://example.com/i.sh.sha256\nsha256sum -c i.sh.sha256\nsh i.sh\n' }, ['a.sh:4:4 download-then-run']],
  ['gpg --verify of a detached signature', { 'a.sh': 'curl -O https://example.com/i.sh\ncurl -O https://example.com/i.sh.asc\ngpg --verify i.sh.asc i.sh\nsh i.sh\n' }, []],
  ['hash compared in a test', { 'a.sh': `curl -o i.sh https://example.com/i.sh\n[ "$(sha256sum i.sh | cut -d' ' -f1)" = "${SUM}" ] || exit 1\nsh i.sh\n` }, []],
  ['sha256sum without -c checks nothing', { 'a.sh': 'curl -o i.sh https://example.com/i.sh\nsha256sum i.sh\nsh i.sh\n' }, ['a.sh:3:4 download-then-run']],
  ['run before it is fetched', { 'a.sh': 'sh i.sh\ncurl -o i.sh https://example.com/i.sh\n' }, []],
  ['a URL at a full commit', { 'a.sh': `curl -o i.sh https://raw.githubusercontent.com/o/r/${COMMIT}/i.sh\nsh i.sh\n` }, []],
  ['a pinned download over an unpinned one', { 'a.sh': `curl -o i.sh https://example.com/i.sh\ncurl -o i.sh https://raw.githubusercontent.com/o/r/${COMMIT}/i.sh\nsh i.sh\n` }, []],
  ['inside bash -c', { 'a.sh': 'bash -c "curl -fsSL -o /tmp/i.sh https://example.com/i.sh && bash /tmp/i.sh"\n' }, ['a.sh:1:67 download-then-run']],
  ['fetched outside, run inside sudo bash -c', { 'a.sh': "curl -o k.sh https://example.com/k.sh\nsudo -E bash -c 'sh k.sh'\n" }, ['a.sh:2:21 download-then-run']],
  ['inside su -c', { 'a.sh': 'su -c "wget -O /tmp/a.sh https://example.com/a.sh; sh /tmp/a.sh" root\n' }, ['a.sh:1:55 download-then-run']],
  ['inside eval', { 'a.sh': 'eval "curl -o e.sh https://example.com/e.sh; . ./e.sh"\n' }, ['a.sh:1:48 download-then-run']],
  ['across RUN lines of a stage', { Dockerfile: `FROM ${IMAGE}\nRUN curl -fsSLo /tmp/i.sh https://example.com/i.sh\nRUN sh /tmp/i.sh\n` }, ['Dockerfile:3:8 download-then-run']],
  ['a new stage has another filesystem', { Dockerfile: `FROM ${IMAGE} AS a\nRUN curl -fsSLo /tmp/i.sh https://example.com/i.sh\nFROM ${IMAGE}\nRUN sh /tmp/i.sh\n` }, []],
  ['a stage FROM that stage has its files', { Dockerfile: `FROM ${IMAGE} AS a\nRUN curl -fsSLo /tmp/i.sh https://example.com/i.sh\nFROM a\nRUN sh /tmp/i.sh\n` }, ['Dockerfile:4:8 download-then-run']],
  ['RUN heredoc', { Dockerfile: `FROM ${IMAGE}\nRUN <<EOF\ncurl -o /i.sh https://example.com/i.sh\nsh /i.sh\nEOF\n` }, ['Dockerfile:4:4 download-then-run']],
  [
    'across steps of a job',
    workflow('      - run: curl -fsSLo install.sh https://example.com/install.sh\n      - run: |\n          chmod +x install.sh\n          ./install.sh\n'),
    ['.github/workflows/ci.yml:9:11 download-then-run'],
  ],
  [
    'not across jobs',
    {
      '.github/workflows/ci.yml':
        'on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: curl -o i.sh https://example.com/i.sh\n  b:\n    runs-on: ubuntu-latest\n    steps:\n      - run: sh i.sh\n',
    },
    [],
  ],
];

const PIPED: Case[] = [
  ['bash <(curl …)', { 'a.sh': 'bash <(curl -s https://example.com/i.sh)\n' }, ['a.sh:1:8 download-piped-to-shell']],
  ['python3 <(curl …)', { 'a.sh': 'python3 <(curl -s https://example.com/get.py)\n' }, ['a.sh:1:11 download-piped-to-shell']],
  ['source <(curl …)', { 'a.sh': 'source <(curl -fsSL https://example.com/env)\n' }, ['a.sh:1:10 download-piped-to-shell']],
  ['curl | python3 -', { 'a.sh': 'curl -sSL https://install.python-poetry.org | python3 -\n' }, ['a.sh:1:1 download-piped-to-shell']],
  ['curl | python3 -c reads data, not a script', { 'a.sh': "curl -s https://api.github.com/repos/o/r/releases/latest | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"tag_name\"])'\n" }, []],
  ['curl | tee | sudo sh -s', { 'a.sh': 'curl -fsSL https://example.com/i | tee log | sudo sh -s -- -y\n' }, ['a.sh:1:1 download-piped-to-shell']],
  ['curl | bash of a commit URL', { 'a.sh': `curl -fsSL https://raw.githubusercontent.com/o/r/${COMMIT}/install.sh | bash\n` }, []],
  ['gitlab raw at a commit', { 'a.sh': `curl https://gitlab.com/o/r/-/raw/${COMMIT}/install.sh | sh\n` }, []],
  ['an abbreviated commit is not a pin', { 'a.sh': 'curl https://raw.githubusercontent.com/o/r/abc1234/install.sh | sh\n' }, ['a.sh:1:1 download-piped-to-shell']],
  ['curl | bash FILE runs the file, not the download', { 'a.sh': 'curl -s https://example.com/data | bash ./consume.sh\n' }, []],
  ['wget -qO- | perl', { 'a.sh': 'wget -qO- https://example.com/cpanm | perl - App::cpanminus\n' }, ['a.sh:1:1 download-piped-to-shell']],
  ['curl | node', { 'a.sh': 'curl -fsSL https://example.com/setup.js | node\n' }, ['a.sh:1:1 download-piped-to-shell']],
];

const DOCKERFILE: Case[] = [
  ['exec form runs no shell', { Dockerfile: `FROM ${IMAGE}\nRUN ["curl", "-fsSL", "https://example.com/x | sh"]\n` }, []],
  ['exec form with sh -c', { Dockerfile: `FROM ${IMAGE}\nRUN ["/bin/sh", "-c", "curl -fsSL https://example.com/x | sh"]\n` }, ['Dockerfile:2:24 download-piped-to-shell']],
  ['SHELL pwsh is not read as sh', { Dockerfile: `FROM ${IMAGE}\nSHELL ["pwsh", "-Command"]\nRUN iwr https://example.com/i.ps1 | iex; curl https://example.com/x | sh\n` }, []],
  ['SHELL bash is', { Dockerfile: `FROM ${IMAGE}\nSHELL ["/bin/bash", "-o", "pipefail", "-c"]\nRUN curl https://example.com/x | bash\n` }, ['Dockerfile:3:5 download-piped-to-shell']],
  ['a stage FROM another inherits its SHELL', { Dockerfile: `FROM ${IMAGE} AS win\nSHELL ["cmd", "/S", "/C"]\nFROM win\nRUN curl https://example.com/x | sh\n` }, []],
  ['FROM x@sha256:${ARG} without a default', { Dockerfile: 'ARG DIGEST\nFROM alpine@sha256:${DIGEST}\n' }, ['Dockerfile:2:6 docker-from-unpinned']],
  ['FROM x@sha256:${ARG} with a digest default', { Dockerfile: `ARG DIGEST=${DIGEST.slice(7)}\nFROM alpine@sha256:\${DIGEST}\n` }, []],
  ['an unpinned image is reported where it is named, not at FROM stage', { Dockerfile: 'FROM golang:1.22 AS build\nFROM build AS test\nFROM Build\nCOPY --from=build /x /x\n' }, ['Dockerfile:1:6 docker-from-unpinned']],
  ['ADD of an archive at a commit', { Dockerfile: `FROM ${IMAGE}\nADD https://github.com/o/r/archive/${COMMIT}.tar.gz /src.tgz\n` }, []],
  ['ADD of a tag archive', { Dockerfile: `FROM ${IMAGE}\nADD https://github.com/o/r/archive/refs/tags/v1.2.3.tar.gz /src.tgz\n` }, ['Dockerfile:2:5 docker-add-unverified']],
];

const PACKAGE_MANAGERS: Case[] = [
  ['npm install PKG', { 'a.sh': 'npm install typescript\n' }, ['a.sh:1:13 npm-install-unpinned']],
  ['npm install exact versions', { 'a.sh': 'npm install --save-dev typescript@5.4.5 @types/node@20.11.30\n' }, []],
  ['npm i a range, npm add a tag', { 'a.sh': 'npm i lodash@^4.17.0\nnpm add react@latest\n' }, ['a.sh:1:7 npm-install-unpinned', 'a.sh:2:9 npm-install-unpinned']],
  ['npm install -g, even exact', { 'a.sh': 'npm install -g npm@10.5.0\n' }, ['a.sh:1:16 npm-install-unpinned']],
  ['npm git dependency at a commit or a branch', { 'a.sh': `npm install github:o/r#${COMMIT}\nnpm install github:o/r#main\n` }, ['a.sh:2:13 npm-install-unpinned']],
  ['npm local directory and tarball', { 'a.sh': 'npm install ./packages/a ../b/b-1.0.0.tgz\n' }, []],
  ['npm update', { 'a.sh': 'npm update\n' }, ['a.sh:1:1 npm-install-unpinned']],
  ['npm install-test in CI', workflow('      - run: npm install-test\n      - run: npm ci\n'), ['.github/workflows/ci.yml:6:14 npm-install-not-ci']],
  // As Scorecard: `npm install` may rewrite package-lock.json wherever it runs; only `npm ci` installs exactly the lock.
  ['a bare npm install in a script and a Makefile', { 'a.sh': 'npm install\nnpm i --no-audit\nnpm ci\n', Makefile: 'deps:\n\tnpm install\n' }, ['a.sh:1:1 npm-install-not-ci', 'a.sh:2:1 npm-install-not-ci', 'Makefile:2:2 npm-install-not-ci']],
  // npm links the current directory into the global prefix: no lockfile applies.
  ['npm install -g with no package', { ...workflow('      - run: npm install -g\n'), 'a.sh': 'npm i --global\n' }, ['.github/workflows/ci.yml:6:14 npm-install-unpinned', 'a.sh:1:1 npm-install-unpinned']],
  ['yarn add', { 'a.sh': 'yarn add react\nyarn add react@18.2.0\nyarn global add serve@14.2.1\n' }, ['a.sh:1:10 npm-install-unpinned', 'a.sh:3:17 npm-install-unpinned']],
  ['pnpm add', { 'a.sh': 'pnpm add -D vitest\npnpm add -D vitest@1.6.0\npnpm install --frozen-lockfile\n' }, ['a.sh:1:13 npm-install-unpinned']],
  [
    'go install at moving versions',
    {
      'a.sh': [
        'go install golang.org/x/tools/cmd/goimports@latest',
        'go install example.com/m/cmd/t@main',
        'go install example.com/m/cmd/t@v1',
        'go install example.com/m/cmd/t@v1.2',
        'go install example.com/m/cmd/t@some_tag',
        'go get example.com/m@upgrade',
        'go get example.com/m@patch',
      ].join('\n'),
    },
    ['a.sh:1:12 go-install-latest', 'a.sh:2:12 go-install-latest', 'a.sh:3:12 go-install-latest', 'a.sh:4:12 go-install-latest', 'a.sh:5:12 go-install-latest', 'a.sh:6:8 go-install-latest', 'a.sh:7:8 go-install-latest'],
  ],
  [
    'go install at fixed versions',
    {
      'a.sh': `go install golang.org/x/tools/cmd/stringer@v0.20.0\ngo install example.com/m@v0.0.0-20240101000000-abcdef123456\ngo install example.com/m@${COMMIT}\ngo install ./cmd/...\ngo install golang.org/x/tools/cmd/stringer\ngo get example.com/m@none\n`,
    },
    [],
  ],
  ['go get without a version, and -u', { 'a.sh': 'go get github.com/o/r\ngo get -u github.com/o/r@v1.2.3\n' }, ['a.sh:1:8 go-install-latest', 'a.sh:2:8 go-install-latest']],
  ['choco install', { 'a.sh': 'choco install -y git\nchoco install -y git --version 2.44.0 --requirechecksums\n' }, ['a.sh:1:1 choco-unverified']],
  [
    'nuget install and restore',
    { 'a.sh': 'nuget install Newtonsoft.Json\nnuget install Newtonsoft.Json -Version 13.0.3\nnuget install packages.config\nnuget restore\nnuget restore -LockedMode\n' },
    ['a.sh:1:1 nuget-unlocked', 'a.sh:4:1 nuget-unlocked'],
  ],
  [
    'dotnet and msbuild',
    {
      'a.sh':
        'dotnet restore\ndotnet restore --locked-mode\ndotnet add package Serilog\ndotnet add app.csproj package Serilog --version 3.1.1\nmsbuild /t:restore\nmsbuild /t:restore /p:RestoreLockedMode=true\n',
    },
    ['a.sh:1:1 nuget-unlocked', 'a.sh:3:1 nuget-unlocked', 'a.sh:5:1 nuget-unlocked'],
  ],
  [
    'restores locked by every project file, or by Directory.Build.props',
    {
      'a.sh': 'dotnet restore\nnuget restore\n',
      'src/App/App.csproj': '<Project Sdk="Microsoft.NET.Sdk"><PropertyGroup><RestoreLockedMode>true</RestoreLockedMode></PropertyGroup></Project>\n',
      'test/Directory.Build.props': '<Project><PropertyGroup><RestoreLockedMode>true</RestoreLockedMode></PropertyGroup></Project>\n',
      'test/T/T.csproj': '<Project Sdk="Microsoft.NET.Sdk"></Project>\n',
    },
    [],
  ],
  [
    'one project not locked',
    {
      'a.sh': 'dotnet restore\ndotnet add package Serilog\n',
      'src/App/App.csproj': '<Project Sdk="Microsoft.NET.Sdk"><PropertyGroup><RestoreLockedMode>true</RestoreLockedMode></PropertyGroup></Project>\n',
      'tools/Gen/Gen.csproj': '<Project Sdk="Microsoft.NET.Sdk"><PropertyGroup><RestoreLockedMode>false</RestoreLockedMode></PropertyGroup></Project>\n',
    },
    ['a.sh:1:1 nuget-unlocked', 'a.sh:2:1 nuget-unlocked'],
  ],
  [
    'central package management with fixed versions',
    {
      'a.sh': 'dotnet restore\n',
      'Directory.Packages.props':
        '<Project><PropertyGroup><ManagePackageVersionsCentrally>true</ManagePackageVersionsCentrally></PropertyGroup><ItemGroup><PackageVersion Include="Serilog" Version="[3.1.1]" /></ItemGroup></Project>\n',
    },
    [],
  ],
  [
    'central package management with a range',
    {
      'a.sh': 'dotnet restore\n',
      'Directory.Packages.props':
        '<Project><PropertyGroup><ManagePackageVersionsCentrally>true</ManagePackageVersionsCentrally></PropertyGroup><ItemGroup><PackageVersion Include="Serilog" Version="3.1.1" /></ItemGroup></Project>\n',
    },
    ['a.sh:1:1 nuget-unlocked'],
  ],
  [
    'gem install',
    { 'a.sh': "gem install bundler\ngem install bundler -v 2.5.6\ngem install rake:13.1.0\ngem install bundler -v '~> 2.5'\ngem install ./pkg/x-1.0.gem\n" },
    ['a.sh:1:13 gem-install-unpinned', 'a.sh:4:13 gem-install-unpinned'],
  ],
  [
    'pip --no-deps of local and commit-pinned sources',
    {
      'a.sh': `pip install --no-deps -e .\npip install -e .\npip install --no-deps git+https://github.com/o/r@${COMMIT}\npip install --no-deps -e git+https://github.com/o/r@main#egg=x\npip install --no-deps dist/x-1.0-py3-none-any.whl\n`,
    },
    ['a.sh:2:1 pip-unhashed', 'a.sh:4:1 pip-unhashed'],
  ],
  [
    // pip 23.2.1: `-e git://…` is cloned as git+git://… at that revision; a plain `git://…` is "Invalid requirement", nothing installed.
    'pip git:// without git+: editable at a commit is pinned, a plain one pip refuses',
    {
      'a.sh': `pip install --no-deps -e git://host/repo.git@${COMMIT}#egg=x\npip install --no-deps -e git://host/repo.git@main#egg=x\npip install --no-deps --editable=svn://host/r@${COMMIT}#egg=x\npip install --no-deps git://host/repo.git@${COMMIT}#egg=x\npip install requests git://host/repo.git#egg=x\n`,
    },
    ['a.sh:2:1 pip-unhashed', 'a.sh:3:1 pip-unhashed'],
  ],
  ['a wheel alone still resolves dependencies', { 'a.sh': 'pip install dist/x-1.0-py3-none-any.whl\npython -m pip install --upgrade pip\n' }, ['a.sh:1:1 pip-unhashed', 'a.sh:2:1 pip-unhashed']],
  [
    'cargo install versions',
    {
      'a.sh': `cargo install --locked cargo-deny@0.14.20\ncargo install --locked --version 0.14.20 cargo-deny\ncargo install --locked cargo-deny --version ^0.14\ncargo install --locked --git https://github.com/o/r --rev ${COMMIT}\ncargo install --locked --git https://github.com/o/r --tag v1\ncargo install --locked --path .\n`,
    },
    ['a.sh:3:24 cargo-install-unpinned', 'a.sh:5:24 cargo-install-unpinned'],
  ],
];

const WORKFLOWS: Case[] = [
  ['a pwsh step is not sh', workflow('      - shell: pwsh\n        run: curl https://example.com/x | sh\n'), []],
  ['a custom bash command', workflow('      - shell: bash --noprofile --norc -eo pipefail {0}\n        run: curl https://example.com/x | sh\n'), ['.github/workflows/ci.yml:7:14 download-piped-to-shell']],
  ['/usr/bin/bash -e {0}', workflow("      - shell: '/usr/bin/bash -e {0}'\n        run: curl https://example.com/x | sh\n"), ['.github/workflows/ci.yml:7:14 download-piped-to-shell']],
  ['a python step', workflow('      - shell: python\n        run: curl https://example.com/x | sh\n'), []],
  [
    'job default cmd, step bash',
    workflow('      - run: curl https://example.com/x | sh\n      - shell: bash\n        run: curl https://example.com/y | sh\n', 'runs-on: ubuntu-latest\n    defaults:\n      run:\n        shell: cmd'),
    ['.github/workflows/ci.yml:11:14 download-piped-to-shell'],
  ],
  [
    'workflow default sh',
    { '.github/workflows/ci.yml': 'on: push\ndefaults:\n  run:\n    shell: sh\njobs:\n  a:\n    runs-on: windows-latest\n    steps:\n      - run: curl https://example.com/x | sh\n' },
    ['.github/workflows/ci.yml:9:14 download-piped-to-shell'],
  ],
  ['a Windows runner defaults to pwsh', workflow('      - run: curl https://example.com/x | sh\n', 'runs-on: windows-latest'), []],
  [
    'a matrix with Linux and Windows is scanned',
    workflow('      - run: curl https://example.com/x | sh\n', 'runs-on: ${{ matrix.os }}\n    strategy:\n      matrix:\n        os: [ubuntu-latest, windows-latest]'),
    ['.github/workflows/ci.yml:9:14 download-piped-to-shell'],
  ],
  ['a matrix of only Windows is not', workflow('      - run: curl https://example.com/x | sh\n', 'runs-on: ${{ matrix.os }}\n    strategy:\n      matrix:\n        os: [windows-2022, windows-2019]'), []],
  ["a step if: runner.os == 'Windows'", workflow("      - if: runner.os == 'Windows'\n        run: curl https://example.com/x | sh\n"), []],
  [
    'reusable workflows',
    {
      '.github/workflows/ci.yml': `on: push\njobs:\n  a:\n    uses: o/r/.github/workflows/build.yml@v1\n  b:\n    uses: o/r/.github/workflows/build.yml@${COMMIT}\n  c:\n    uses: ./.github/workflows/local.yml\n`,
    },
    ['.github/workflows/ci.yml:4:11 actions-unpinned'],
  ],
  [
    'container as a string, services by digest',
    { '.github/workflows/ci.yml': `on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    container: node:20\n    services:\n      redis:\n        image: redis@${DIGEST}\n    steps:\n      - run: make\n` },
    ['.github/workflows/ci.yml:5:16 container-image-unpinned'],
  ],
  [
    'composite action steps',
    { 'action.yml': 'name: x\nruns:\n  using: composite\n  steps:\n    - uses: actions/setup-node@v4\n    - shell: bash\n      run: curl -fsSL https://example.com/x | bash\n' },
    ['action.yml:5:13 actions-unpinned', 'action.yml:7:12 download-piped-to-shell'],
  ],
  [
    'jobs merged in by a merge key',
    { '.github/workflows/ci.yml': 'on: push\nx-jobs: &jobs\n  build:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\njobs:\n  <<: *jobs\n' },
    ['.github/workflows/ci.yml:6:15 actions-unpinned'],
  ],
];

const CASES: Case[] = [...DOWNLOAD_THEN_RUN, ...PIPED, ...DOCKERFILE, ...PACKAGE_MANAGERS, ...WORKFLOWS];

describe('pin rules on the constructs of issue 13', () => {
  for (const [name, files, expected] of CASES) {
    it(name, async () => {
      const dir = tempDir('reprokit-pins-case-');
      for (const [path, content] of Object.entries(files)) {
        mkdirSync(join(dir, path, '..'), { recursive: true });
        writeFileSync(join(dir, path), content);
      }
      const [result] = await scanPins([dir], { today: '2026-01-01' });
      const actual = result.findings.map((finding) => `${finding.file}:${finding.line}:${finding.column} ${finding.rule}`);
      assert.deepEqual(actual.sort(), [...expected].sort());
    });
  }

  it('has positive and negative cases for every group', () => {
    for (const group of [DOWNLOAD_THEN_RUN, PIPED, DOCKERFILE, PACKAGE_MANAGERS, WORKFLOWS]) {
      assert.ok(group.some(([, , expected]) => expected.length > 0));
      assert.ok(group.some(([, , expected]) => expected.length === 0));
    }
  });
});
