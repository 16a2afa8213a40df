// Repetitions, medians and the ratio table every benchmark prints.

export interface Sample {
  name: string;
  /** Operations per second, one per repetition. */
  rates: number[];
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Relative spread of the repetitions: (max - min) / median. */
export function spread(xs: number[]): number {
  return (Math.max(...xs) - Math.min(...xs)) / median(xs);
}

export function formatRate(rate: number): string {
  return rate >= 1000 ? `${(rate / 1000).toFixed(1)}k/s` : `${rate.toFixed(0)}/s`;
}

export function formatUs(rate: number): string {
  return `${(1e6 / rate).toFixed(1)} µs`;
}

/**
 * Prints one line per comparison: subject vs baseline, the ratio, and whether the target
 * holds. Without a bound the line is a reference: `reference` says why it has no target.
 */
export function compare(
  subject: Sample,
  baseline: Sample,
  target: { kind: 'time' | 'rate'; bound: number } | { kind: 'time' | 'rate'; reference: string },
): string {
  const s = median(subject.rates);
  const b = median(baseline.rates);
  // time ratio: subject's cost per op / baseline's; rate ratio: subject's throughput / baseline's.
  // Samples measured in the same rounds (same length) are compared round by round.
  const of = (sr: number, br: number): number => (target.kind === 'time' ? br / sr : sr / br);
  const ratio =
    subject.rates.length === baseline.rates.length
      ? median(subject.rates.map((sr, i) => of(sr, baseline.rates[i])))
      : of(s, b);
  const rel =
    target.kind === 'time' ? `${ratio.toFixed(2)}× the time` : `${ratio.toFixed(2)}× the throughput`;
  let verdict: string;
  if ('reference' in target) {
    verdict = `(no target: ${target.reference})`;
  } else {
    const ok = target.kind === 'time' ? ratio <= target.bound : ratio >= target.bound;
    verdict = `(target ${target.kind === 'time' ? '≤' : '≥'} ${target.bound}×) ${ok ? 'OK' : 'MISSED'}`;
  }
  return (
    `${subject.name.padEnd(46)} ${formatUs(s).padStart(10)} (±${(spread(subject.rates) * 50).toFixed(0)}%)  vs ` +
    `${baseline.name.padEnd(34)} ${formatUs(b).padStart(10)}  → ${rel} ${verdict}`
  );
}
