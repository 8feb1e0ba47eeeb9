import { dirname, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { describeFsError, isFsError, isUserError, UserError } from './errors';
import { REPROKIT_VERSION } from './version';
import { useTerminalProgress } from './progress';
import { formatUserError, installSafeOutput } from './terminal/safe-output';

// Each command's modules are loaded when it runs: loading them all (undici, the diff readers, the
// attestation code, ...) cost ~90 ms of every run, more than `verify` hashing 10,000 files
// (tools/bench/verify). `require` stays synchronous and typed through `typeof import`.
const load = {
  archPackage: () => require('./arch/package-archive') as typeof import('./arch/package-archive'),
  archVerify: () => require('./arch/verify-package') as typeof import('./arch/verify-package'),
  attest: () => require('./attest/attest-cli') as typeof import('./attest/attest-cli'),
  threshold: () => require('./attest/threshold-cli') as typeof import('./attest/threshold-cli'),
  thresholdOptions: () => require('./attest/threshold-options') as typeof import('./attest/threshold-options'),
  envLock: () => require('./env/build-env') as typeof import('./env/build-env'),
  debSources: () => require('./env/debs/deb-source-options') as typeof import('./env/debs/deb-source-options'),
  envBuild: () => require('./env/env-build') as typeof import('./env/env-build'),
  envFetch: () => require('./env/env-fetch') as typeof import('./env/env-fetch'),
  envRegistry: () => require('./env/registry/env-registry-cli') as typeof import('./env/registry/env-registry-cli'),
  envVault: () => require('./env/vault/vault-cli') as typeof import('./env/vault/vault-cli'),
  envCheck: () => require('./env/check/env-check-cli') as typeof import('./env/check/env-check-cli'),
  diff: () => require('./diff/diff-cli') as typeof import('./diff/diff-cli'),
  published: () => require('./published/published-cli') as typeof import('./published/published-cli'),
  downloadOptions: () => require('./net/download-options') as typeof import('./net/download-options'),
  npm: () => require('./npm/check/npm-cli') as typeof import('./npm/check/npm-cli'),
  git: () => require('./git') as typeof import('./git'),
  oci: () => require('./oci/apt/oci-lock-cli') as typeof import('./oci/apt/oci-lock-cli'),
  pins: () => require('./pins/pins-cli') as typeof import('./pins/pins-cli'),
  report: () => require('./report/report-cli') as typeof import('./report/report-cli'),
  vary: () => require('./vary/vary-cli') as typeof import('./vary/vary-cli'),
  reproduce: () => require('./verification/reproduce') as typeof import('./verification/reproduce'),
  hash: () => require('./hash') as typeof import('./hash'),
  verify: () => require('./verification/verify') as typeof import('./verification/verify'),
  verifyReport: () => require('./verification/verify-report') as typeof import('./verification/verify-report'),
};

const usage = () => `usage: reprokit <command> [options]

commands:
  hash [--algo blake2b512|sha256|blake3] FILE…   print checksums like b2sum / sha256sum / b3sum ('-' is stdin)
  verify MANIFEST [--json] [--allow-private-network]
                                                  compare the artifacts on disk with a repro-manifest.json
  reproduce MANIFEST [--record-command CMD] [--published [download options, as published's]]
                                                  verify, then print the paper trail a reviewer writes down;
                                                  --published also checks every published location
  env lock SPEC [--refresh] [SOURCES]             resolve env.json's Debian packages into env.lock.json beside it,
                                                  from the suites it names (default bookworm) with reprokit's
                                                  own apt index (--refresh asks the archive again), with each
                                                  package's suite, sha1 and snapshot.debian.org URL
  env build LOCK [--record] [--reuse] [--push REPO] [SOURCES]
                                                  build the locked environment's image and load it into docker;
                                                  --record writes its image ID (and snapshot URLs) into the lock,
                                                  --reuse skips the build when docker has it, --push e.g.
                                                  127.0.0.1:5000/reprokit/NAME
  env fetch LOCK --to DIR [SOURCES]               copy the lock's verified .debs into DIR with a SHA256SUMS
    SOURCES, tried after the .deb cache and apt:  --debs DIR (first), --snapshot URL (a snapshot.debian.org
                                                  mirror), --mirror URL… (file:///dir or http(s)://, last);
                                                  --vault HOST:PORT[/PATH]… (before apt; default: REPROKIT_DEB_VAULTS
                                                  or nx.json's debVaults)
  env vault push LOCK [--registry HOST:PORT[/PATH]]… [SOURCES]
                                                  store the lock's verified .debs in each registry as blobs of
                                                  REGISTRY/reprokit/debs:<name>-<hash of the lock's files>, an OCI
                                                  artifact; default: the workspace's debVaults
  env check [LOCK…] [--json] [SOURCES]            which packages each source can serve now (cache, vaults, apt's
                                                  index, snapshot, mirrors; HEAD requests, nothing downloaded);
                                                  default: every env.lock.json in git; exit 1 naming the packages
                                                  no source serves
  env push LOCK [--registry HOST:PORT[/PATH]]…   push the lock's image (built or reused) to each registry as
                                                  REGISTRY/reprokit/NAME:<image ID's first 12 hex>; default: the
                                                  workspace's imageRegistries
  env pull LOCK [--registry HOST:PORT[/PATH]]…   get the lock's image from the first registry that holds that image
                                                  ID (never built; exit 2 when none does)
  arch verify PKGFILE [--manifest M] [--env-lock L] [--json]
                                                  rebuild a pacman package from its .BUILDINFO in the image its
                                                  manifest records; print REPRODUCIBLE or what differs
  arch info PKGFILE                               print a package's parsed .PKGINFO, .BUILDINFO and entries (JSON)
  ${load.diff().DIFF_USAGE.padEnd(46)} what differs between two files or directories: ELF sections, archive
                                                  entries, image layers and config, JSON/text lines, bytes
  published MANIFEST [--json] [--if-listed] [--rebuild] [--timeout S] [--deadline S]
            [--speed-limit B] [--speed-time S] [--allow-private-network]
                                                  download every published location of the manifest's artifacts and
                                                  compare: MATCH, DIFFERS (what differs) or UNREACHABLE (why);
                                                  --rebuild also runs arch verify on published pacman packages;
                                                  each download: --timeout idle (30 s), --deadline total (300 s
                                                  + 1 s per MiB), ended below --speed-limit B/s (1024) for
                                                  --speed-time S (30); a manifest's URLs may not reach loopback,
                                                  link-local or private addresses, nor file:// outside the
                                                  workspace, unless --allow-private-network
                                                  (REPROKIT_ALLOW_PRIVATE_NETWORK=1) for the addresses
  published add MANIFEST ARTIFACT (--url U | --oci IMAGE | --pacman SERVER --repo NAME | --npm NAME@V [--registry URL])
                                                  record where an artifact was published
${load.npm().NPM_USAGE}
  vary --image REF (--cargo BIN | --artifact PATH -- CMD…) [--variations a,b] [--json]
                                                  build in the pinned image under control conditions and varied
                                                  ones (build path, clock, host name, user, umask, locale, TZ,
                                                  CPUs, file order…); name the variations that change an artifact
  ${load.oci().OCI_USAGE}
  pins check|update [DIR|FILE]…                  find inputs not pinned by content hash / pin images (see \`pins --help\`)
  report [WORKSPACE] [--out DIR] [--json] [--no-pins] [--published] [--attestations DIR|--attestations-from REGISTRY --trusted-keys PATH [--threshold N]]
                                                  check every manifest of the workspace and its pins; write
                                                  DIR/index.html, report.md and report.json, or print the
                                                  Markdown (--json: the JSON) summary
${load.attest().ATTEST_USAGE}
${load.threshold().THRESHOLD_USAGE}
  version                                         print reprokit's version

exit status: 0 ok, 1 a check failed, 2 bad usage or input (hash: a file it could not read)`;

/** A usage error: exit 2, with the usage text. */
class UsageError extends UserError {}

async function hashCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { algo: { type: 'string', short: 'a', default: 'blake2b512' } },
    allowPositionals: true,
  });
  const { formatChecksumLine, hashFile, hashStream, HASH_ALGORITHMS } = load.hash();
  const algo = values.algo as import('./hash').HashAlgorithm;
  if (!HASH_ALGORITHMS.includes(algo)) throw new UsageError(`--algo: unknown algorithm ${JSON.stringify(values.algo)} (one of ${HASH_ALGORITHMS.join(', ')})`);
  if (positionals.length === 0) throw new UsageError('hash: name at least one FILE, or - for standard input');
  let failed = 0;
  for (const file of positionals) {
    try {
      const { digests } = file === '-' ? await hashStream(process.stdin, [algo]) : await hashFile(file, [algo]);
      process.stdout.write(formatChecksumLine(digests[algo]!, file) + '\n');
    } catch (error) {
      if (!isUserError(error)) throw error;
      // Like b2sum: report the file, go on with the others, fail at the end (exit 2, an input error,
      // where b2sum exits 1: reprokit keeps 1 for a check that failed).
      process.stderr.write(`reprokit: ${error.message}\n`);
      failed++;
    }
  }
  return failed ? 2 : 0;
}

