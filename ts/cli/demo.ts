// `test-rig demo --python-module M` (the old python_demo): the default chain
// with Python handlers from module M mixed in.
import { Command } from 'commander';
import { addSharedOptions, refuseJson, withRuntime } from './common.js';
import { contextFromSettings } from './chain.js';
import { errorLine } from './error-line.js';
import { EXIT_FAILED, EXIT_OK } from '../exit-codes.js';

export function demoCommand(): Command {
  const cmd = new Command('demo')
    .description('run the default chain with Python handlers from a module mixed in (the old python_demo)')
    .requiredOption(
      '--python-module <module>',
      'Python module (dotted name, from the current directory) or .py file/folder',
    )
    .option('--watch', 'after the run, run again whenever the handler files change, until Ctrl-C');
  addSharedOptions(cmd);
  refuseJson(cmd, 'demo prints its chain as text; `test-rig run --json` writes JSON lines of cases');
  cmd.action(async (opts: { pythonModule: string; watch?: boolean }, command: Command) => {
    await withRuntime(command, async ({ settings, log }) => {
      const { runDemo, watchDemo } = await import('../demo/demo.js');
      const once = async (): Promise<number> => {
        const ctx = contextFromSettings(settings, log);
        try {
          const r = await runDemo({
            module: opts.pythonModule,
            ctx,
            print: (line) => log.out(line),
            warn: (line) => log.errOut(line),
          });
          log.out(
            `${log.c.green('✔')} demo completed: ${ctx.server?.kind} ${ctx.server?.version} (${r.history.join(' → ')})`,
          );
          return EXIT_OK;
        } catch (e) {
          log.errOut(errorLine(e));
          return EXIT_FAILED;
        } finally {
          await ctx.closeConnections();
        }
      };
      if (!opts.watch) return once();
      return watchDemo(opts.pythonModule, once, (line) => log.errOut(line));
    });
  });
  return cmd;
}
