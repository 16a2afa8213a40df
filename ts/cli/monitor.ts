// `test-rig monitor`: import-job monitoring over ts/monitor's runMonitor().
import { Command } from 'commander';
import { addSharedOptions, withRuntime, CliError, secondsArg } from './common.js';
import { contextFromSettings } from './chain.js';
import type { StateContext } from '../machine/context.js';
import { ConnectError } from '../errors.js';
import { formatHostPort } from '../db/address.js';
import { StopSignals } from '../io/stop-signals.js';
import { EXIT_USAGE } from '../exit-codes.js';

function seconds(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  try {
    return secondsArg({ allowZero: true })(v);
  } catch (e) {
    throw new CliError(`invalid ${flag} "${v}": ${(e as Error).message}`, EXIT_USAGE);
  }
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
    .option('--include-history', 'also count jobs that ended before the monitor started')
    .option(
      '--python-module <module>',
      'call Python handlers (on_event / on_<event>) on each job event; dotted module name or .py file/folder',
    )
    .option('--watch', 'with --python-module: reload the handlers when their files change');
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
        if (!Number.isSafeInteger(jobId) || jobId < 0)
          throw new CliError(`invalid --job "${o.job}"`, EXIT_USAGE);
      }
      const { runMonitor, CapturingRunner } = await import('../monitor/index.js');
      if (o.watch && !o.pythonModule) throw new CliError('--watch needs --python-module', EXIT_USAGE);
      const options = {
        interval: interval * 1000,
        duration,
        untilDone: Boolean(o.untilDone),
        jobId,
        json: rt.settings.json,
        // `--json FILE`: the JSON lines go to the file
        output: rt.settings.json ? rt.jsonOutput : undefined,
        raw: Boolean(o.raw),
        includeHistory: Boolean(o.includeHistory),
      };
      // Polls on the project's Connection, as every command's statements: --show-sql echoes them.
      const ctx = contextFromSettings(rt.settings, rt.log);
      const stop = new StopSignals();
      try {
        await connect(ctx);
        if (typeof o.pythonModule === 'string')
          return await monitorWithPython(rt, ctx, o.pythonModule, Boolean(o.watch), options, stop.signal);
        const runner = new CapturingRunner(ctx.connection!);
        return await runMonitor({ ...options, connection: runner, signal: stop.signal });
      } finally {
        stop.dispose();
        await ctx.closeConnections();
      }
    });
  });
  return cmd;
}

type Runtime = Parameters<Parameters<typeof withRuntime>[1]>[0];

/** Opens ctx.connection as the default chain's Connecting does; a failure is one line with its hint. */
async function connect(ctx: StateContext): Promise<void> {
  const { ConnectingHandler } = await import('../machine/builtin-handlers.js');
  await new ConnectingHandler().execute(ctx).catch((e: Error) => {
    throw e instanceof ConnectError
      ? e
      : new CliError(`cannot connect to ${formatHostPort(ctx.host, ctx.port)}: ${e.message}`);
  });
}

/** `monitor --python-module M`: the handlers' context.connection is the connection the monitor polls on. */
async function monitorWithPython(
  rt: Runtime,
  ctx: StateContext,
  module: string,
  watch: boolean,
  options: Omit<import('../monitor/index.js').RunMonitorOptions, 'connection'>,
  signal: AbortSignal,
): Promise<number> {
  const { runMonitor, PythonMonitorHandlers, CapturingRunner } = await import('../monitor/index.js');
  const { PythonRuntime } = await import('../python/runtime.js');
  let handlers: import('../monitor/python.js').PythonMonitorHandlers | undefined;
  try {
    handlers = await PythonMonitorHandlers.load({
      module,
      ctx,
      watch: watch
        ? {
            onReload: (files) => rt.log.errOut(`reloaded ${files.map((f) => f.split('/').pop()).join(', ')}`),
            onError: (e) => rt.log.errOut(`error: ${e.message}`),
          }
        : false,
    });
    // With --json, stdout carries the JSON lines only: handler prints go to stderr.
    if (options.json) PythonRuntime.get().mirror(ctx).output = (text) => process.stderr.write(text);
    const runner = new CapturingRunner(ctx.connection!);
    const loaded = handlers;
    return await runMonitor({
      ...options,
      connection: runner,
      signal,
      onEvents: (events, monitor) => loaded.dispatch(events, monitor, runner),
    });
  } finally {
    await handlers?.dispose().catch(() => {});
  }
}
