// `test-rig merge`: one report from the JSON reports of a sharded run's shards
// (each written by `test-rig run --shard … --json FILE`), as JSON lines and/or
// JUnit, with the totals on the terminal. Exit 0 only when every shard of the
// split is there once, complete, and passed.
import { Command } from 'commander';
import { CliError, plainLogger, reportError } from './common.js';
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE } from '../exit-codes.js';
import { checkOutputFile, OutputFileError, writeOutputFile } from '../io/output-file.js';
import {
  caseResultOf,
  loadShardReport,
  MergeInputError,
  mergedJsonLines,
  mergedJUnit,
  mergeShardReports,
  type ShardReport,
} from '../runner/report/merge.js';
import { summaryTable } from '../runner/report/summary.js';
import { escapeControls } from '../runner/report/redact.js';

export interface MergeOptions {
  junit?: string;
  /** A file, or '-' for stdout (the totals then go to stderr). */
  json?: string;
}

/** Merges `files`, writes the outputs, prints the totals; returns the exit code. */
export function mergeCommandRun(
  files: string[],
  o: MergeOptions,
  out: (line: string) => void,
  err: (line: string) => void,
): number {
  // an output that cannot be written is found out before anything is read
  try {
    if (o.json && o.json !== '-') checkOutputFile('the merged JSON report', o.json);
    if (o.junit) checkOutputFile('the merged JUnit report', o.junit);
  } catch (e) {
    throw new CliError((e as Error).message, EXIT_USAGE, (e as OutputFileError).hint);
  }
  const reports: ShardReport[] = [];
  const missing: string[] = [];
  for (const f of files) {
    const r = loadShardReport(f);
    if (r) reports.push(r);
    else missing.push(f);
  }
  if (reports.length === 0)
    throw new CliError(
      `none of the ${files.length} report${files.length === 1 ? '' : 's'} exists (${files.join(', ')})`,
      EXIT_FAILED,
      'give the files the shards wrote with --json FILE',
    );
  const m = mergeShardReports(reports, missing);
  const text = m.shards.length === 1 ? '1 report' : `${m.shards.length} reports`;
  if (o.json) {
    const body = mergedJsonLines(m);
    if (o.json === '-') process.stdout.write(body);
    else writeOutputFile('the merged JSON report', o.json, body);
  }
  if (o.junit) writeOutputFile('the merged JUnit report', o.junit, mergedJUnit(m));
  // the reports' text (failure messages, file names) reaches the terminal with its control characters shown, not acted on
  const say = (l: string) => (o.json === '-' ? err : out)(escapeControls(l));
  for (const line of summaryTable(m.summary, m.cases.map(caseResultOf))) say(line);
  say(`merged ${text}${m.failedShards.length ? `; failed: ${m.failedShards.join(', ')}` : ''}`);
  for (const p of m.problems) err(`error: ${escapeControls(p)}`);
  return m.ok ? EXIT_OK : EXIT_FAILED;
}

export function mergeCommand(): Command {
  return new Command('merge')
    .description(
      "merge the JSON reports of a sharded run's shards (run --shard … --json FILE) into one report with totals; exit 1 when a shard failed, is missing, repeated or cut off",
    )
    .argument('<reports...>', 'the JSON-lines reports of the shards')
    .option('--junit <file>', 'write the merged JUnit XML report')
    .option('--json <file>', "write the merged JSON-lines report ('-' = stdout)")
    .action((files: string[], opts: MergeOptions) => {
      const log = plainLogger();
      try {
        process.exitCode = mergeCommandRun(
          files,
          opts,
          (l) => log.out(l, true),
          (l) => log.errOut(l, true),
        );
      } catch (e) {
        process.exitCode = reportError(
          log,
          e instanceof MergeInputError ? new CliError(e.message, EXIT_USAGE, e.hint) : e,
        );
      }
    });
}
