#!/usr/bin/env node
// The `test-rig` command line: a thin layer of subcommands over the library.
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { connectCommand } from './connect.js';
import { runCommand } from './run.js';
import { monitorCommand } from './monitor.js';
import { demoCommand } from './demo.js';
import { isolationCommand } from './isolation.js';
import { multiCommand } from './multi.js';
import { configCommand } from './config-cmd.js';
import { newSuiteCommand } from './new-suite.js';
import { genDataCommand } from './gen-data.js';
import { cleanCommand } from './clean.js';
import { mergeCommand } from './merge.js';
import { CliError } from './common.js';
import { errorLine } from './error-line.js';
import { tolerateClosedStdout } from '../log/closed-stdout.js';
import { EXIT_USAGE } from '../exit-codes.js';

tolerateClosedStdout();

function packageVersion(): string {
  // dist/ts/cli/main.js → ../../../package.json (also ts/cli/main.ts → ../../package.json)
  for (const rel of ['../../../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === 'test-rig' && pkg.version) return pkg.version;
    } catch {
      /* next */
    }
  }
  return '0.0.0';
}

export function buildProgram(): Command {
  const program = new Command('test-rig')
    .description(
      'test rig for TiDB and MySQL-compatible servers, with state handlers in TypeScript or Python',
    )
    .version(packageVersion(), '-V, --version', 'print the version')
    .showSuggestionAfterError(true)
    .enablePositionalOptions();
  for (const cmd of [
    connectCommand(),
    runCommand(),
    monitorCommand(),
    demoCommand(),
    isolationCommand(),
    multiCommand(),
    configCommand(),
    newSuiteCommand(),
    genDataCommand(),
    cleanCommand(),
    mergeCommand(),
  ]) {
    program.addCommand(cmd);
  }
  // usage errors: one line, exit 2 (commander's default would be 1)
  const exitOverride = (c: Command) => {
    c.exitOverride((err: CommanderError) => {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') process.exit(0);
      // `test-rig` alone: help on stderr, usage error
      if (err.code === 'commander.help') process.exit(process.argv.length <= 2 ? EXIT_USAGE : 0);
      if (err.code === 'commander.executeSubCommandAsync') process.exit(err.exitCode);
      process.exit(EXIT_USAGE);
    });
    c.configureOutput({
      outputError: (str, write) =>
        write(
          str
            .trim()
            .split(/\s*\n\s*/)
            .join(' ') + '\n',
        ),
    });
    for (const sub of c.commands) exitOverride(sub);
  };
  exitOverride(program);
  return program;
}

try {
  await buildProgram().parseAsync(process.argv);
} catch (e) {
  // a flag's value parser rejected it (e.g. `--timeout abc`): one line, its exit code
  if (!(e instanceof CliError)) throw e;
  process.stderr.write(`${errorLine(e)}\n`);
  process.exit(e.exitCode);
}
