// A self-contained HTML report: one static file (no script, no network: a CSP
// forbids both) with the summary, every case with its verdict and output, and
// for a case with a timeline an SVG chart with one lane per connection,
// statements as bars, lock waits shaded, errors and the deadlock victim marked,
// and the SQL on hover (SVG <title>).
import { formatDeadlock, isDeadlock, type Deadlock } from '../../db/deadlocks.js';
import type { TimelineEntry, TimelineRecord } from '../../db/timeline.js';
import { writeOutputFile } from '../../io/output-file.js';
import { formatPostMortem, type PostMortem } from '../postmortem.js';
import type { CaseResult, Reporter, Summary } from '../types.js';
import { escapeXml } from './junit.js';
import { formatDuration } from './summary.js';

const esc = escapeXml;

const STYLE = `
body{font:14px/1.4 system-ui,sans-serif;margin:0;color:#1d2330;background:#f6f7f9}
header{background:#1d2330;color:#fff;padding:16px 24px}
h1{font-size:20px;margin:0 0 8px}
.chips span{display:inline-block;margin-right:8px;padding:2px 10px;border-radius:12px;background:#39414f}
.chips .failed,.chips .cancelled{background:#b3261e}.chips .passed{background:#2e7d32}
.chips .flaky{background:#b26a00}.chips .skipped{background:#5f6b7a}
main{padding:16px 24px}
details.case{background:#fff;border:1px solid #d9dde3;border-left:6px solid #5f6b7a;border-radius:4px;margin:0 0 10px;padding:6px 12px}
details.case.passed{border-left-color:#2e7d32}details.case.failed,details.case.cancelled{border-left-color:#b3261e}
details.case.flaky{border-left-color:#b26a00}
summary{cursor:pointer;font-weight:600}
.verdict{display:inline-block;min-width:72px;font-size:12px;text-transform:uppercase}
.dur{color:#5f6b7a;font-weight:400;margin-left:8px}
pre{background:#f0f2f5;padding:8px;overflow:auto;white-space:pre-wrap;font-size:12px;margin:6px 0}
pre.failure{background:#fdecea}pre.explain{background:#fff6e0}
svg.timeline{display:block;max-width:100%;height:auto;margin:8px 0;background:#fff;border:1px solid #e3e6ea}
svg .lane-bg{fill:#f7f8fa}svg .lane-bg.odd{fill:#eef1f5}
svg .label{font:12px monospace;fill:#1d2330}
svg .axis{font:10px sans-serif;fill:#5f6b7a}svg .tick{stroke:#d9dde3}
svg .stmt{fill:#3b6fd8}svg .stmt.running{fill:#7d93c0}
svg .stmt.wait{fill:url(#hatch)}svg .stmt.error{stroke:#d93025;stroke-width:2}svg .stmt.error:not(.wait){fill:#d93025}
svg .stmt:hover{stroke:#000;stroke-width:1.5}svg .mark{font:bold 12px sans-serif;fill:#d93025}
svg .stop{stroke:#d93025;stroke-dasharray:4 3}svg .stop-label{font:bold 10px sans-serif;fill:#d93025}
.legend span{margin-right:14px;font-size:12px}.legend i{display:inline-block;width:12px;height:10px;margin-right:4px;vertical-align:middle}
`;

