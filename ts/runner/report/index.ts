// Reporters are independent consumers of the run's events; this fans them out.
import type { Reporter } from '../types.js';

export { TerminalReporter, type OutputLevel, type TerminalOptions } from './terminal.js';
export { JUnitReporter, junitXml } from './junit.js';
export { JsonLinesReporter } from './json-lines.js';
export { HtmlReporter, htmlReport } from './html.js';
export { summaryTable, formatDuration } from './summary.js';

/** One reporter calling each of `reporters` in turn; a failing reporter does not stop the others. */
export function fanOut(reporters: Reporter[], onError: (err: unknown) => void = () => undefined): Reporter {
  const each = (fn: (r: Reporter) => unknown) => {
    for (const r of reporters) {
      try {
        fn(r);
      } catch (err) {
        onError(err);
      }
    }
  };
  return {
    start: (info) => each((r) => r.start?.(info)),
    caseStart: (c) => each((r) => r.caseStart?.(c)),
    output: (c, l) => each((r) => r.output?.(c, l)),
    caseEnd: (res) => each((r) => r.caseEnd?.(res)),
    end: async (s, results) => {
      for (const r of reporters) {
        try {
          await r.end?.(s, results);
        } catch (err) {
          onError(err);
        }
      }
    },
  };
}