async function verifyCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: { json: { type: 'boolean', default: false }, 'allow-private-network': { type: 'boolean' } }, allowPositionals: true });
  if (positionals.length !== 1) throw new UsageError('verify: name exactly one MANIFEST (a repro-manifest.json)');
  const { verifyManifest } = load.verify();
  const result = await verifyManifest(positionals[0]);
  // Each MISMATCH explained against the expected bytes (a kept copy or a published file).
  const { text, explanations } = await load.verifyReport().renderVerifyReport(result, { log: (line) => process.stderr.write(`${line}\n`), allowPrivateNetwork: values['allow-private-network'] || undefined });
  process.stdout.write((values.json ? JSON.stringify(explanations.length ? { ...result, explanations } : result, null, 2) : text) + '\n');
  return result.ok ? 0 : 1;
}

async function envCommand(args: string[]): Promise<number> {
  const [action, ...rest] = args;
  const log = (line: string) => process.stderr.write(`[env] ${line}\n`);
  if (action === 'lock') {
    const { values, positionals } = parseArgs({ args: rest, options: { refresh: { type: 'boolean', default: false }, ...load.debSources().DEB_SOURCE_OPTIONS }, allowPositionals: true });
    if (positionals.length !== 1) throw new UsageError('env lock: name exactly one SPEC (an env.json)');
    const { lockPath, lock } = await load.envLock().lockBuildEnv(positionals[0], { refresh: values.refresh, sources: load.debSources().debSources(values), log });
    process.stdout.write(`locked ${lock.packages.length} packages into ${lockPath}\n`);
    return 0;
  }
  if (action === 'build') {
    const { values, positionals } = parseArgs({
      args: rest,
      options: { record: { type: 'boolean', default: false }, reuse: { type: 'boolean', default: false }, push: { type: 'string' }, ...load.debSources().DEB_SOURCE_OPTIONS },
      allowPositionals: true,
    });
    if (positionals.length !== 1) throw new UsageError('env build: name exactly one LOCK (an env.lock.json)');
    const result = await load.envBuild().buildEnv(positionals[0], { record: values.record, reuse: values.reuse, push: values.push, sources: load.debSources().debSources(values), log });
    process.stdout.write(`${result.ref}${result.reused ? ' (already in docker)' : ''}${result.pulledFrom ? ` (pulled from ${result.pulledFrom})` : ''}\n`);
    if (result.pushed) process.stdout.write(`${result.pushed}\n`);
    return 0;
  }
  if (action === 'push' || action === 'pull') return await load.envRegistry().envRegistryCommand(action, rest, log);
  if (action === 'vault') return await load.envVault().envVaultCommand(rest, log);
  if (action === 'check') return await load.envCheck().envCheckCommand(rest);
  if (action === 'fetch') {
    const { values, positionals } = parseArgs({ args: rest, options: { to: { type: 'string' }, ...load.debSources().DEB_SOURCE_OPTIONS }, allowPositionals: true });
    if (positionals.length !== 1) throw new UsageError('env fetch: name exactly one LOCK (an env.lock.json)');
    if (!values.to) throw new UsageError('env fetch: --to DIR is required (where the .debs go)');
    const { files } = await load.envFetch().fetchEnv(positionals[0], values.to, { sources: load.debSources().debSources(values), log });
    process.stdout.write(`${files} packages in ${values.to} (check with: cd ${values.to} && sha256sum -c SHA256SUMS)\n`);
    return 0;
  }
  throw new UsageError(`env: unknown action ${JSON.stringify(action ?? '')} (lock, build, fetch, push, pull, vault or check)`);
}

