// `test-rig monitor`: import-job monitoring over ts/monitor's runMonitor().
import { Command } from 'commander';
import mysql from 'mysql2/promise';
import { addSharedOptions, withRuntime, CliError, EXIT_USAGE } from './common.js';

function seconds(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0)
    throw new CliError(`invalid ${flag} "${v}": expected seconds >= 0`, EXIT_USAGE);
  return n;
}

export function monitorCommand(): Command {
  const cmd = new Command('monitor')
    .description(
      'monitor TiDB import jobs (SHOW IMPORT JOBS): live table on a terminal, plain lines otherwise, JSON lines with --json',
    )
    .option('-t, --duration <secs>', 'stop after this many seconds (config monitor.duration)')
    .option('--interval <secs>', 'seconds between polls (config monitor.interval, default 5)')
    .option('--until-done', 'stop once every tracked job has ended')
    .option('--job <id>', 'watch only this job (SHOW IMPORT JOB <id>)')
    .option('--raw', 'poll SHOW RAW IMPORT JOB(S)')
    .option('--include-history', 'also count jobs that ended before the monitor started');
  addSharedOptions(cmd, { local: false });
  cmd.action(async (_o, command: Command) => {
    await withRuntime(command, async (rt) => {
      const o = command.opts() as Record<string, string | boolean | undefined>;
      const interval =
        seconds('--interval', o.interval as string | undefined) ?? rt.settings.monitor.interval;
      let duration = seconds('--duration', o.duration as string | undefined);
      if (duration === undefined && !o.untilDone && !o.job) duration = rt.settings.monitor.duration;
      let jobId: number | undefined;
      if (o.job !== undefined) {
        jobId = Number(o.job);
        if (!Number.isInteger(jobId) || jobId < 0) throw new CliError(`invalid --job "${o.job}"`, EXIT_USAGE);
      }
      const { runMonitor, fromMysql2 } = await import('../monitor/index.js');
      const conn = await mysql.createConnection(rt.mysqlOptions()).catch((e: Error & { code?: string }) => {
        throw new CliError(`cannot connect to ${rt.settings.host}:${rt.settings.port}: ${e.message}`);
      });
      const abort = new AbortController();
      const onSig = () => abort.abort();
      process.once('SIGINT', onSig);
      try {
        return await runMonitor({
          connection: fromMysql2(conn),
          interval: interval * 1000,
          duration,
          untilDone: Boolean(o.untilDone),
          jobId,
          json: rt.settings.json,
          raw: Boolean(o.raw),
          includeHistory: Boolean(o.includeHistory),
          signal: abort.signal,
        });
      } finally {
        process.off('SIGINT', onSig);
        await conn.end().catch(() => {});
      }
    });
  });
  return cmd;
}
