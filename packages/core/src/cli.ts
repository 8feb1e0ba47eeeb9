import { tmpdir } from 'node:os';
import { dirname, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { readPackageArchive } from './arch/package-archive';
import { ATTEST_USAGE, attestCommand, keygenCommand, verifyAttestationCommand } from './attest/attest-cli';
import { rebuildCommand, runThreshold, takeThresholdOptions, THRESHOLD_USAGE, verifyThresholdCommand } from './attest/threshold-cli';
import { renderArchVerify, verifyArchPackage } from './arch/verify-package';
import { lockBuildEnv } from './env/build-env';
import { debSources, DEB_SOURCE_OPTIONS } from './env/deb-source-options';
import { buildEnv } from './env/env-build';
import { fetchEnv } from './env/env-fetch';
import { diffCommand, DIFF_USAGE } from './diff/diff-cli';
import { publishedCommand, reproducePublished } from './published/published-cli';
import { gitToplevel } from './git';
import { pinsCommand } from './pins/pins-cli';
import { reportCommand } from './report/report-cli';
import { varyCommand } from './vary/vary-cli';
import { reproduceReport } from './manifest/reproduce';
import { describeFsError, isFsError, isUserError, UserError } from './errors';
import { formatChecksumLine, hashFile, hashStream, HASH_ALGORITHMS, type HashAlgorithm } from './hash';
import { renderVerifyTable, verifyManifest } from './manifest/verify';
import { REPROKIT_VERSION } from './version';
import { useTerminalProgress } from './progress';

const USAGE = `usage: reprokit <command> [options]

commands:
  hash [--algo blake2b512|sha256|blake3] FILE…   print checksums like b2sum / sha256sum / b3sum ('-' is stdin)
  verify MANIFEST [--json]                        compare the artifacts on disk with a repro-manifest.json
  reproduce MANIFEST [--record-command CMD] [--published]
                                                  verify, then print the paper trail a reviewer writes down;
                                                  --published also checks every published location
  env lock SPEC [SOURCES]                         resolve env.json's Debian packages into env.lock.json beside it,
                                                  with each .deb's sha1 and snapshot.debian.org URL
  env build LOCK [--record] [--reuse] [--push REPO] [SOURCES]
                                                  build the locked environment's image and load it into docker;
                                                  --record writes its image ID (and snapshot URLs) into the lock,
                                                  --reuse skips the build when docker has it, --push e.g.
                                                  127.0.0.1:5000/reprokit/NAME
  env fetch LOCK --to DIR [SOURCES]               copy the lock's verified .debs into DIR with a SHA256SUMS
    SOURCES, tried after the .deb cache and apt:  --debs DIR (first), --snapshot URL (a snapshot.debian.org
                                                  mirror), --mirror URL… (file:///dir or http(s)://, last)
  arch verify PKGFILE [--manifest M] [--env-lock L] [--json]
                                                  rebuild a pacman package from its .BUILDINFO in the image its
                                                  manifest records; print REPRODUCIBLE or what differs
  arch info PKGFILE                               print a package's parsed .PKGINFO, .BUILDINFO and entries (JSON)
  ${DIFF_USAGE.padEnd(46)} what differs between two files or directories: ELF sections, archive
                                                  entries, image layers and config, JSON/text lines, bytes
  published MANIFEST [--json] [--timeout S] [--if-listed] [--rebuild]
                                                  download every published location of the manifest's artifacts and
                                                  compare: MATCH, DIFFERS (what differs) or UNREACHABLE (why);
                                                  --rebuild also runs arch verify on published pacman packages
  published add MANIFEST ARTIFACT (--url U | --oci IMAGE | --pacman SERVER --repo NAME)
                                                  record where an artifact was published
  vary --image REF (--cargo BIN | --artifact PATH -- CMD…) [--variations a,b] [--json]
                                                  build in the pinned image under control conditions and varied
                                                  ones (build path, clock, host name, user, umask, locale, TZ,
                                                  CPUs, file order…); name the variations that change an artifact
  pins check|update [DIR|FILE]…                  find inputs not pinned by content hash / pin images (see \`pins --help\`)
  report [WORKSPACE] [--out DIR] [--json] [--no-pins] [--published] [--attestations DIR --trusted-keys PATH [--threshold N]]
                                                  check every manifest of the workspace and its pins; write
                                                  DIR/index.html, report.md and report.json, or print the
                                                  Markdown (--json: the JSON) summary
${ATTEST_USAGE}
${THRESHOLD_USAGE}
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
  const algo = values.algo as HashAlgorithm;
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
  const { values, positionals } = parseArgs({ args, options: { json: { type: 'boolean', default: false } }, allowPositionals: true });
  if (positionals.length !== 1) throw new UsageError('verify: name exactly one MANIFEST (a repro-manifest.json)');
  const result = await verifyManifest(positionals[0]);
  process.stdout.write((values.json ? JSON.stringify(result, null, 2) : renderVerifyTable(result)) + '\n');
  return result.ok ? 0 : 1;
}

async function envCommand(args: string[]): Promise<number> {
  const [action, ...rest] = args;
  const log = (line: string) => process.stderr.write(`[env] ${line}\n`);
  if (action === 'lock') {
    const { values, positionals } = parseArgs({ args: rest, options: { ...DEB_SOURCE_OPTIONS }, allowPositionals: true });
    if (positionals.length !== 1) throw new UsageError('env lock: name exactly one SPEC (an env.json)');
    const { lockPath, lock } = await lockBuildEnv(positionals[0], tmpdir(), { sources: debSources(values), log });
    process.stdout.write(`locked ${lock.packages.length} packages into ${lockPath}\n`);
    return 0;
  }
  if (action === 'build') {
    const { values, positionals } = parseArgs({
      args: rest,
      options: { record: { type: 'boolean', default: false }, reuse: { type: 'boolean', default: false }, push: { type: 'string' }, ...DEB_SOURCE_OPTIONS },
      allowPositionals: true,
    });
    if (positionals.length !== 1) throw new UsageError('env build: name exactly one LOCK (an env.lock.json)');
    const result = await buildEnv(positionals[0], { record: values.record, reuse: values.reuse, push: values.push, sources: debSources(values), log });
    process.stdout.write(`${result.ref}${result.reused ? ' (already in docker)' : ''}\n`);
    if (result.pushed) process.stdout.write(`${result.pushed}\n`);
    return 0;
  }
  if (action === 'fetch') {
    const { values, positionals } = parseArgs({ args: rest, options: { to: { type: 'string' }, ...DEB_SOURCE_OPTIONS }, allowPositionals: true });
    if (positionals.length !== 1) throw new UsageError('env fetch: name exactly one LOCK (an env.lock.json)');
    if (!values.to) throw new UsageError('env fetch: --to DIR is required (where the .debs go)');
    const { files } = await fetchEnv(positionals[0], values.to, { sources: debSources(values), log });
    process.stdout.write(`${files} packages in ${values.to} (check with: cd ${values.to} && sha256sum -c SHA256SUMS)\n`);
    return 0;
  }
  throw new UsageError(`env: unknown action ${JSON.stringify(action ?? '')} (lock, build or fetch)`);
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
    const result = await verifyArchPackage({
      packageFile: positionals[0],
      manifestPath: values.manifest,
      envLock: values['env-lock'],
      log: (line) => process.stderr.write(line + '\n'),
    });
    process.stdout.write(values.json ? JSON.stringify(result, null, 2) + '\n' : renderArchVerify(result));
    return result.reproducible ? 0 : 1;
  }
  if (action === 'info') {
    const { positionals } = parseArgs({ args: rest, options: {}, allowPositionals: true });
    if (positionals.length !== 1) throw new UsageError('arch info: name exactly one PKGFILE (a .pkg.tar.zst)');
    const { pkginfo, buildinfo, entries } = readPackageArchive(positionals[0]);
    process.stdout.write(JSON.stringify({ pkginfo, buildinfo, entries }, null, 2) + '\n');
    return 0;
  }
  throw new UsageError(`arch: unknown action ${JSON.stringify(action ?? '')} (verify or info)`);
}

async function reproduceCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: { 'record-command': { type: 'string' }, published: { type: 'boolean', default: false } }, allowPositionals: true });
  if (positionals.length !== 1) throw new UsageError('reproduce: name exactly one MANIFEST (a repro-manifest.json)');
  const manifestPath = positionals[0];
  const workspaceRoot = gitToplevel(process.cwd()) ?? process.cwd();
  const projectRoot = relative(workspaceRoot, dirname(resolve(manifestPath))) || '.';
  const { ok, text } = await reproduceReport({ manifestPath, workspaceRoot, projectRoot, howToCreate: values['record-command'] });
  process.stdout.write(text);
  // --published: the rebuild above and what was actually published, both against the same hashes.
  const published = values.published ? await reproducePublished(manifestPath, (chunk) => process.stdout.write(chunk)) : 0;
  return ok ? published : 1;
}

/** Runs the CLI and returns its exit status; user errors are one line on stderr, never a stack. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  useTerminalProgress(process.stderr);
  try {
    switch (command) {
      case 'hash':
        return await hashCommand(rest);
      case 'verify':
        return takeThresholdOptions(rest).options ? await verifyThresholdCommand(rest) : await verifyCommand(rest);
      case 'reproduce': {
        // With --attestations/--trusted-keys/--threshold: the local check, then the builders' verdict.
        const { options, rest: own } = takeThresholdOptions(rest);
        const status = await reproduceCommand(own);
        return options ? Math.max(status, await runThreshold(parseArgs({ args: own, options: { 'record-command': { type: 'string' }, published: { type: 'boolean' } }, allowPositionals: true }).positionals[0], options)) : status;
      }
      case 'rebuild':
        return await rebuildCommand(rest);
      case 'env':
        return await envCommand(rest);
      case 'pins':
        return await pinsCommand(rest);
      case 'arch':
        return await archCommand(rest);
      case 'report':
        return await reportCommand(rest, (message) => new UsageError(message));
      case 'keygen':
        return keygenCommand(rest);
      case 'attest':
        return attestCommand(rest);
      case 'verify-attestation':
        return await verifyAttestationCommand(rest);
      case 'published':
        return await publishedCommand(rest, (text) => process.stdout.write(text), (line) => process.stderr.write(`[published] ${line}\n`));
      case 'diff':
        return await diffCommand(rest, (text) => process.stdout.write(text));
      case 'vary':
        return await varyCommand(rest, (message) => new UsageError(message));
      case 'version':
      case '--version':
        if (rest.length > 0) throw new UsageError(`version: takes no arguments (got ${JSON.stringify(rest[0])})`);
        process.stdout.write(REPROKIT_VERSION + '\n');
        return 0;
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        process.stdout.write(USAGE + '\n');
        return command === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command ${JSON.stringify(command)}`);
    }
  } catch (error) {
    return reportError(error);
  }
}

/**
 * How every front end ends on an error: a user error (or a filesystem error, or a malformed option)
 * is one line on stderr and exit 2; anything else is a bug and is rethrown with its stack.
 */
export function reportError(error: unknown): number {
  // parseArgs reports unknown or malformed options with a TypeError carrying this code.
  const argError = (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
  // A filesystem error no reader anticipated (ELOOP, EIO, ENOSPC, ...) is still the input's or the
  // machine's problem, not reprokit's: one line naming the path, not a stack trace.
  if (isFsError(error)) error = describeFsError(error, error.path ?? error.syscall ?? 'file');
  if (!isUserError(error) && !argError) throw error;
  process.stderr.write(`reprokit: ${(error as Error).message}\n`);
  if (error instanceof UsageError || argError) process.stderr.write(`run \`reprokit --help\` for usage\n`);
  return 2;
}