async function archCommand(args: string[]): Promise<number> {
  const [action, ...rest] = args;
  if (action === 'verify') {
    const { values, positionals } = parseArgs({
      args: rest,
      options: { manifest: { type: 'string' }, 'env-lock': { type: 'string' }, json: { type: 'boolean', default: false } },
      allowPositionals: true,
    });
    if (positionals.length !== 1) throw new UsageError('arch verify: name exactly one PKGFILE (a .pkg.tar.zst)');
    const result = await load.archVerify().verifyArchPackage({
      packageFile: positionals[0],
      manifestPath: values.manifest,
      envLock: values['env-lock'],
      log: (line) => process.stderr.write(line + '\n'),
    });
    process.stdout.write(values.json ? JSON.stringify(result, null, 2) + '\n' : load.archVerify().renderArchVerify(result));
    return result.reproducible ? 0 : 1;
  }
  if (action === 'info') {
    const { positionals } = parseArgs({ args: rest, options: {}, allowPositionals: true });
    if (positionals.length !== 1) throw new UsageError('arch info: name exactly one PKGFILE (a .pkg.tar.zst)');
    const { pkginfo, buildinfo, entries } = load.archPackage().readPackageArchive(positionals[0]);
    process.stdout.write(JSON.stringify({ pkginfo, buildinfo, entries }, null, 2) + '\n');
    return 0;
  }
  throw new UsageError(`arch: unknown action ${JSON.stringify(action ?? '')} (verify or info)`);
}

