import type { Document, LineCounter, Scalar, YAMLMap } from 'yaml';
import { MappedText, type Position } from './mapped-text';
import { isPinnedImage, type RawFinding } from './rules';
import { checkShellScript, type ShellCheckOptions } from './shell-rules';

type Node = ReturnType<Document['createNode']> | Scalar | YAMLMap | null | undefined;

/**
 * GitHub Actions: `uses:` of jobs (reusable workflows) and steps, job containers and services, and
 * the `run:` scripts. Anchors and aliases are followed (a finding is reported once, where the anchored
 * node is written), and merge keys (`<<: *defaults`) are honoured. `kind` is `action` for an
 * action.yml, whose steps are under `runs`.
 */
export function checkWorkflow(text: string, kind: 'workflow' | 'action', options: Omit<ShellCheckOptions, 'context'>): RawFinding[] {
  // yaml is loaded on first use: most scans and every build executor never read a workflow.
  const { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument } = require('yaml') as typeof import('yaml');
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: false });
  if (doc.errors.length > 0) {
    const error = doc.errors[0];
    const [line, column] = error.linePos ? [error.linePos[0].line, error.linePos[0].col] : [1, 1];
    return [{ rule: 'pins-unparsable', line, column, message: `invalid YAML: ${error.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '')}` }];
  }
  const findings: RawFinding[] = [];
  const seen = new Set<unknown>();
  const shellOptions: ShellCheckOptions = { ...options, context: 'workflow' };
  const positionOf = (node: Scalar): Position => {
    const offset = node.range![0] + (node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE' ? 1 : 0);
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
  const resolve = (node: unknown): Node => {
    let current = node;
    for (let depth = 0; isAlias(current) && depth < 100; depth++) current = current.resolve(doc);
    return current as Node;
  };
  /** A key of a mapping, looking into merged mappings (`<<`) after the mapping's own keys. */
  const get = (map: Node, key: string, depth = 0): Node => {
    if (!isMap(map) || depth > 20) return undefined;
    const own = map.items.find((pair) => isScalar(pair.key) && pair.key.value === key);
    if (own) return resolve(own.value);
    for (const pair of map.items) {
      if (!isScalar(pair.key) || pair.key.value !== '<<') continue;
      const merged = resolve(pair.value);
      for (const source of isSeq(merged) ? merged.items.map(resolve) : [merged]) {
        const found = get(source, key, depth + 1);
        if (found !== undefined) return found;
      }
    }
    return undefined;
  };
  const values = (node: Node): Node[] => {
    if (isSeq(node)) return node.items.map(resolve);
    if (isMap(node)) return node.items.filter((pair) => !(isScalar(pair.key) && pair.key.value === '<<')).map((pair) => resolve(pair.value));
    return [];
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
    if (!reference.includes('${{') && !isPinnedImage(reference)) report(image, 'container-image-unpinned', `${where} ${reference}: the image is not pinned by digest`);
  };
  const checkSteps = (steps: Node, defaultShell: Node) => {
    for (const step of values(steps)) {
      checkUses(get(step, 'uses'));
      const run = get(step, 'run');
      const shell = get(step, 'shell') ?? defaultShell;
      const shellName = isScalar(shell) ? String(shell.value) : 'bash';
      if (!/^(bash|sh)\b/.test(shellName) || !once(run)) continue;
      findings.push(...checkShellScript(scriptOf(run, text, lineCounter), shellOptions));
    }
  };
  const root = resolve(doc.contents);
  if (kind === 'action') {
    const runs = get(root, 'runs');
    checkSteps(get(runs, 'steps'), undefined);
    const image = get(runs, 'image');
    if (isScalar(image) && String(image.value).startsWith('docker://')) checkImage(image, 'runs.image');
    return findings;
  }
  const workflowShell = get(get(get(root, 'defaults'), 'run'), 'shell');
  const jobs = get(root, 'jobs');
  if (!isMap(jobs)) return findings;
  for (const pair of jobs.items) {
    const job = resolve(pair.value);
    const name = isScalar(pair.key) ? String(pair.key.value) : '?';
    checkUses(get(job, 'uses'));
    const container = get(job, 'container');
    if (container !== undefined) checkImage(container, `jobs.${name}.container`);
    const services = get(job, 'services');
    if (isMap(services)) {
      for (const service of services.items) checkImage(resolve(service.value), `jobs.${name}.services.${isScalar(service.key) ? service.key.value : '?'}`);
    }
    checkSteps(get(job, 'steps'), get(get(get(job, 'defaults'), 'run'), 'shell') ?? workflowShell);
  }
  return findings;
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
