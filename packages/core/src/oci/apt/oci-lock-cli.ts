import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { connectDocker } from '../../docker/docker';
import { DEB_SOURCE_OPTIONS, debSources } from '../../env/debs/deb-source-options';
import { UserError } from '../../errors';
import { lockDockerfile } from './oci-lock';

export const OCI_USAGE = `oci lock [PROJECT|DOCKERFILE] [--suite S]… [--build-arg K=V]… [--env-lock L]… [SOURCES]
                                                  lock every apt-get/apt install of the Dockerfile's RUN
                                                  instructions into <Dockerfile>.lock.json (exact versions,
                                                  sha256), resolved against each stage's base image; the
                                                  oci build installs exactly these, offline`;

/** The environment locks reprokit ships (reprokit/debian-base and the builders), so a FROM of one can be built. */
function shippedEnvLocks(): string[] {
  const dir = join(__dirname, '..', '..', '..', 'envs');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .map((name) => join(dir, name, 'env.lock.json'))
    .filter((path) => existsSync(path));
}

/** `reprokit oci lock`. */
export async function ociCommand(args: string[], usageError: (message: string) => Error, log: (line: string) => void): Promise<number> {
  const [action, ...rest] = args;
  if (action !== 'lock') throw usageError(`oci: unknown action ${JSON.stringify(action ?? '')} (oci lock)`);
  const { values, positionals } = parseArgs({
    args: rest,
    options: { suite: { type: 'string', multiple: true }, 'build-arg': { type: 'string', multiple: true }, 'env-lock': { type: 'string', multiple: true }, ...DEB_SOURCE_OPTIONS },
    allowPositionals: true,
  });
  if (positionals.length > 1) throw usageError('oci lock: name one project directory or Dockerfile');
  const target = resolve(positionals[0] ?? '.');
  const dockerfile = existsSync(target) && statSync(target).isDirectory() ? join(target, 'Dockerfile') : target;
  if (!existsSync(dockerfile)) throw new UserError(`${positionals[0] ?? '.'}: no Dockerfile there`);
  const buildArgs: Record<string, string> = {};
  for (const item of values['build-arg'] ?? []) {
    const at = item.indexOf('=');
    if (at <= 0) throw usageError(`--build-arg ${JSON.stringify(item)}: give NAME=VALUE`);
    buildArgs[item.slice(0, at)] = item.slice(at + 1);
  }
  const docker = await connectDocker();
  const { lockPath, lock, installs } = await lockDockerfile(docker, dockerfile, {
    buildArgs,
    suites: values.suite,
    envLocks: [...(values['env-lock'] ?? []).map((path) => resolve(path)), ...shippedEnvLocks()],
    sources: debSources(values),
    log,
  });
  const packages = lock.installs.reduce((sum, install) => sum + install.packages.length, 0);
  process.stdout.write(`locked ${installs} install${installs === 1 ? '' : 's'} (${packages} packages from ${lock.suites.join(', ')}) into ${lockPath}\n`);
  return 0;
}
