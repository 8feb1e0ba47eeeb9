import { parseArgs } from 'node:util';
import { renderDiff } from '../diff/render';
import { UserError } from '../errors';
import { readManifest, writeManifest, type PublishedLocation } from '../manifest/manifest';
import { checkPublished, describeLocation, type PublishedResult } from './check';
import { DOWNLOAD_OPTIONS, downloadOptions, type DownloadOptions } from '../net/download-options';

const LABEL = { match: 'MATCH', differs: 'DIFFERS', unreachable: 'UNREACHABLE' } as const;

/** One line per location; a difference's explanation indented below it. */
export function renderPublished(result: PublishedResult): string {
  const lines: string[] = [];
  for (const check of result.checks) {
    // An unreachable location's error starts with its own URL: say it once.
    const why = (check.reason ?? check.note)?.replace(`${check.location}: `, '');
    lines.push(`${LABEL[check.status].padEnd(11)} ${check.artifact} ${check.location}${why ? `: ${why}` : ''}`);
    if (check.diff && !check.diff.same) lines.push(renderDiff(check.diff, '    ').trimEnd());
    if (check.rebuild) lines.push(...check.rebuild.report.trimEnd().split('\n').map((line) => `    rebuild: ${line}`));
  }
  const count = (status: keyof typeof LABEL) => result.checks.filter((check) => check.status === status).length;
  lines.push(`${result.manifestPath}: ${result.checks.length} published locations, ${count('match')} match, ${count('differs')} differ, ${count('unreachable')} unreachable`);
  return lines.join('\n') + '\n';
}

/** `published add`: records a location in the manifest (validated, written atomically); adding it twice changes nothing. */
async function addLocation(args: string[], write: (text: string) => void): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { url: { type: 'string' }, oci: { type: 'string' }, pacman: { type: 'string' }, repo: { type: 'string' }, npm: { type: 'string' }, registry: { type: 'string' } },
    allowPositionals: true,
  });
  if (positionals.length !== 2) throw new UserError('published add: name the MANIFEST and the ARTIFACT');
  const [manifestPath, name] = positionals;
  const given = [values.url, values.oci, values.pacman, values.npm].filter((value) => value !== undefined).length;
  if (given !== 1) throw new UserError('published add: give exactly one of --url, --oci, --pacman, --npm');
  if (values.registry !== undefined && values.npm === undefined) throw new UserError('published add: --registry goes with --npm');
  if ((values.pacman === undefined) !== (values.repo === undefined)) throw new UserError('published add: --pacman and --repo go together');
  const location: PublishedLocation =
    values.url !== undefined
      ? { url: values.url }
      : values.oci !== undefined
        ? { oci: values.oci }
        : values.npm !== undefined
          ? { npm: values.npm, ...(values.registry !== undefined ? { registry: values.registry } : {}) }
          : { pacman: values.pacman!, repo: values.repo! };
  const manifest = await readManifest(manifestPath);
  const artifact = manifest.artifacts.find((candidate) => candidate.name === name);
  if (!artifact) throw new UserError(`${manifestPath}: no artifact named ${JSON.stringify(name)} (${manifest.artifacts.map((a) => a.name).join(', ')})`);
  const text = describeLocation(location).text;
  if ((artifact.published ?? []).some((existing) => describeLocation(existing).text === text)) {
    write(`${name}: ${text} already listed\n`);
    return 0;
  }
  artifact.published = [...(artifact.published ?? []), location];
  writeManifest(manifestPath, manifest);
  write(`${name}: added ${text}\n`);
  return 0;
}

/** `reprokit published`: exit 0 all match, 1 a publication differs, 2 unreachable or bad input. */
export async function publishedCommand(args: string[], write: (text: string) => void, log: (line: string) => void): Promise<number> {
  if (args[0] === 'add') return addLocation(args.slice(1), write);
  const { values, positionals } = parseArgs({
    args,
    options: { json: { type: 'boolean', default: false }, 'if-listed': { type: 'boolean', default: false }, rebuild: { type: 'boolean', default: false }, ...DOWNLOAD_OPTIONS },
    allowPositionals: true,
  });
  if (positionals.length !== 1) throw new UserError('published: name exactly one MANIFEST (a repro-manifest.json)');
  const download = downloadOptions(values);
  // The inferred Nx target runs for every manifest: one that lists no publication has nothing to check.
  if (values['if-listed'] && !(await readManifest(positionals[0])).artifacts.some((artifact) => artifact.published?.length)) {
    write(`${positionals[0]}: no published locations listed (add one with \`reprokit published add\`)\n`);
    return 0;
  }
  const result = await checkPublished(positionals[0], { ...download, rebuild: values.rebuild, log: values.json ? undefined : log });
  write(values.json ? JSON.stringify(result, null, 2) + '\n' : renderPublished(result));
  return result.exitCode;
}

/** `reproduce --published`: the publication check after the rebuild, in the same report. */
export async function reproducePublished(manifestPath: string, write: (text: string) => void, options: DownloadOptions = {}): Promise<number> {
  write('\npublished:\n');
  const result = await checkPublished(manifestPath, options);
  write(renderPublished(result));
  return result.exitCode;
}
