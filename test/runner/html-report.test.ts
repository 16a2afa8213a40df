// The --html report opened in headless Chromium (Debian's `chromium`, driven by
// playwright-core): it renders a lane per connection with the statements drawn
// (DOM and pixel checks on a screenshot), lock waits shaded, the deadlock victim
// marked, and the page makes no request beyond its own file, even for hostile text.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { htmlReport } from '../../ts/runner/report/html.js';
import type { CaseResult } from '../../ts/runner/types.js';
import { runCli } from '../helpers/cli.js';
import { testHostPort } from '../helpers/db.js';
import { countColour, decodePng, rowsWith } from '../helpers/png.js';

const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../test/fixtures');
const CHROMIUM = process.env.TEST_RIG_CHROMIUM ?? '/usr/bin/chromium';
// the chart's geometry (ts/runner/report/html.ts): lanes start below the axis
const AXIS_H = 22;
const LANE_H = 30;

describe('the HTML report in Chromium', function () {
  this.timeout(180_000);
  let browser: Browser;
  let dir: string;
  let report: string;

  before(async () => {
    assert.ok(fs.existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install chromium (.ci/run does)`);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trt-html-'));
    report = path.join(dir, 'report.html');
    const r = await runCli(
      [
        'run',
        '--suite-dir',
        path.join(FIXTURES, 'explain'),
        '--suite-dir',
        path.join(FIXTURES, 'suites', 'basic'),
        '--file',
        'test_row_wait.py',
        '--file',
        'test_deadlock.py',
        '--file',
        'test_isolation.py',
        '--timeout',
        '3',
        '-H',
        testHostPort,
        '-u',
        'root',
        '--password=',
        '--html',
        report,
      ],
      { timeoutMs: 120_000 },
    );
    assert.equal(r.code, 1, `${r.stdout}\n${r.stderr}`);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  });

  after(async () => {
    await browser?.close();
  });

  /** Opens a file, recording every request the page makes. */
  async function open(file: string): Promise<{ page: Page; requests: string[] }> {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 }, deviceScaleFactor: 1 });
    const requests: string[] = [];
    page.on('request', (req) => requests.push(req.url()));
    await page.goto(pathToFileURL(file).href);
    return { page, requests };
  }

  it('draws one lane per connection, the statements in them, the lock wait shaded; no external requests', async () => {
    const { page, requests } = await open(report);
    try {
      assert.deepEqual(requests, [pathToFileURL(report).href]);
      assert.equal(await page.locator('details.case').count(), 4);
      assert.match((await page.locator('header').innerText()).replace(/\s+/g, ' '), /failed 2/);
      const rowWait = page.locator('details.case', { hasText: 'RowLockWaitHandler' });
      const lanes = await rowWait
        .locator('svg.timeline g.lane')
        .evaluateAll((gs) => gs.map((g) => g.getAttribute('data-conn')));
      assert.deepEqual(lanes, ['main', 'holder']);
      assert.ok(
        (await rowWait.locator('g.lane[data-conn="main"] rect.stmt.wait').count()) >= 1,
        'the wait is shaded',
      );
      const tip = await rowWait
        .locator('g.lane[data-conn="main"] rect.stmt.wait title')
        .first()
        .textContent();
      assert.match(tip ?? '', /UPDATE accounts SET v = 2 WHERE id = 1/);
      assert.match(
        await rowWait.locator('pre.explain').innerText(),
        /waits for a row lock .* held by `holder`/,
      );

      // the pixels: statement bars (blue) and the hatched wait (orange) in two lanes
      const png = await rowWait.locator('svg.timeline').screenshot({ path: path.join(dir, 'lanes.png') });
      const img = decodePng(png);
      assert.ok(countColour(img, '#f5b041') > 200, 'the lock wait is drawn hatched');
      const bars = new Set(
        [...rowsWith(img, '#3b6fd8', 20), ...rowsWith(img, '#f5b041')].map((y) =>
          Math.floor((y - AXIS_H) / LANE_H),
        ),
      );
      assert.ok(
        bars.has(0) && bars.has(1),
        `bars drawn in both lanes (lanes with bars: ${[...bars].join(', ')})`,
      );

      const deadlock = page.locator('details.case', { hasText: 'DeadlockHandler' });
      assert.equal(await deadlock.locator('g.lane[data-conn="b"] text.mark.victim').count(), 1);
      assert.ok((await deadlock.locator('g.lane[data-conn="a"] rect.stmt.wait').count()) >= 1);
      // a passing case is collapsed and has no chart (timelines kept for failures only)
      const passed = page.locator('details.case.passed').first();
      assert.equal(await passed.getAttribute('open'), null);
      assert.equal(await passed.locator('svg').count(), 0);
    } finally {
      await page.close();
    }
  });

  it('escapes hostile text: no script runs and nothing is fetched', async () => {
    const evil = '<img src="http://127.0.0.1:9/x.png"><script>document.title="pwned"</script>';
    const r: CaseResult = {
      case: {
        id: `s/test_x.py::${evil}`,
        suite: 's',
        suiteDir: '/s',
        file: '/s/test_x.py',
        fileName: 'test_x.py',
        name: evil,
        line: 1,
        tags: [],
        requires: null,
        doc: '',
      },
      status: 'failed',
      durationMs: 5,
      attempts: 1,
      failure: { message: evil },
      output: [{ stream: 'stdout', text: evil }],
      timeline: {
        started: new Date().toISOString(),
        dropped: 0,
        entries: [
          { conn: evil, threadId: 1, sql: `SELECT '${evil}'`, startMs: 0, endMs: 1, rows: 1, affected: 0 },
        ],
      },
    };
    const file = path.join(dir, 'evil.html');
    const html = htmlReport(
      {
        total: 1,
        passed: 0,
        failed: 1,
        skipped: 0,
        flaky: 0,
        cancelled: 0,
        notRun: 0,
        durationMs: 5,
        interrupted: false,
      },
      [r],
    );
    assert.ok(!html.includes('<script'), 'no script element');
    assert.match(html, /Content-Security-Policy" content="default-src 'none'/);
    fs.writeFileSync(file, html);
    const { page, requests } = await open(file);
    try {
      assert.deepEqual(requests, [pathToFileURL(file).href]);
      assert.equal(await page.title(), 'test-rig report');
      assert.equal(await page.locator('img').count(), 0);
      assert.ok((await page.locator('details.case > summary').innerText()).includes(evil));
    } finally {
      await page.close();
    }
  });
});
