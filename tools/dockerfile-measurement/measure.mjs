#!/usr/bin/env node
// Issue 16's measurement: builds each listed public Dockerfile twice with reprokit's image writer and
// reports whether it builds and whether both builds give the same image ID.
// Usage: node tools/dockerfile-measurement/measure.mjs MIRRORS_DIR [--packages-offline] [--only REPO,…] > results.json
//   The build context is the repository root unless the entry names a `context`.
//   MIRRORS_DIR holds one bare git repository per entry at <owner>+<name>/repo (what `git clone
//   --mirror` makes). Only FROM is adapted: debian and ubuntu images become the pinned debian-base
//   (and the file's apt installs are locked with `reprokit oci lock` first, so they run offline), rust
//   images the pinned rust-builder, distroless and static images static-base, every other image the
//   pinned c-builder (gcc, make, sh); scratch and
//   stage names stay; `USER root` and `WORKDIR /` follow a replaced FROM (the public images' defaults). With --packages-offline, RUN lines that only install packages (apt-get, apk),
//   which need the network, are replaced by `true` and reported, to see how the rest of the file does.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..', '..');
const { buildImageArtifact } = await import(join(root, 'packages/core/dist/oci/image-artifact.js'));
const { lockDockerfile } = await import(join(root, 'packages/core/dist/oci/apt/oci-lock.js'));
const { connectDocker } = await import(join(root, 'packages/core/dist/docker/docker.js'));
const [mirrors, ...flags] = process.argv.slice(2);
const offline = flags.includes('--packages-offline');
const only = flags.includes('--only') ? flags[flags.indexOf('--only') + 1].split(',') : undefined;
const envs = join(root, 'packages/core/envs');
const lock = (env) => join(envs, env, 'env.lock.json');
const image = (env, name) => `reprokit/${name}@${JSON.parse(readFileSync(lock(env), 'utf8')).imageId}`;
const IMAGES = { rust: image('rust-builder', 'rust-builder'), static: image('static-base', 'static-base'), c: image('c-builder', 'c-builder'), debian: image('debian-base', 'debian-base') };
const ENV_LOCKS = ['c-builder', 'rust-builder', 'static-base', 'debian-base'].map(lock);
/** Debian's and Ubuntu's official images (any tag or digest): their RUN apt installs are locked, not removed. */
const DEBIAN_FAMILY = /^(docker\.io\/)?(library\/)?(debian|ubuntu)([:@]|$)/i;
const NETWORK = /\b(apt-get|apt|apk|yum|dnf|go (mod|get|build|install)|cargo (build|install|chef|fetch)|rustup|pip3? install|npm (ci|install)|curl|wget|git clone)\b/;
const INSTALL_ONLY = /^\s*RUN\s+(\[\s*"apk"|(apt-get|apt|apk)\b)/;

function adapt(text) {
  const stages = [];
  const debianStages = new Set();
  let debianStage = false;
  const network = [];
  const lines = text.split('\n').map((line) => line.replace(/\r$/, ''));
  const out = [];
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i];
    const from = /^(\s*FROM\s+)((?:--platform=\S+\s+)?)(\S+)(.*)$/i.exec(line);
    if (from) {
      const ref = from[3];
      const alias = /\s+AS\s+(\S+)/i.exec(from[4])?.[1]?.toLowerCase();
      let replaced = ref;
      if (ref.toLowerCase() !== 'scratch' && !stages.includes(ref.toLowerCase())) {
        replaced = DEBIAN_FAMILY.test(ref) ? IMAGES.debian : /rust|cargo/.test(ref) ? IMAGES.rust : /distroless|static/.test(ref) ? IMAGES.static : IMAGES.c;
      }
      if (alias) stages.push(alias);
      debianStage = replaced === IMAGES.debian || (stages.includes(ref.toLowerCase()) && debianStages.has(ref.toLowerCase()));
      if (alias && debianStage) debianStages.add(alias);
      out.push(`${from[1]}${from[2]}${replaced}${from[4]}`);
      // The images replaced run as root in /; reprokit's run as 1000:1000 in /home/build.
      if (replaced !== ref) out.push('USER root', 'WORKDIR /');
      continue;
    }
    if (/^\s*RUN\b/i.test(line)) {
      // The whole instruction with its continuation lines.
      let full = line;
      let j = i;
      while (/\\\s*$/.test(lines[j]) && j + 1 < lines.length) full += '\n' + lines[++j];
      if (NETWORK.test(full)) network.push(`line ${i + 1}: ${full.replace(/\s*\\\n\s*/g, ' ').trim().slice(0, 100)}`);
      if (offline && INSTALL_ONLY.test(full) && !debianStage) {
        out.push('RUN true');
        for (let k = i + 1; k <= j; k++) out.push('');
        i = j;
        continue;
      }
    }
    out.push(line);
  }
  return { text: out.join('\n'), network };
}