// The download options as net/download-options.ts's DOWNLOAD_OPTIONS (written out: that module is loaded only with --published).
const REPRODUCE_OPTIONS = {
  'record-command': { type: 'string' },
  published: { type: 'boolean', default: false },
  timeout: { type: 'string' },
  deadline: { type: 'string' },
  'speed-limit': { type: 'string' },
  'speed-time': { type: 'string' },
  'allow-private-network': { type: 'boolean' },
} as const;

async function reproduceCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: REPRODUCE_OPTIONS, allowPositionals: true });
  if (positionals.length !== 1) throw new UsageError('reproduce: name exactly one MANIFEST (a repro-manifest.json)');
  const manifestPath = positionals[0];
  const workspaceRoot = load.git().gitToplevel(process.cwd()) ?? process.cwd();
  const projectRoot = relative(workspaceRoot, dirname(resolve(manifestPath))) || '.';
  const { ok, text } = await load.reproduce().reproduceReport({ manifestPath, workspaceRoot, projectRoot, howToCreate: values['record-command'] });
  process.stdout.write(text);
  // --published: the rebuild above and what was actually published, both against the same hashes.
  const published = values.published ? await load.published().reproducePublished(manifestPath, (chunk) => process.stdout.write(chunk), load.downloadOptions().downloadOptions(values)) : 0;
  return ok ? published : 1;
}

/**
 * The CLI as a process runs it (bin/reprokit.js): everything written to stdout and stderr goes
 * through installSafeOutput, so no control character from an input reaches the terminal or a CI log.
 */
