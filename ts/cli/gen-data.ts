// `test-rig gen-data`: generates CSV/TSV data for import tests (the old create_import.py).
import path from 'node:path';
import { Command, Option } from 'commander';
import { errorLine } from './error-line.js';

async function loadGenerator() {
  return import('../datagen/generate.js');
}

export function genDataCommand(): Command {
  return new Command('gen-data')
    .description('generate CSV/TSV test data for import tests (deterministic for a seed; progress on stderr)')
    .option('-r, --rows <n>', 'number of rows', '100000')
    .addOption(new Option('-f, --format <format>', 'output format').choices(['csv', 'tsv']).default('csv'))
    .option('-o, --output <file>', "output file, '-' for stdout (default test_data_<rows>.<format>)")
    .option('-s, --simple', 'three columns id,name,age without a header')
    .option('--seed <n>', 'random seed (default 42)')
    .option('-q, --quiet', 'no progress output (progress is shown only on a terminal)')
    .action(
      async (o: {
        rows: string;
        format: 'csv' | 'tsv';
        output?: string;
        simple?: boolean;
        seed?: string;
        quiet?: boolean;
      }) => {
        const rows = Number(o.rows.replace(/[,_]/g, ''));
        if (!Number.isInteger(rows) || rows < 0) {
          process.stderr.write(`test-rig gen-data: --rows must be a non-negative integer, got '${o.rows}'\n`);
          process.exitCode = 2;
          return;
        }
        const seed = o.seed === undefined ? 42 : Number(o.seed);
        if (!Number.isInteger(seed)) {
          process.stderr.write(`test-rig gen-data: --seed must be an integer, got '${o.seed}'\n`);
          process.exitCode = 2;
          return;
        }
        const output = o.output ?? `test_data_${rows.toLocaleString('en-US')}.${o.format}`;
        const { generateData } = await loadGenerator();
        const t0 = performance.now();
        let n: number;
        try {
          n = await generateData({
            rows,
            format: o.format,
            simple: Boolean(o.simple),
            seed,
            output,
            // progress lines are for a person watching: only on a terminal
            progress:
              o.quiet || !process.stderr.isTTY
                ? undefined
                : (done, total) =>
                    process.stderr.write(
                      `generated ${done.toLocaleString('en-US')} / ${total.toLocaleString('en-US')} rows\n`,
                    ),
          });
        } catch (e) {
          // one line, no stack: a file that cannot be written fails the command
          process.stderr.write(`${errorLine(e)}\n`);
          process.exitCode = 1;
          return;
        }
        const secs = (performance.now() - t0) / 1000;
        if (!o.quiet) {
          process.stderr.write(
            `wrote ${n.toLocaleString('en-US')} ${o.simple ? 'simple' : 'complex'} ${o.format} rows to ${output === '-' ? 'stdout' : path.resolve(output)} in ${secs.toFixed(2)} s\n`,
          );
        }
      },
    );
}
