// A small hand-written SVG chart: horizontal bars grouped by scenario, on a
// log-scale time axis (µs per operation), each bar labelled with its time and a ratio.

export interface Bar {
  label: string;
  /** µs per operation; null draws no bar, only the note. */
  us: number | null;
  /** Text after the value, e.g. "test-rig inline 3.1× faster" or "not supported". */
  note?: string;
  /** Highlighted (test-rig's own bars). */
  own?: boolean;
}

export interface Group {
  title: string;
  bars: Bar[];
}

const esc = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export function formatUs(us: number): string {
  if (us >= 1000) return `${(us / 1000).toFixed(us >= 10000 ? 0 : 1)} ms`;
  if (us >= 100) return `${us.toFixed(0)} µs`;
  if (us >= 10) return `${us.toFixed(1)} µs`;
  return `${us.toFixed(2)} µs`;
}

export function renderChart(title: string, groups: Group[], subtitle = ''): string {
  const width = 1000;
  const labelW = 250;
  const plotW = 440;
  const barH = 16;
  const gap = 4;
  const groupGap = 14;
  const titleH = subtitle ? 58 : 40;
  const x0 = labelW + 10;
  const values = groups
    .flatMap((g) => g.bars.map((b) => b.us))
    .filter((v): v is number => v !== null && v > 0);
  const lo = Math.floor(Math.log10(Math.min(...values, 1)));
  const hi = Math.ceil(Math.log10(Math.max(...values, 10)));
  const x = (us: number): number => x0 + ((Math.log10(us) - lo) / (hi - lo)) * plotW;

  const out: string[] = [];
  let y = titleH + 16;
  for (const g of groups) {
    out.push(`<text x="10" y="${y + 12}" class="g">${esc(g.title)}</text>`);
    y += 18;
    for (const b of g.bars) {
      out.push(`<text x="${labelW}" y="${y + 12}" class="l" text-anchor="end">${esc(b.label)}</text>`);
      if (b.us !== null && b.us > 0) {
        const w = Math.max(1, x(b.us) - x0);
        out.push(
          `<rect x="${x0}" y="${y}" width="${w.toFixed(1)}" height="${barH}" class="${b.own ? 'own' : 'peer'}"/>`,
        );
        out.push(
          `<text x="${(x0 + w + 5).toFixed(1)}" y="${y + 12}" class="v">${esc(formatUs(b.us))}${b.note ? `  ${esc(b.note)}` : ''}</text>`,
        );
      } else {
        out.push(`<text x="${x0 + 5}" y="${y + 12}" class="na">${esc(b.note ?? 'n/a')}</text>`);
      }
      y += barH + gap;
    }
    y += groupGap;
  }
  const height = y + 30;
  const axis: string[] = [];
  for (let p = lo; p <= hi; p++) {
    const xp = x(10 ** p);
    axis.push(`<line x1="${xp}" y1="${titleH}" x2="${xp}" y2="${y}" class="grid"/>`);
    const t = p >= 3 ? `${10 ** (p - 3)} ms` : `${10 ** p} µs`;
    axis.push(`<text x="${xp}" y="${y + 16}" class="a" text-anchor="middle">${esc(t)}</text>`);
  }
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif">`,
    '<style>',
    '.t{font-size:16px;font-weight:bold;fill:#222}.s{font-size:11px;fill:#555}.g{font-size:13px;font-weight:bold;fill:#222}',
    '.l{font-size:11px;fill:#333}.v{font-size:11px;fill:#222}.na{font-size:11px;fill:#999;font-style:italic}.a{font-size:10px;fill:#666}',
    '.grid{stroke:#ddd;stroke-width:1}.own{fill:#2b7bb9}.peer{fill:#b0b0b0}',
    '</style>',
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    `<text x="10" y="22" class="t">${esc(title)}</text>`,
    subtitle ? `<text x="10" y="40" class="s">${esc(subtitle)}</text>` : '',
    ...axis,
    ...out,
    `<text x="${x0 + plotW / 2}" y="${y + 28}" class="a" text-anchor="middle">time per operation, log scale (shorter is faster)</text>`,
    '</svg>',
    '',
  ].join('\n');
}
