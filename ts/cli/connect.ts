// `test-rig connect`: the connection smoke test (the old `basic`).
import { Command } from 'commander';
import { addSharedOptions, withRuntime } from './common.js';
import { machineConnectionOptions, runDefaultChain } from './chain.js';
import { formatHostPort } from '../db/address.js';
import { errorLine } from './error-line.js';
import { EXIT_FAILED, EXIT_OK } from '../exit-codes.js';

export function connectCommand(): Command {
  const cmd = new Command('connect').description(
    'connection smoke test: run the default chain (connect, SELECT 1, database, version) and print the server kind and version',
  );
  addSharedOptions(cmd);
  cmd.action(async (_opts, command: Command) => {
    await withRuntime(command, async ({ settings, log }) => {
      const target = formatHostPort(settings.host, settings.port);
      log.info(
        `connecting to ${target} as ${settings.user}${settings.database ? ` (database ${settings.database})` : ''}`,
      );
      const r = await runDefaultChain(
        {
          host: settings.host,
          port: settings.port,
          user: settings.user,
          password: settings.password ?? '',
          database: settings.database,
        },
        machineConnectionOptions(settings, log),
        log,
      );
      if (settings.json) {
        log.out(
          JSON.stringify({
            ok: r.ok,
            host: target,
            user: settings.user,
            database: settings.database ?? null,
            server: r.ok ? { kind: r.kind, version: r.version, raw: r.raw } : null,
            ms: r.ms,
            error: r.error ?? null,
            hint: r.hint ?? null,
          }),
        );
      }
      if (!r.ok) {
        log.errOut(errorLine(r.error ?? 'failed', r.hint));
        return EXIT_FAILED;
      }
      if (!settings.json) {
        const c = log.c;
        log.out(`${c.green('✔')} connected to ${target}: ${r.kind} ${r.version} (${r.raw}) in ${r.ms} ms`);
        if (settings.showOutput && r.states) log.out(`states: ${r.states.join(' → ')}`);
      }
      return EXIT_OK;
    });
  });
  return cmd;
}
