import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { repoRoot, TempWorkspace } from './workspace';

/** Screenshots are kept here, outside the temp workspaces, for CI to keep as artifacts. */
const SCREENSHOTS = join(repoRoot, 'test-artifacts', 'report');

/**
 * Debian's chromium (tools/setup installs it), driven by playwright-core; no browser download. The
 * flags keep it from reaching for the network, which this machine refuses.
 */
function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

async function openReport(browser: Browser, file: string, name: string, javaScriptEnabled = true): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, javaScriptEnabled });
  await page.goto(`file://${file}`);
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
  return page;
}

/** The status column of every artifact row, as text. */
const statuses = (page: Page) => page.$$eval('#artifacts tbody.artifact tr:first-child td:nth-child(4)', (cells) => cells.map((c) => c.textContent!.trim()));

describe('reprokit report in a real browser', () => {
  const ws = new TempWorkspace();
  let browser: Browser;
  before(async () => {
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
  });

  it('the Nx report target builds every project first, then writes the page, the Markdown and the JSON', () => {
    const { status, output } = ws.nx('run', 'reprokit-workspace:report', '--output-style=static');
    assert.equal(status, 0, output);
    assert.match(output, /nx run asdf:elf/);
    assert.match(output, /nx run hello-c:elf/);
    assert.match(output, /^REPRODUCED: 7 reproduced, 0 mismatch, 0 missing, 0 not built, 0 unexpected$/m);
    const json = JSON.parse(ws.read('dist/reprokit-report/report.json'));
    assert.equal(json.ok, true);
    assert.equal(json.workspace.commit, ws.git('rev-parse', 'HEAD'));
  });

  it('shows the asdf workspace as reproduced: verdict, counts, paper trail, every status in words', async () => {
    const cli = ws.reprokit('report', '--out', 'report');
    assert.equal(cli.status, 0, cli.output);
    const page = await openReport(browser, join(ws.root, 'report', 'index.html'), 'asdf-reproduced');
    assert.equal(await page.textContent('h1'), 'Reproducibility report');
    assert.equal((await page.textContent('#verdict'))!.trim(), '✓ All 7 artifacts reproduced');
    assert.deepEqual(await statuses(page), Array(7).fill('✓ REPRODUCED'));
    const trail = (await page.textContent('#paper-trail'))!;
    const head = ws.git('rev-parse', 'HEAD');
    assert.match(trail, new RegExp(`^commit: +${head} \\(clean\\)$`, 'm'));
    const manifest = JSON.parse(ws.read('packages/asdf/repro-manifest.json'));
    const elf = manifest.artifacts.find((a: { name: string }) => a.name === 'asdf');
    assert.ok(trail.includes(`${elf.blake2b512}  packages/asdf/dist/asdf\n`), trail);
    assert.ok(trail.includes(`  ${elf.environment.image} (${elf.environment.toolchain})\n`), trail);
    // What the page shows is what b2sum checks, from the workspace root.
    const b2sum = spawnSync('b2sum', ['-c'], { cwd: ws.root, input: trail, encoding: 'utf8' });
    assert.equal(b2sum.status, 0, b2sum.stdout + b2sum.stderr);
    assert.equal(b2sum.stdout.trim().split('\n').length, 7);
    await page.close();
  });

  it('meets basic accessibility: headings, table headers, keyboard focus on the copy buttons, which copy', async () => {
    const page = await openReport(browser, join(ws.root, 'report', 'index.html'), 'asdf-keyboard');
    assert.deepEqual(await page.$$eval('h2', (hs) => hs.map((h) => h.textContent)), ['Paper trail', 'Artifacts', 'Projects']);
    const headers = await page.$$eval('#artifacts thead th', (ths) => ths.map((th) => [th.getAttribute('scope'), th.textContent]));
    assert.deepEqual(headers.map(([scope]) => scope), Array(10).fill('col'));
    assert.deepEqual(headers.map(([, text]) => text), ['Project', 'Artifact', 'Kind', 'Status', 'Size', 'BLAKE2b-512', 'SHA-256', 'Environment', 'Variations', 'Recorded']);
    assert.equal(await page.$$eval('#artifacts tbody th[scope=row]', (ths) => ths.length), 7);
    // Tab from the top of the page reaches the paper trail's copy button first (after the scrollable
    // paper trail itself, which Chromium makes focusable so that it can be scrolled by keyboard).
    for (let presses = 0; presses < 3 && (await page.evaluate(() => document.activeElement?.tagName)) !== 'BUTTON'; presses++) await page.keyboard.press('Tab');
    const focused = await page.evaluate(() => [document.activeElement?.tagName, document.activeElement?.className, document.activeElement?.textContent]);
    assert.deepEqual(focused, ['BUTTON', 'copy', 'Copy paper trail']);
    await page.evaluate(() => {
      // A headless browser's clipboard cannot be read back from file://: record what is written to it.
      const copied: string[] = ((window as unknown as { copied: string[] }).copied = []);
      Object.defineProperty(navigator, 'clipboard', { value: { writeText: (text: string) => (copied.push(text), Promise.resolve()) } });
      document.execCommand = (() => (copied.push((document.activeElement as HTMLTextAreaElement).value), true)) as typeof document.execCommand;
    });
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.querySelector('button.copy')!.textContent === 'Copied');
    const copied = await page.evaluate(() => (window as unknown as { copied: string[] }).copied);
    assert.equal(copied.length, 1);
    assert.equal(copied[0], await page.textContent('#paper-trail'));
    // Every hash copy button is focusable and names what it copies.
    const labels = await page.$$eval('#artifacts button.copy', (bs) => (bs as HTMLButtonElement[]).map((b) => [b.hidden, b.tabIndex, b.getAttribute('aria-label')]));
    assert.equal(labels.length, 14);
    assert.ok(labels.every(([hidden, tabIndex, label]) => hidden === false && tabIndex === 0 && /^Copy (BLAKE2b-512|SHA-256) of /.test(String(label))), JSON.stringify(labels));
    // Sorting by status and filtering by text, the enhancements the script adds.
    await page.fill('#filter', 'hello');
    assert.equal(await page.$$eval('#artifacts tbody.artifact:not([hidden])', (ts) => ts.length), 1);
    await page.close();
  });

  it('is readable without JavaScript: verdicts and the paper trail are in the page, the copy buttons stay hidden', async () => {
    const page = await openReport(browser, join(ws.root, 'report', 'index.html'), 'asdf-no-javascript', false);
    assert.equal((await page.textContent('#verdict'))!.trim(), '✓ All 7 artifacts reproduced');
    assert.deepEqual(await statuses(page), Array(7).fill('✓ REPRODUCED'));
    assert.equal(await page.isVisible('button.copy >> nth=0'), false);
    assert.equal(await page.isVisible('#controls'), false);
    await page.close();
  });

  it('shows a deliberate mismatch with what differs, and the Markdown summary gives the same verdicts', async () => {
    // One byte of the binary changed, hello's binary gone, and a stray file: a reviewer must see all three.
    const binary = join(ws.root, 'packages/asdf/dist/asdf');
    const bytes = readFileSync(binary);
    bytes[bytes.length - 1] ^= 0xff;
    writeFileSync(binary, bytes);
    spawnSync('rm', [join(ws.root, 'packages/hello-c/dist/hello')]);
    writeFileSync(join(ws.root, 'packages/asdf/dist/extra'), 'who put this here?\n');
    const cli = ws.reprokit('report', '--out', 'report-mismatch');
    assert.equal(cli.status, 1, cli.output);
    assert.match(cli.output, /^NOT REPRODUCED: 5 reproduced, 1 mismatch, 0 missing, 1 not built, 1 unexpected$/m);
    const page = await openReport(browser, join(ws.root, 'report-mismatch', 'index.html'), 'asdf-mismatch');
    assert.equal((await page.textContent('#verdict'))!.trim(), '✗ Not reproduced: 3 of 8 artifacts');
    const rows = await page.$$eval('#artifacts tbody.artifact', (ts) => (ts as HTMLTableSectionElement[]).map((t) => [t.querySelector('th')!.textContent, t.rows[0].cells[3].textContent!.trim(), t.rows[1]?.textContent ?? '']));
    const asdf = rows.find(([name]) => name === 'asdf')!;
    assert.equal(asdf[1], '✗ MISMATCH');
    assert.match(asdf[2], /blake2b512 differs: expected [0-9a-f]{128}, got [0-9a-f]{128}/);
    assert.match(asdf[2], /sha256 differs/);
    assert.equal(rows.find(([name]) => name === 'hello')![1], '○ NOT BUILT');
    assert.equal(rows.find(([name]) => name === 'dist/extra')![1], '? UNEXPECTED');
    // Only what reproduced is a hash line of the paper trail; the rest is named.
    const trail = (await page.textContent('#paper-trail'))!;
    assert.match(trail, /^# MISMATCH packages\/asdf\/dist\/asdf$/m);
    assert.doesNotMatch(trail, /^[0-9a-f]{128} {2}packages\/asdf\/dist\/asdf$/m);
    // Filter by status: only the mismatch remains.
    await page.selectOption('#status-filter', 'mismatch');
    assert.deepEqual(await page.$$eval('#artifacts tbody.artifact:not([hidden]) th', (ths) => ths.map((th) => th.textContent)), ['asdf']);
    await page.close();
    const markdown = ws.read('report-mismatch/report.md');
    assert.match(markdown, /^## ❌ reprokit: 3 of 8 artifacts not reproduced$/m);
    assert.match(markdown, /^\| 5 \| 1 \| 0 \| 1 \| 1 \|$/m);
    assert.match(markdown, /^\| asdf \| asdf \| elf \| ✗ \*\*MISMATCH\*\* \|/m);
    assert.match(markdown, /^\| hello-c \| hello \| elf \| ○ \*\*NOT BUILT\*\* \|/m);
    assert.match(markdown, /^ {2}- blake2b512 differs: expected /m);
  });
});
