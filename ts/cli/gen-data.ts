// `test-rig gen-data`: generates CSV/TSV data for import tests (the old create_import.py).
import { Command, Option } from 'commander';
import { notYetAvailable } from './pending.js';

/** Wiring point: return `import('../data/generate.js')` once the generator lands. */
async function loadGenerator(): Promise<null | { generateData: (options: unknown) => Promise<number> }> {
  return null;
}

export function genDataCommand(): Command {
  return new Command('gen-data')
    .description('generate CSV/TSV test data for import tests')
    .option('-r, --rows <n>', 'number of rows', '100000')
    .addOption(new Option('-f, --format <format>', 'output format').choices(['csv', 'tsv']).default('csv'))
    .option('-o, --output <file>', 'output file (default test_data_<rows>.<format>)')
    .option('-s, --simple', 'three columns id,name,age without a header')
    .option('--seed <n>', 'random seed')
    .action(async () => {
      const gen = await loadGenerator();
      if (!gen) return notYetAvailable('gen-data', 'the data generator');
    });
}
