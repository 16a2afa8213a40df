// `test-rig run`: runs Python suites. The runner (suite discovery and execution)
// is built by the runner issue; this file gives it the shared flags.
import { Command, Option } from 'commander';
import { addSharedOptions } from './common.js';
import { notYetAvailable } from './pending.js';

/** Wiring point: return `import('../runner/command.js')` once the runner lands. */
async function loadRunner(): Promise<null | { runSuites: (options: unknown) => Promise<number> }> {
  return null;
}

export function runCommand(): Command {
  const cmd = new Command('run')
    .description('run Python test suites (suites/<name>/test_*.py) against the server')
    .argument('[suites...]', 'suite names (default: all)')
    .option('--suite <name>', 'run one suite (case-insensitive)')
    .option('--all', 'run every suite')
    .option('--test-file <file>', 'run only this test file (basename, e.g. test_basic.py)')
    .option('--suites-dir <dir>', 'where suites live', 'suites')
    .addOption(
      new Option('--output-level <level>', 'output detail')
        .choices(['normal', 'verbose', 'debug'])
        .default('normal'),
    );
  addSharedOptions(cmd);
  cmd.action(async () => {
    const runner = await loadRunner();
    if (!runner) return notYetAvailable('run', 'the suite runner');
  });
  return cmd;
}
