import { mkdirSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { describeFsError, UserError } from '../errors';
import { gitToplevel } from '../git';
import { writeFileAtomic } from '../manifest/json-file';
import { schemaChecker } from '../manifest/json-schema';
import { collectReport, type ReprokitReport } from './collect-report';
import { renderReportHtml } from './render-html';
import { renderReportMarkdown } from './render-markdown';
import { DOWNLOAD_OPTIONS, downloadOptions } from '../net/download-options';

export const REPORT_USAGE = 'report [WORKSPACE] [--out DIR] [--json] [--no-pins] [--published [--timeout S] [--deadline S] [--speed-limit B] [--speed-time S] [--allow-private-network]] [--attestations DIR|--attestations-from REGISTRY --trusted-keys PATH [--threshold N]]';

const checkReport = schemaChecker<ReprokitReport>('reprokit-report.schema.json');

/** The files `--out DIR` writes. */
export const REPORT_FILES = { html: 'index.html', markdown: 'report.md', json: 'report.json' } as const;

/**
 * `reprokit report`: verifies what is on disk against every manifest of the workspace (it builds
 * nothing) and writes the page, the Markdown summary and the JSON into DIR, or prints the Markdown
 * (or with --json the JSON) to standard output. Exit 0 when everything reproduced, 1 otherwise.
 */
export async function reportCommand(args: string[], usageError: (message: string) => Error): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      out: { type: 'string' },
      json: { type: 'boolean', default: false },
      'no-pins': { type: 'boolean', default: false },
      published: { type: 'boolean', default: false },
      ...DOWNLOAD_OPTIONS,
      attestations: { type: 'string' },
      'attestations-from': { type: 'string' },
      'trusted-keys': { type: 'string' },
      threshold: { type: 'string', default: '1' },
    },
    allowPositionals: true,
  });
  if (positionals.length > 1) throw usageError('report: name at most one WORKSPACE directory');
  if (values.out === '') throw usageError('report: --out needs a directory');
  if (values.attestations !== undefined && values['attestations-from'] !== undefined) throw usageError('report: --attestations and --attestations-from: give one (a directory, or a registry host:port[/path])');
  const source = values.attestations ?? values['attestations-from'];
  if ((source === undefined) !== (values['trusted-keys'] === undefined)) throw usageError('report: --attestations (or --attestations-from) and --trusted-keys go together');
  const threshold = Number(values.threshold);
  const attestations = source !== undefined ? { dir: values.attestations, from: values['attestations-from'], trustedKeys: values['trusted-keys']!, threshold } : undefined;
  const start = resolve(positionals[0] ?? '.');
  // A FIFO, a device or a file named as the workspace: say so (git would fail with ENOTDIR, reported as missing git).
  let stats;
  try {
    stats = statSync(start);
  } catch (error) {
    throw describeFsError(error, positionals[0] ?? '.');
  }
  if (!stats.isDirectory()) throw new UserError(`${positionals[0]}: is ${stats.isFile() ? 'a file' : stats.isFIFO() ? 'a FIFO' : stats.isCharacterDevice() || stats.isBlockDevice() ? 'a device' : 'not a directory'}, expected a workspace directory`);
  const workspaceRoot = gitToplevel(start) ?? start;
  const report = await collectReport({ workspaceRoot, pins: !values['no-pins'], attestations, published: values.published, download: downloadOptions(values) });
  // The JSON is what the page and the summary are made from: it must be what the schema promises.
  checkReport(JSON.parse(JSON.stringify(report)), 'reprokit report');
  const json = JSON.stringify(report, null, 2) + '\n';
  if (values.out !== undefined) {
    const out = resolve(values.out);
    try {
      mkdirSync(out, { recursive: true });
    } catch (error) {
      throw new UserError(`--out ${values.out}: cannot create the directory (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    }
    const linkBase = relative(out, workspaceRoot).split('\\').join('/') || '.';
    writeFileAtomic(join(out, REPORT_FILES.html), renderReportHtml(report, { linkBase }));
    writeFileAtomic(join(out, REPORT_FILES.markdown), renderReportMarkdown(report));
    writeFileAtomic(join(out, REPORT_FILES.json), json);
    const c = report.counts;
    process.stdout.write(
      `${report.ok ? 'REPRODUCED' : 'NOT REPRODUCED'}: ${c.reproduced} reproduced, ${c.mismatch} mismatch, ${c.missing} missing, ${c['not-built']} not built, ${c.unexpected} unexpected\n` +
        `wrote ${join(values.out, REPORT_FILES.html)}, ${REPORT_FILES.markdown} and ${REPORT_FILES.json}\n`,
    );
    if (values.json) process.stdout.write(json);
  } else {
    process.stdout.write(values.json ? json : renderReportMarkdown(report));
  }
  return report.ok ? 0 : 1;
}
