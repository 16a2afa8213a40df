// `test-rig monitor`: import-job monitoring. The library (ts/monitor/command.ts,
// `runMonitor(options)`) is built by the monitor issue.
import { Command } from 'commander';
import { addSharedOptions } from './common.js';
import { notYetAvailable } from './pending.js';

/** Wiring point: return `import('../monitor/command.js')` once it lands. */
async function loadMonitor(): Promise<null | { runMonitor: (options: unknown) => Promise<number> }> {
  return null;
}

export function monitorCommand(): Command {
  const cmd = new Command('monitor')
    .description('monitor TiDB import jobs (SHOW IMPORT JOBS) until they finish or the duration ends')
    .option('-t, --duration <secs>', 'how long to monitor, seconds (config monitor.duration, default 60)')
    .option('--interval <secs>', 'seconds between polls (config monitor.interval, default 5)')
    .option('--no-details', 'do not print per-job details (config monitor.show_details)');
  addSharedOptions(cmd, { local: false });
  cmd.action(async () => {
    const monitor = await loadMonitor();
    if (!monitor) return notYetAvailable('monitor', 'ts/monitor');
  });
  return cmd;
}
