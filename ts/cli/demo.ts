// `test-rig demo --python-module M`: the default chain with Python handlers from
// module M mixed in (needs the Python engine, built by the Python issue).
import { Command } from 'commander';
import { addSharedOptions } from './common.js';
import { notYetAvailable } from './pending.js';

/** Wiring point: return `import('../python/demo.js')` once the Python engine lands. */
async function loadDemo(): Promise<null | { runDemo: (options: unknown) => Promise<number> }> {
  return null;
}

export function demoCommand(): Command {
  const cmd = new Command('demo')
    .description('run the default chain with Python handlers from a module mixed in')
    .requiredOption(
      '--python-module <module>',
      'Python module with handler classes (e.g. examples.python_handlers)',
    );
  addSharedOptions(cmd);
  cmd.action(async () => {
    const demo = await loadDemo();
    if (!demo) return notYetAvailable('demo', 'the Python engine');
  });
  return cmd;
}
