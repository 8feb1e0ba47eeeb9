import type { Document, LineCounter, Scalar, YAMLMap } from 'yaml';
import { MappedText, type Position } from '../mapped-text';
import { isPinnedImage, type RawFinding } from '../rules';
import { DownloadScope } from '../shell/downloads';
import { checkShellScript, type ShellCheckOptions } from '../shell/shell-rules';
import { checkDeepWorkflow, inDeepYamlWorker, isStackOverflow } from './deep-yaml';

type Node = ReturnType<Document['createNode']> | Scalar | YAMLMap | null | undefined;

/**
 * GitHub Actions: `uses:` of jobs (reusable workflows) and steps, job containers and services, and
 * the `run:` scripts. Anchors and aliases are followed (a finding is reported once, where the anchored
 * node is written), and merge keys (`<<: *defaults`) are honoured. `kind` is `action` for an
 * action.yml, whose steps are under `runs`.
 */
export function checkWorkflow(text: string, kind: 'workflow' | 'action', options: Omit<ShellCheckOptions, 'context'>): RawFinding[] {
  // yaml is loaded on first use: most scans and every build executor never read a workflow.
  const { LineCounter, parseDocument } = require('yaml') as typeof import('yaml');
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: false });
  if (doc.errors.length > 0) {
    const error = doc.errors[0];
    // yaml reports its own stack overflow as a YAML error: the depth is ours to judge (deep-yaml.ts).
    if (isStackOverflow(error.message)) {
      if (inDeepYamlWorker()) throw new RangeError(error.message);
      return checkDeepWorkflow(text, kind, options);
    }
    const [line, column] = error.linePos ? [error.linePos[0].line, error.linePos[0].col] : [1, 1];
    return [{ rule: 'pins-unparsable', line, column, message: `invalid YAML: ${error.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '')}` }];
  }
  try {
    return checkDocument(doc, text, lineCounter, kind, options);
  } catch (error) {
    if (isStackOverflow(error) && !inDeepYamlWorker()) return checkDeepWorkflow(text, kind, options);
    if (!(error instanceof WorkBudgetExceeded)) throw error;
    return [{ rule: 'pins-unparsable', line: 1, column: 1, message: `workflow not checked: ${error.message}` }];
  }
}

/**
 * Aliases and merge keys let a small file describe an enormous tree (`<<: [*a, *a, …]` nested); the
 * walk counts every node it visits and gives up past this many, with a finding instead of a hang.
 */
export const WORKFLOW_WORK_BUDGET = 200_000;

class WorkBudgetExceeded extends Error {}

