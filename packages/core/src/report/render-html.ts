import { posix } from 'node:path';
import type { ArtifactReport, ArtifactVerdict, ProjectReport, ReprokitReport } from './report-types';
import { variationCell, variationLines } from './variation-results';

/** The word and the symbol of each verdict: the status is never told by colour alone. */
export const VERDICT_LABEL: Record<ArtifactVerdict, { symbol: string; word: string }> = {
  reproduced: { symbol: '✓', word: 'REPRODUCED' },
  mismatch: { symbol: '✗', word: 'MISMATCH' },
  missing: { symbol: '!', word: 'MISSING' },
  'not-built': { symbol: '○', word: 'NOT BUILT' },
  unexpected: { symbol: '?', word: 'UNEXPECTED' },
};

const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** A hash shortened for the table; the full value is on hover (title) and behind a copy button. */
function hashCell(hash: string | undefined, what: string): string {
  if (!hash) return '<td>-</td>';
  return `<td class="hash"><code title="${escapeHtml(hash)}">${escapeHtml(hash.slice(0, 12))}…</code> ${copyButton(hash, `Copy ${what}`)}</td>`;
}

/** Copy buttons need JavaScript: they are in the page hidden, and the script shows them. */
function copyButton(text: string, label: string): string {
  return `<button type="button" class="copy" data-copy="${escapeHtml(text)}" aria-label="${escapeHtml(label)}" hidden>Copy</button>`;
}

