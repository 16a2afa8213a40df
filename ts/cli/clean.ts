// `test-rig clean`: drops the scratch databases of runs that died (SIGKILL, a
// lost CI machine) — only those: a live run holds its lock (ts/runner/scratch.ts).
import { Command } from 'commander';
import { addSharedOptions, withRuntime } from './common.js';
import { EXIT_OK } from '../exit-codes.js';
import { machineConnectionOptions, serverFromSettings } from './chain.js';
import { Connection } from '../db/connection.js';
import { cleanDeadRuns } from '../runner/scratch.js';

export function cleanCommand(): Command {
  const cmd = new Command('clean')
    .description("drop the scratch databases (test_rig_run_…) left by runs that died; a live run's are kept")
    .option('--dry-run', 'only list what would be dropped');
  addSharedOptions(cmd, { local: false });
  cmd.action(async (opts: { dryRun?: boolean }, command: Command) => {
    await withRuntime(command, async ({ settings, log }) => {
      const conn = await Connection.open(serverFromSettings(settings, log), {
        name: 'test-rig-clean',
        echo: machineConnectionOptions(settings, log).echo,
      });
      try {
        const dryRun = Boolean(opts.dryRun);
        const r = await cleanDeadRuns(conn, { dryRun });
        if (settings.json) {
          log.out(JSON.stringify({ dry_run: dryRun, dropped: r.dropped, live: r.live }));
          return EXIT_OK;
        }
        for (const n of r.dropped) log.out(`${dryRun ? 'would drop' : 'dropped'} ${n}`);
        const s = (n: number) => (n === 1 ? '' : 's');
        log.errOut(
          `${dryRun ? 'would drop' : 'dropped'} ${r.dropped.length} scratch database${s(r.dropped.length)} of runs that are gone; kept ${r.live.length} of live runs`,
        );
        return EXIT_OK;
      } finally {
        await conn.close().catch(() => conn.destroy());
      }
    });
  });
  return cmd;
}