/** The whole report as one HTML document. */
export function htmlReport(summary: Summary, results: CaseResult[], timestamp = new Date()): string {
  const chips = (
    [
      ['total', summary.total],
      ['passed', summary.passed],
      ['failed', summary.failed],
      ['flaky', summary.flaky],
      ['skipped', summary.skipped],
      ['cancelled', summary.cancelled],
      ['not run', summary.notRun],
    ] as const
  )
    .map(([k, v]) => `<span class="${esc(k.replace(' ', '-'))}">${esc(k)} ${v}</span>`)
    .join('');
  const body = results.map((r, i) => caseHtml(r, i)).join('\n');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>test-rig report</title>
<style>${STYLE}</style>
</head>
<body>
<header><h1>test-rig report</h1>
<div class="chips">${chips}<span>${esc(formatDuration(summary.durationMs))}</span>${summary.interrupted ? '<span class="cancelled">interrupted</span>' : ''}</div>
<div>${esc(timestamp.toISOString())}</div></header>
<main>
${body || '<p>No case ran.</p>'}
</main>
</body>
</html>
`;
}

function caseHtml(r: CaseResult, index: number): string {
  const bad = r.status === 'failed' || r.status === 'cancelled';
  const parts: string[] = [];
  if (r.failure) {
    const f = r.failure;
    parts.push(
      `<pre class="failure">${esc([f.message, f.where ? `at ${f.where}` : '', f.traceback ?? ''].filter(Boolean).join('\n'))}</pre>`,
    );
  }
  if (r.skipReason) parts.push(`<p>skipped: ${esc(r.skipReason)}</p>`);
  const explained = [
    ...(r.postmortem ? formatPostMortem(r.postmortem) : []),
    ...(r.deadlocks ?? []).flatMap(formatDeadlock),
  ];
  if (explained.length) parts.push(`<pre class="explain">${esc(explained.join('\n'))}</pre>`);
  if (r.timeline && r.timeline.entries.length) parts.push(timelineSvg(r.timeline, r.postmortem, r.deadlocks));
  if (r.output.length)
    parts.push(
      `<details><summary>output (${r.output.length} lines)</summary><pre>${esc(
        r.output.map((l) => (l.stream === 'sql' ? `SQL ${l.text}` : l.text)).join('\n'),
      )}</pre></details>`,
    );
  return `<details class="case ${esc(r.status)}" id="case-${index}"${bad ? ' open' : ''}>
<summary><span class="verdict">${esc(r.status)}</span>${esc(r.case.id)}<span class="dur">${esc(formatDuration(r.durationMs))}${r.attempts > 1 ? `, ${r.attempts} attempts` : ''}</span></summary>
${parts.join('\n')}
</details>`;
}

const LABEL_W = 150;
const CHART_W = 820;
const LANE_H = 30;
const AXIS_H = 22;
/** Room on the right for the marks after the last bar. */
const WIDTH = LABEL_W + CHART_W + 70;

/** The timeline as an SVG chart: one lane per connection, in order of first statement. */
export function timelineSvg(t: TimelineRecord, pm?: PostMortem, deadlocks?: Deadlock[]): string {
  const lanes: string[] = [];
  for (const e of t.entries) if (!lanes.includes(e.conn)) lanes.push(e.conn);
  const endOf = (e: TimelineEntry) => e.endMs ?? pm?.atMs ?? e.startMs;
  const span = Math.max(1, pm?.atMs ?? 0, ...t.entries.map(endOf));
  const x = (ms: number) => LABEL_W + (ms / span) * CHART_W;
  const waiters = new Set(pm?.waits.map((w) => w.waiter) ?? []);
  // statements that waited for a lock: those of a waiter still running at the
  // post-mortem, and those running on other connections when a deadlock was detected
  const deadlockAt = t.entries.filter((e) => e.error !== undefined && isDeadlock(e)).map((e) => e.endMs ?? 0);
  const waited = (e: TimelineEntry) =>
    (pm !== undefined && waiters.has(e.conn) && e.startMs <= pm.atMs && (e.endMs ?? Infinity) >= pm.atMs) ||
    e.errorClass === 'lock_wait_timeout' ||
    (e.error !== undefined && isDeadlock(e)) ||
    deadlockAt.some((at) => e.startMs < at && (e.endMs ?? Infinity) > at);
  const victims = new Set(
    (deadlocks ?? []).flatMap((d) =>
      d.transactions.filter((tx) => tx.victim && tx.conn).map((tx) => tx.conn!),
    ),
  );
  const height = AXIS_H + lanes.length * LANE_H + 4;
  const out: string[] = [
    `<svg class="timeline" xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" role="img" aria-label="statement timeline">`,
    '<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#f5b041"/><line x1="0" y1="0" x2="0" y2="6" stroke="#b9770e" stroke-width="3"/></pattern></defs>',
  ];
  for (let i = 0; i <= 5; i++) {
    const ms = (span * i) / 5;
    out.push(
      `<line class="tick" x1="${x(ms).toFixed(1)}" y1="${AXIS_H - 4}" x2="${x(ms).toFixed(1)}" y2="${height}"/><text class="axis" x="${x(ms).toFixed(1)}" y="12" text-anchor="middle">${esc(formatMs(ms))}</text>`,
    );
  }
  lanes.forEach((name, i) => {
    const y = AXIS_H + i * LANE_H;
    out.push(
      `<g class="lane" data-conn="${esc(name)}"><rect class="lane-bg${i % 2 ? ' odd' : ''}" x="0" y="${y}" width="${WIDTH}" height="${LANE_H}"/><text class="label" x="6" y="${y + 19}">${esc(name.length > 18 ? `${name.slice(0, 17)}…` : name)}</text>`,
    );
    for (const e of t.entries.filter((s) => s.conn === name)) {
      const x0 = x(e.startMs);
      const w = Math.max(2, x(endOf(e)) - x0);
      const running = e.endMs === undefined;
      const cls = [
        'stmt',
        e.error !== undefined ? 'error' : '',
        running ? 'running' : '',
        waited(e) ? 'wait' : '',
      ]
        .filter(Boolean)
        .join(' ');
      const after =
        pm !== undefined && e.endMs !== undefined && e.endMs > pm.atMs ? ' (ended after the stop)' : '';
      const took = running ? 'still running' : `${formatMs(endOf(e) - e.startMs)}${after}`;
      const outcome =
        e.error !== undefined
          ? `error ${e.errno ?? ''} ${e.error}`
          : running
            ? ''
            : `rows ${e.rows ?? 0}, affected ${e.affected ?? 0}`;
      const tip = `[${name} #${e.threadId}] ${e.sql}\n+${formatMs(e.startMs)}, ${took}${outcome ? `\n${outcome}` : ''}`;
      out.push(
        `<rect class="${cls}" x="${x0.toFixed(1)}" y="${y + 6}" width="${w.toFixed(1)}" height="${LANE_H - 12}" rx="2"><title>${esc(tip)}</title></rect>`,
      );
      if (e.error !== undefined) {
        const victim = isDeadlock(e) && (victims.has(name) || victims.size === 0);
        out.push(
          `<text class="mark${victim ? ' victim' : ''}" x="${(x0 + w + 3).toFixed(1)}" y="${y + 20}">✖${victim ? ' victim' : ''}<title>${esc(e.error)}</title></text>`,
        );
      }
    }
    out.push('</g>');
  });
  if (pm) {
    const at = x(pm.atMs).toFixed(1);
    out.push(
      `<line class="stop" x1="${at}" y1="${AXIS_H - 4}" x2="${at}" y2="${height}"/><text class="stop-label" x="${at}" y="${AXIS_H - 6}" text-anchor="end">${pm.reason === 'timeout' ? 'timed out' : 'interrupted'}</text>`,
    );
  }
  out.push('</svg>');
  const legend =
    '<div class="legend"><span><i style="background:#3b6fd8"></i>statement</span><span><i style="background:#f5b041"></i>lock wait</span><span><i style="background:#d93025"></i>error</span><span><i style="background:#7d93c0"></i>running when stopped</span></div>';
  return `${out.join('\n')}\n${legend}`;
}

function formatMs(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(ms >= 10_000 ? 0 : 1)} s` : `${ms.toFixed(ms >= 10 ? 0 : 1)} ms`;
}

/** Writes the HTML report at the end of the run (also after Ctrl-C). */
export class HtmlReporter implements Reporter {
  constructor(readonly file: string) {}

  end(summary: Summary, results: CaseResult[]): void {
    writeOutputFile('the HTML report', this.file, htmlReport(summary, results));
  }
}