function formatSize(bytes: number | undefined): string {
  if (bytes === undefined) return '-';
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = -1;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

function statusBadge(status: ArtifactVerdict): string {
  const { symbol, word } = VERDICT_LABEL[status];
  return `<span class="status status-${status}"><span aria-hidden="true">${symbol}</span> ${word}</span>`;
}

function environmentText(artifact: ArtifactReport): string {
  const env = artifact.environment;
  if (!env) return '-';
  if (env.type === 'host') return `host: ${env.toolchain ?? '?'}`;
  const [name, digest] = (env.image ?? '').split('@');
  return `${name}${digest ? '@' + digest.slice(0, 19) + '…' : ''}${env.toolchain ? ` (${env.toolchain})` : ''}`;
}

function artifactRows(project: ProjectReport, artifact: ArtifactReport): string {
  const hash = artifact.actual?.blake2b512 ?? artifact.expected?.blake2b512;
  const size = artifact.actual?.size ?? artifact.expected?.size;
  const details: string[] = [...artifact.explanation];
  if (artifact.image) details.push(`image ID ${artifact.image.id}`, `manifest digest ${artifact.image.manifestDigest}`);
  if (artifact.publishedChecks) {
    for (const c of artifact.publishedChecks) if (c.status === 'match') details.push(`published ${c.location}: MATCH${c.note ? ` (${c.note})` : ''}`);
  } else {
    for (const location of artifact.published ?? []) details.push(`published (not checked): ${JSON.stringify(location)}`);
  }
  if (artifact.attestations?.ok) details.push(`attested PASSED by ${artifact.attestations.passedBy.join(', ')} (threshold ${artifact.attestations.threshold})`);
  if (artifact.variations) details.push(...variationLines(artifact.variations));
  for (const extra of artifact.extra ?? []) details.push(`${extra.label}: ${extra.text} (${extra.source})`);
  const envTitle = artifact.environment?.image ?? artifact.environment?.toolchain ?? '';
  const row = [
    `<tr>`,
    `<td>${escapeHtml(project.name)}</td>`,
    `<th scope="row">${escapeHtml(artifact.name)}</th>`,
    `<td>${escapeHtml(artifact.kind)}</td>`,
    `<td data-sort="${artifact.status}">${statusBadge(artifact.status)}</td>`,
    `<td data-sort="${size ?? -1}">${formatSize(size)}</td>`,
    hashCell(hash, `BLAKE2b-512 of ${artifact.name}`),
    hashCell(artifact.actual?.sha256 ?? artifact.expected?.sha256, `SHA-256 of ${artifact.name}`),
    `<td title="${escapeHtml(envTitle)}">${escapeHtml(environmentText(artifact))}</td>`,
    `<td data-sort="${artifact.variations?.verdict ?? ''}">${escapeHtml(variationCell(artifact.variations))}</td>`,
    `<td>${escapeHtml(project.recorded?.recordedAt ?? '-')}</td>`,
    `</tr>`,
  ].join('');
  const explanation = details.length
    ? `<tr class="details"><td></td><td colspan="9"><ul>${details.map((line) => `<li>${escapeHtml(line)}</li>`).join('')}</ul></td></tr>`
    : '';
  // One tbody per artifact keeps its explanation with it when the table is sorted or filtered.
  return `<tbody class="artifact" data-status="${artifact.status}" data-text="${escapeHtml(`${project.name} ${artifact.name} ${artifact.kind} ${artifact.path}`.toLowerCase())}">${row}${explanation}</tbody>`;
}

function pinSection(project: ProjectReport, linkBase: string): string {
  const { findings } = project.pins;
  if (!findings.length) return `<p>No pin findings.</p>`;
  const order = { error: 0, warning: 1, note: 2 } as const;
  const sorted = [...findings].sort((a, b) => order[a.severity] - order[b.severity] || a.file.localeCompare(b.file) || a.line - b.line);
  const rows = sorted
    .map((finding) => {
      const where = `${finding.file}:${finding.line}:${finding.column}`;
      const href = posix.join(linkBase, finding.file.split('/').map(encodeURIComponent).join('/'));
      return `<tr><td><span class="severity severity-${finding.severity}">${finding.severity.toUpperCase()}</span></td><td><a href="${escapeHtml(href)}">${escapeHtml(where)}</a></td><td><code>${escapeHtml(finding.rule)}</code></td><td>${escapeHtml(finding.message)}<br><span class="fix">Fix: ${escapeHtml(finding.fix)}</span></td></tr>`;
    })
    .join('');
  return `<p>${project.pins.error} error, ${project.pins.warning} warning, ${project.pins.note} note.</p><table class="pins"><caption>Pin findings of ${escapeHtml(project.name)}</caption><thead><tr><th scope="col">Severity</th><th scope="col">Where</th><th scope="col">Rule</th><th scope="col">Finding</th></tr></thead><tbody>${rows}</tbody></table>`;
}

const STYLE = `
[hidden]{display:none!important}
:root{color-scheme:light dark;--ok:#1a7f37;--bad:#cf222e;--warn:#9a6700;--muted:#656d76;--line:#d0d7de}
body{font:15px/1.45 system-ui,sans-serif;margin:0 auto;max-width:1200px;padding:1rem 1.5rem}
h1{margin:.2em 0}h2{margin-top:2em;border-bottom:1px solid var(--line)}
.verdict{font-size:1.25em;font-weight:600;padding:.5em .8em;border-left:6px solid}
.verdict.ok{border-color:var(--ok)}.verdict.fail{border-color:var(--bad)}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.2em 1em}dl.facts dt{font-weight:600}dl.facts dd{margin:0;font-family:ui-monospace,monospace;word-break:break-all}
ul.counts{display:flex;flex-wrap:wrap;gap:.5em 1.5em;list-style:none;padding:0}
table{border-collapse:collapse;width:100%;margin:.5em 0}th,td{text-align:left;padding:.3em .5em;border-bottom:1px solid var(--line);vertical-align:top}
caption{text-align:left;color:var(--muted);padding:.3em 0}
.status{font-weight:600;white-space:nowrap}.status-reproduced{color:var(--ok)}.status-mismatch,.status-missing,.status-unexpected{color:var(--bad)}.status-not-built{color:var(--muted)}
.severity{font-weight:600}.severity-error{color:var(--bad)}.severity-warning{color:var(--warn)}.severity-note{color:var(--muted)}
.fix{color:var(--muted)}tr.details td{border-bottom:1px solid var(--line)}tr.details ul{margin:0;padding-left:1.2em;font-family:ui-monospace,monospace;font-size:.9em;word-break:break-all}
pre{background:rgba(127,127,127,.12);padding:.8em;overflow-x:auto}
button{font:inherit;cursor:pointer}button:focus-visible,a:focus-visible,input:focus-visible,select:focus-visible{outline:3px solid #0969da;outline-offset:2px}
.hash{white-space:nowrap}.hash code{font-size:.9em}.controls{display:flex;gap:1em;margin:.5em 0}th button.sort{all:unset;cursor:pointer;font-weight:700}th button.sort:focus-visible{outline:3px solid #0969da}
`;

/** Progressive enhancement only: the page says everything without it. */
const SCRIPT = `
(function(){
  document.querySelectorAll('button.copy').forEach(function(b){
    b.hidden=false;
    b.addEventListener('click',function(){
      var text=b.dataset.copyTarget?document.getElementById(b.dataset.copyTarget).textContent:b.dataset.copy;
      var done=function(){var old=b.textContent;b.textContent='Copied';setTimeout(function(){b.textContent=old},1500)};
      if(navigator.clipboard&&window.isSecureContext){navigator.clipboard.writeText(text).then(done,fallback)}else{fallback()}
      function fallback(){var t=document.createElement('textarea');t.value=text;document.body.appendChild(t);t.select();try{document.execCommand('copy');done()}catch(e){}t.remove()}
    });
  });
  var table=document.getElementById('artifacts');if(!table)return;
  var controls=document.getElementById('controls');controls.hidden=false;
  var filter=document.getElementById('filter'),status=document.getElementById('status-filter');
  function apply(){var q=filter.value.toLowerCase(),s=status.value;
    table.querySelectorAll('tbody.artifact').forEach(function(t){t.hidden=!((!s||t.dataset.status===s)&&(!q||t.dataset.text.indexOf(q)>=0))});}
  filter.addEventListener('input',apply);status.addEventListener('change',apply);
  table.querySelectorAll('thead th').forEach(function(th,i){
    var b=document.createElement('button');b.type='button';b.className='sort';b.textContent=th.textContent;th.textContent='';th.appendChild(b);
    b.addEventListener('click',function(){
      var dir=th.getAttribute('aria-sort')==='ascending'?-1:1;
      table.querySelectorAll('thead th').forEach(function(o){o.removeAttribute('aria-sort')});
      th.setAttribute('aria-sort',dir>0?'ascending':'descending');
      var key=function(t){var c=t.rows[0].cells[i];var v=c.dataset.sort!==undefined?c.dataset.sort:c.textContent;return isNaN(Number(v))?v:Number(v)};
      Array.prototype.slice.call(table.tBodies).sort(function(a,b){var x=key(a),y=key(b);return (x>y?1:x<y?-1:0)*dir}).forEach(function(t){table.appendChild(t)});
    });
  });
})();
`;

export interface HtmlOptions {
  /** The workspace root relative to the page's directory, for links to files with findings. */
  linkBase: string;
}

/**
 * The report as one static page: inline style and script, no external asset, readable without
 * JavaScript (which only adds filtering, sorting and copy buttons), so it works from file://, as a CI
 * artifact or attached to a release.
 */
export function renderReportHtml(report: ReprokitReport, options: HtmlOptions): string {
  const artifacts = report.projects.flatMap((project) => project.artifacts.map((artifact) => ({ project, artifact })));
  const total = artifacts.filter(({ artifact }) => artifact.status !== 'unexpected').length;
  const failed = artifacts.filter(({ artifact }) => artifact.status !== 'reproduced').length;
  const unreadable = report.projects.filter((project) => project.error).length;
  const headline = report.ok
    ? `✓ All ${total} artifacts reproduced`
    : `✗ Not reproduced: ${failed} of ${artifacts.length} artifacts${unreadable ? `, ${unreadable} unreadable manifest${unreadable > 1 ? 's' : ''}` : ''}`;
  const state = report.workspace.commit === 'none' ? 'not a git repository' : report.workspace.dirty ? 'uncommitted changes' : 'clean';
  const counts = (Object.keys(VERDICT_LABEL) as ArtifactVerdict[])
    .map((verdict) => `<li>${statusBadge(verdict)}: <strong>${report.counts[verdict]}</strong></li>`)
    .join('');
  const statusOptions = (Object.keys(VERDICT_LABEL) as ArtifactVerdict[]).map((verdict) => `<option value="${verdict}">${VERDICT_LABEL[verdict].word.toLowerCase()}</option>`).join('');
  const projectSections = report.projects
    .map((project) => {
      const facts = [
        project.manifest ? `<dt>Manifest</dt><dd>${escapeHtml(project.manifest)}</dd>` : '',
        project.recorded ? `<dt>Recorded</dt><dd>${escapeHtml(project.recorded.recordedAt)} at commit ${escapeHtml(project.recorded.commit)}</dd>` : '',
        project.error ? `<dt>Error</dt><dd><span class="status status-mismatch"><span aria-hidden="true">✗</span> UNREADABLE</span> ${escapeHtml(project.error)}</dd>` : '',
      ].join('');
      return `<section class="project" aria-labelledby="project-${escapeHtml(project.root)}"><h3 id="project-${escapeHtml(project.root)}">${escapeHtml(project.name)} <small>(${escapeHtml(project.root)})</small></h3><dl class="facts">${facts}</dl><h4>Pin findings</h4>${pinSection(project, options.linkBase)}</section>`;
    })
    .join('\n');
  const rows = artifacts.map(({ project, artifact }) => artifactRows(project, artifact)).join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>reprokit report: ${escapeHtml(report.ok ? 'reproduced' : 'NOT reproduced')} at ${escapeHtml(report.workspace.commit.slice(0, 12))}</title>
<style>${STYLE}</style>
</head>
<body>
<header>
<h1>Reproducibility report</h1>
<p class="verdict ${report.ok ? 'ok' : 'fail'}" id="verdict">${escapeHtml(headline)}</p>
<dl class="facts">
<dt>Commit</dt><dd>${escapeHtml(report.workspace.commit)} (${state})</dd>
<dt>Commit date</dt><dd>${escapeHtml(report.workspace.commitDate)}</dd>
<dt>Checked at</dt><dd>${escapeHtml(report.generatedAt)}</dd>
<dt>reprokit</dt><dd>${escapeHtml(report.reprokitVersion)}</dd>
</dl>
<ul class="counts" aria-label="Verdicts">${counts}</ul>
</header>
<main>
<section aria-labelledby="trail-heading">
<h2 id="trail-heading">Paper trail</h2>
<p>Write this down with pen and paper, or keep it where software cannot change it: the commit, its date, the builder images and the BLAKE2b-512 of every artifact that reproduced. From the workspace root, <code>b2sum -c</code> accepts the hash lines as they are.</p>
<pre id="paper-trail">${escapeHtml(report.paperTrail)}</pre>
<p><button type="button" class="copy" data-copy-target="paper-trail" hidden>Copy paper trail</button></p>
</section>
<section aria-labelledby="artifacts-heading">
<h2 id="artifacts-heading">Artifacts</h2>
<div class="controls" id="controls" hidden><label>Filter <input type="search" id="filter"></label><label>Status <select id="status-filter"><option value="">all</option>${statusOptions}</select></label></div>
<table id="artifacts">
<caption>Every artifact of every manifest, checked against what is on disk; what differs is listed under a row.</caption>
<thead><tr><th scope="col">Project</th><th scope="col">Artifact</th><th scope="col">Kind</th><th scope="col">Status</th><th scope="col">Size</th><th scope="col">BLAKE2b-512</th><th scope="col">SHA-256</th><th scope="col">Environment</th><th scope="col">Variations</th><th scope="col">Recorded</th></tr></thead>
${rows}
</table>
</section>
<section aria-labelledby="projects-heading">
<h2 id="projects-heading">Projects</h2>
${report.attestations ? `<h3>Attestations</h3><p>Threshold ${report.attestations.threshold} of ${report.attestations.trustedBuilders.length} trusted builders (${escapeHtml(report.attestations.trustedBuilders.join(', '))}).</p>${report.attestations.rejected.length ? `<ul>${report.attestations.rejected.map((line) => `<li><span class="status status-mismatch">✗ REFUSED</span> ${escapeHtml(line)}</li>`).join('')}</ul>` : ''}` : ''}
${report.pinsError ? `<p><span class="status status-mismatch">✗ PIN SCAN FAILED</span> ${escapeHtml(report.pinsError)}</p>` : ''}
${projectSections}
</section>
</main>
<script>${SCRIPT}</script>
</body>
</html>
`;
}