export async function run(argv: string[]): Promise<number> {
  installSafeOutput(process.stdout);
  installSafeOutput(process.stderr);
  return main(argv);
}

/** Runs the CLI and returns its exit status; user errors are one line on stderr, never a stack. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  useTerminalProgress(process.stderr);
  // Under --json an error is JSON too (on stdout, where the result would have been).
  const json = rest.includes('--json');
  try {
    switch (command) {
      case 'hash':
        return await hashCommand(rest);
      case 'verify':
        return load.thresholdOptions().takeThresholdOptions(rest).options ? await load.threshold().verifyThresholdCommand(rest) : await verifyCommand(rest);
      case 'reproduce': {
        // With --attestations/--trusted-keys/--threshold: the local check, then the builders' verdict.
        const { options, rest: own } = load.thresholdOptions().takeThresholdOptions(rest);
        const status = await reproduceCommand(own);
        return options ? Math.max(status, await load.threshold().runThreshold(parseArgs({ args: own, options: REPRODUCE_OPTIONS, allowPositionals: true }).positionals[0], options)) : status;
      }
      case 'rebuild':
        return await load.threshold().rebuildCommand(rest);
      case 'env':
        return await envCommand(rest);
      case 'pins':
        return await load.pins().pinsCommand(rest);
      case 'oci':
        return await load.oci().ociCommand(rest, (message) => new UsageError(message), (line) => process.stderr.write(`[oci] ${line}\n`));
      case 'arch':
        return await archCommand(rest);
      case 'report':
        return await load.report().reportCommand(rest, (message) => new UsageError(message));
      case 'keygen':
        return load.attest().keygenCommand(rest);
      case 'attest':
        return load.attest().attestCommand(rest);
      case 'verify-attestation':
        return await load.attest().verifyAttestationCommand(rest);
      case 'published':
        return await load.published().publishedCommand(rest, (text) => process.stdout.write(text), (line) => process.stderr.write(`[published] ${line}\n`));
      case 'npm':
        return await load.npm().npmCommand(rest, (text) => process.stdout.write(text), (line) => process.stderr.write(`[npm] ${line}\n`));
      case 'diff':
        return await load.diff().diffCommand(rest, (text) => process.stdout.write(text));
      case 'vary':
        return await load.vary().varyCommand(rest, (message) => new UsageError(message));
      case 'version':
      case '--version':
        if (rest.length > 0) throw new UsageError(`version: takes no arguments (got ${JSON.stringify(rest[0])})`);
        process.stdout.write(REPROKIT_VERSION + '\n');
        return 0;
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        process.stdout.write(usage() + '\n');
        return command === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command ${JSON.stringify(command)}`);
    }
  } catch (error) {
    return reportError(error, { json });
  }
}

/**
 * How every front end ends on an error: a user error (or a filesystem error, or a malformed option)
 * is one line on stderr and exit 2; anything else is a bug and is rethrown with its stack.
 */
export function reportError(error: unknown, options: { json?: boolean } = {}): number {
  // parseArgs reports unknown or malformed options with a TypeError carrying this code.
  const argError = (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
  // A filesystem error no reader anticipated (ELOOP, EIO, ENOSPC, ...) is still the input's or the
  // machine's problem, not reprokit's: one line naming the path, not a stack trace.
  if (isFsError(error)) error = describeFsError(error, error.path ?? error.syscall ?? 'file');
  if (!isUserError(error) && !argError) throw error;
  const message = (error as Error).message;
  // One line, whatever the input put in it (a file name with ESC or a newline): escaped here, for every
  // command, rather than at each place a message is made. A build log's tail (LAST_LINES) follows indented.
  process.stderr.write(formatUserError('reprokit: ', message));
  if (options.json) process.stdout.write(JSON.stringify({ error: message, exitCode: 2 }, null, 2) + '\n');
  if (error instanceof UsageError || argError) process.stderr.write(`run \`reprokit --help\` for usage\n`);
  return 2;
}