/** Writes the commit's tree into `dir` through one `git cat-file --batch`; returns the paths whose blobs the mirror lacks (its largest files). */
function checkout(git, commit, dir) {
  const tree = execFileSync('git', ['--git-dir', git, 'ls-tree', '-r', '-z', commit], { maxBuffer: 1 << 28 })
    .toString('utf8')
    .split('\0')
    .filter(Boolean)
    .map((line) => {
      const [meta, path] = line.split('\t');
      const [mode, type, id] = meta.split(' ');
      return { mode, type, id, path };
    })
    .filter((item) => item.type === 'blob');
  const output = execFileSync('git', ['--git-dir', git, 'cat-file', '--batch'], { input: tree.map((item) => item.id).join('\n') + '\n', maxBuffer: 1 << 30 });
  const missing = [];
  let at = 0;
  for (const item of tree) {
    const end = output.indexOf(0x0a, at);
    const header = output.subarray(at, end).toString('utf8');
    at = end + 1;
    if (header.endsWith(' missing')) {
      missing.push(item.path);
      continue;
    }
    const size = Number(header.split(' ')[2]);
    const content = output.subarray(at, at + size);
    at += size + 1;
    const path = join(dir, item.path);
    mkdirSync(join(path, '..'), { recursive: true });
    if (item.mode === '120000') symlinkSync(content.toString('utf8'), path);
    else writeFileSync(path, content, { mode: item.mode === '100755' ? 0o755 : 0o644 });
  }
  return missing;
}

const list = JSON.parse(readFileSync(join(import.meta.dirname, 'list.json'), 'utf8')).dockerfiles;
const results = [];
for (const entry of list) {
  if (only && !only.includes(entry.repo)) continue;
  process.chdir(tmpdir());
  const work = join(tmpdir(), `reprokit-measure-${process.pid}`);
  rmSync(work, { recursive: true, force: true });
  const context = join(work, 'repo');
  mkdirSync(context, { recursive: true });
  const git = join(mirrors, entry.repo.replace('/', '+'), 'repo');
  const missing = checkout(git, entry.commit, context);
  process.chdir(context);
  const { text, network } = adapt(readFileSync(join(context, entry.dockerfile), 'utf8'));
  const dockerfile = join(context, entry.dockerfile);
  writeFileSync(dockerfile, text);
  const result = { ...entry, network, missingBlobs: missing, builds: false, sameImageId: false };
  const started = Date.now();
  const ids = [];
  try {
    if (text.includes(IMAGES.debian)) {
      // The Dockerfile's apt installs, locked against debian-base from bookworm (reprokit oci lock).
      const locked = await lockDockerfile(await connectDocker(), dockerfile, { envLocks: ENV_LOCKS, log: () => {} });
      result.lockedInstalls = locked.installs;
      result.lockedPackages = locked.lock.installs.reduce((sum, install) => sum + install.packages.length, 0);
    }
    for (const round of [1, 2]) {
      const built = await buildImageArtifact({
        dockerfile,
        context: join(context, entry.context ?? '.'),
        sourceDateEpoch: 1700000000,
        workDir: join(work, `work-${round}`),
        envLocks: ENV_LOCKS,
        name: 'measured',
        outputDir: join(work, `out-${round}`),
        tag: `reprokit-measure/image:${process.pid}`,
        logPrefix: '',
        log: () => {},
      });
      ids.push(built.image.id);
    }
    result.builds = true;
    result.sameImageId = ids[0] === ids[1];
    result.imageId = ids[0];
  } catch (error) {
    // The command's start and the output's end: the reason is in the last lines.
    const message = String(error.message).split('\n').join(' / ');
    result.error = message.length > 400 ? `${message.slice(0, 150)} … ${message.slice(-250)}` : message;
  }
  result.seconds = Math.round((Date.now() - started) / 1000);
  results.push(result);
  process.stderr.write(`${entry.repo} ${entry.dockerfile}: ${result.builds ? (result.sameImageId ? 'same image ID twice' : 'DIFFERENT image IDs') : result.error}\n`);
  rmSync(work, { recursive: true, force: true });
}
execFileSync('docker', ['image', 'rm', '--force', `reprokit-measure/image:${process.pid}`], { stdio: 'ignore' });
process.stdout.write(JSON.stringify(results, null, 2) + '\n');
