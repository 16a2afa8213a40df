// `test-rig config init`: writes a commented starter configuration file (the old config_gen).
import fs from 'node:fs';
import path from 'node:path';
import { Command, Option } from 'commander';
import { renderConfig, JSON_HINT, formatOf, type ConfigFormat } from '../config/index.js';
import { parseHostPort } from '../db/address.js';
import { LEVELS } from '../log/logger.js';
import { CliError, addSharedOptions, plainLogger, reportError, withRuntime } from './common.js';
import { describeSettings } from '../config/settings.js';
import { EXIT_USAGE } from '../exit-codes.js';

export function configCommand(): Command {
  const config = new Command('config').description('configuration file helpers');
  config
    .command('init')
    .description('write a commented configuration file')
    .option('-o, --output <file>', 'file to write (default test-rig.<format>)')
    .addOption(
      new Option('-f, --format <format>', 'file format (default: from the -o extension, else toml)').choices([
        'json',
        'toml',
        'yaml',
      ]),
    )
    .option('-H, --host <host:port>', 'database.host', 'localhost:4000')
    .option('-u, --user <name>', 'database.username', 'root')
    .option('--username <name>', 'alias of --user')
    .option('-d, --database <name>', 'database.database')
    .option('--password <password>', 'database.password (stored in the file; prefer TIDB_PASSWORD)')
    .addOption(new Option('--log-level <level>', 'logging.level').choices(LEVELS).default('info'))
    .option('--force', 'overwrite an existing file')
    .action((opts: Record<string, string | boolean | undefined>) => {
      const log = plainLogger();
      try {
        const output = opts.output as string | undefined;
        let format = opts.format as ConfigFormat | undefined;
        if (!format) format = output ? formatOf(output) : 'toml';
        let file = output ?? `test-rig.${format}`;
        if (output && opts.format && path.extname(output) === '') file = `${output}.${format}`;
        parseHostPort(opts.host as string);
        if (fs.existsSync(file) && !opts.force) {
          throw new CliError(`${file} already exists (use --force to overwrite)`, EXIT_USAGE);
        }
        const password = opts.password as string | undefined;
        log.addSecret(password);
        if (password !== undefined) {
          log.errOut(
            'warning: a password given with --password is visible to other users of this machine (ps, shell history)',
          );
        }
        const text = renderConfig(format, {
          host: opts.host as string,
          username: (opts.username ?? opts.user) as string,
          database: opts.database as string | undefined,
          password,
          logLevel: opts.logLevel as string,
        });
        fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
        fs.writeFileSync(file, text, { mode: password !== undefined ? 0o600 : 0o644 });
        if (password !== undefined) fs.chmodSync(file, 0o600);
        log.out(`wrote ${file} (${format})`);
        if (format === 'json') log.out(JSON_HINT);
        log.out(
          `use it with: test-rig connect -c ${file}   (or name it test-rig.${format} to have it found automatically)`,
        );
      } catch (e) {
        process.exitCode = reportError(log, e);
      }
    });
  const show = config
    .command('show')
    .description(
      'print the effective settings and where each came from (flag, env, config, default); never the password',
    );
  addSharedOptions(show, { local: false });
  show.action(async (_o, command: Command) => {
    await withRuntime(
      command,
      async ({ settings, log, config: loaded }) => {
        const d = { config_file: loaded?.path ?? null, ...describeSettings(settings) };
        if (settings.json) log.out(JSON.stringify(d));
        else
          for (const [k, v] of Object.entries(d))
            log.out(`${k.padEnd(13)} ${typeof v === 'string' ? v : JSON.stringify(v)}`);
      },
      { needsPassword: false },
    );
  });
  return config;
}