function checkDocument(doc: Document, text: string, lineCounter: LineCounter, kind: 'workflow' | 'action', options: Omit<ShellCheckOptions, 'context'>): RawFinding[] {
  const { isAlias, isMap, isScalar, isSeq } = require('yaml') as typeof import('yaml');
  let work = 0;
  const spend = () => {
    if (++work > WORKFLOW_WORK_BUDGET) throw new WorkBudgetExceeded(`aliases and merge keys expand past ${WORKFLOW_WORK_BUDGET} nodes`);
  };
  const findings: RawFinding[] = [];
  const seen = new Set<unknown>();
  const positionOf = (node: Scalar): Position => {
    const offset = node.range![0] + (node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE' ? 1 : 0);
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
  const resolve = (node: unknown): Node => {
    let current = node;
    for (let depth = 0; isAlias(current) && depth < 100; depth++) {
      spend();
      current = current.resolve(doc);
    }
    return current as Node;
  };
  /** The key/value pairs of a mapping as YAML merge keys define them: its own first, then merged ones not overridden. */
  const entries = (map: Node): [string, Node][] => {
    const result = new Map<string, Node>();
    const visited = new Set<unknown>();
    const visit = (node: Node, depth: number) => {
      if (!isMap(node) || visited.has(node) || depth > 20) return;
      visited.add(node);
      const merged: Node[] = [];
      for (const pair of node.items) {
        spend();
        const key = isScalar(pair.key) ? String(pair.key.value) : undefined;
        if (key === '<<') {
          const source = resolve(pair.value);
          merged.push(...(isSeq(source) ? source.items.map(resolve) : [source]));
        } else if (key !== undefined && !result.has(key)) {
          result.set(key, resolve(pair.value));
        }
      }
      for (const source of merged) visit(source, depth + 1);
    };
    visit(map, 0);
    return [...result];
  };
  const get = (map: Node, key: string): Node => entries(map).find(([name]) => name === key)?.[1];
  const values = (node: Node): Node[] => {
    if (isSeq(node)) return node.items.map((item) => (spend(), resolve(item)));
    return entries(node).map(([, value]) => value);
  };
  const once = (node: Node): node is Scalar => isScalar(node) && typeof node.value === 'string' && !seen.has(node) && (seen.add(node), true);
  const report = (node: Scalar, rule: string, message: string) => findings.push({ rule, ...positionOf(node), message });

  const checkUses = (node: Node) => {
    if (!once(node)) return;
    const problem = usesProblem(node.value as string);
    if (problem) report(node, 'actions-unpinned', `uses: ${node.value}: ${problem}`);
  };
  const checkImage = (node: Node, where: string) => {
    const image = isMap(node) ? get(node, 'image') : node;
    if (!once(image)) return;
    const reference = (image.value as string).replace(/^docker:\/\//, '');
    if (reference.trim() === '') return; // `container: ''` (a matrix leaving it out) runs no container
    if (!reference.includes('${{') && !isPinnedImage(reference)) report(image, 'container-image-unpinned', `${where} ${reference}: the image is not pinned by digest`);
  };
  /** Steps run in order in one job: a file downloaded by one step and run by a later one is found. */
  const checkSteps = (steps: Node, defaultShell: string | undefined, windows: boolean) => {
    const shellOptions: ShellCheckOptions = { ...options, context: 'workflow', downloads: new DownloadScope(options.readRelated) };
    for (const step of values(steps)) {
      checkUses(get(step, 'uses'));
      const run = get(step, 'run');
      const stepShell = scalarText(get(step, 'shell'));
      const stepWindows = windows || /runner\.os\s*==\s*['"]windows['"]|startsWith\(\s*runner\.os\s*,\s*['"]windows['"]/i.test(scalarText(get(step, 'if')) ?? '');
      const shell = stepShell ?? defaultShell ?? (stepWindows ? 'pwsh' : 'bash');
      if (!runsPosixShell(shell) || !once(run)) continue;
      findings.push(...checkShellScript(scriptOf(run, text, lineCounter), shellOptions));
    }
  };
  const scalarText = (node: Node): string | undefined => (isScalar(node) && node.value !== null ? String(node.value) : undefined);
  /** Whether every runner a job may get is Windows: a label, a list of labels, or `${{ matrix.x }}` whose values all are. */
  const runsOnWindows = (job: Node): boolean => {
    const runsOn = get(job, 'runs-on');
    const labels = (node: Node): string[] => (isSeq(node) ? node.items.map((item) => scalarText(resolve(item)) ?? '') : isMap(node) ? labels(get(node, 'labels')) : [scalarText(node) ?? '']);
    const own = labels(runsOn);
    const isWindows = (label: string) => /^windows/i.test(label.trim());
    if (own.some(isWindows)) return true;
    const expression = /^\s*\$\{\{\s*matrix\.([A-Za-z0-9_-]+)\s*\}\}\s*$/.exec(own.length === 1 ? own[0] : '');
    if (!expression) return false;
    const matrix = get(get(job, 'strategy'), 'matrix');
    const candidates = [...labels(get(matrix, expression[1])), ...values(get(matrix, 'include')).map((entry) => scalarText(get(entry, expression[1])) ?? '')].filter(
      (value) => value !== '',
    );
    return candidates.length > 0 && candidates.every(isWindows);
  };

  const root = resolve(doc.contents);
  if (kind === 'action') {
    const runs = get(root, 'runs');
    checkSteps(get(runs, 'steps'), undefined, false);
    const image = get(runs, 'image');
    if (isScalar(image) && String(image.value).startsWith('docker://')) checkImage(image, 'runs.image');
    return findings;
  }
  const workflowShell = scalarText(get(get(get(root, 'defaults'), 'run'), 'shell'));
  const jobs = get(root, 'jobs');
  for (const [name, job] of entries(jobs)) {
    checkUses(get(job, 'uses'));
    const container = get(job, 'container');
    if (container !== undefined) checkImage(container, `jobs.${name}.container`);
    for (const [service, definition] of entries(get(job, 'services'))) checkImage(definition, `jobs.${name}.services.${service}`);
    const jobShell = scalarText(get(get(get(job, 'defaults'), 'run'), 'shell')) ?? workflowShell;
    checkSteps(get(job, 'steps'), jobShell, runsOnWindows(job));
  }
  return findings;
}

/**
 * Whether a `shell:` runs a POSIX shell: `bash`, `sh`, or a custom command whose program is one
 * (`/usr/bin/bash -e {0}`, `bash --noprofile --norc -eo pipefail {0}`). pwsh, cmd, powershell and
 * python steps are not shell scripts. An expression (`${{ matrix.shell }}`) is read as a shell, to be safe.
 */
export function runsPosixShell(shell: string): boolean {
  const program = shell.trim().split(/\s+/)[0] ?? '';
  if (program.startsWith('${{')) return true;
  return /^(ba|da|z|k|mk|a)?sh$/.test(program.replace(/^.*\//, ''));
}

/** Why a `uses:` value is not pinned, or undefined when it is. */
export function usesProblem(uses: string): string | undefined {
  if (uses.startsWith('./') || uses.startsWith('../')) return undefined; // in this repository, pinned by its commit
  if (uses.startsWith('docker://')) return isPinnedImage(uses.slice('docker://'.length)) ? undefined : 'the image is not pinned by digest';
  const at = uses.lastIndexOf('@');
  if (at < 0) return 'no version at all (the default branch)';
  const ref = uses.slice(at + 1);
  if (/^([0-9a-f]{40}|[0-9a-f]{64})$/.test(ref)) return undefined;
  if (/^[0-9a-f]{7,39}$/.test(ref)) return `${ref} is an abbreviated commit SHA (write all 40 digits)`;
  return `${ref} is a tag or branch, which can move (pin a 40-hex commit SHA)`;
}

/**
 * The script of a `run:` value, mapped back to the file: a block scalar line by line without its
 * indentation (so positions are exact), a flow scalar from where it starts.
 */
function scriptOf(node: Scalar, text: string, lineCounter: LineCounter): MappedText {
  const [start, end] = node.range!;
  const { line: firstLine, col } = lineCounter.linePos(start);
  if (node.type !== 'BLOCK_LITERAL' && node.type !== 'BLOCK_FOLDED') {
    const quoted = node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE' ? 1 : 0;
    return MappedText.fromLines(String(node.value), { line: firstLine, column: col + quoted });
  }
  const lines = text.slice(start, end).split('\n').slice(1); // the first line is the `|` header
  const indent = Math.min(...lines.filter((line) => line.trim() !== '').map((line) => line.length - line.trimStart().length));
  const folded = node.type === 'BLOCK_FOLDED';
  const script = new MappedText();
  lines.forEach((line, i) => {
    const content = line.slice(indent);
    const next = lines[i + 1];
    // A folded scalar joins adjacent lines of text with a space; more-indented lines keep their newline.
    const joined = folded && content.trim() !== '' && !/^\s/.test(content) && next !== undefined && next.trim() !== '' && !/^\s/.test(next.slice(indent));
    script.append(content.replace(/\r$/, '') + (joined ? ' ' : '\n'), { line: firstLine + 1 + i, column: indent + 1 });
  });
  return script;
}
