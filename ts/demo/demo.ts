// The old `python_demo`: the default chain with a module's Python handlers
// mixed in. Handlers that name a state (mapping, `state = "..."` or a class
// named after a built-in state) replace the built-in handler of that state;
// the others run one after another once the chain has the server version,
// each as a custom state named after its class.
import fs from 'node:fs';
import path from 'node:path';
import type { StateContext } from '../machine/context.js';
import { createDefaultMachine } from '../machine/default-machine.js';
import type { StateHandler } from '../machine/handler.js';
import { States } from '../machine/states.js';
import { loadPythonHandlers, type LoadedHandler } from '../python/handlers.js';
import { PythonRuntime } from '../python/runtime.js';
import { runAndRerun } from '../python/watch.js';

export interface DemoOptions {
  /** Dotted module name (importable from the current directory) or a .py file/folder path. */
  module: string;
  ctx: StateContext;
  /** Receives one line per event (transitions, loaded handlers). */
  print: (line: string) => void;
}

export interface DemoResult {
  loaded: LoadedHandler[];
  history: string[];
}

/** Chains unmapped handlers: each one's `Completed` leads to the next one's state. */
function chained(handler: StateHandler, next: string): StateHandler {
  return {
    enter: handler.enter ? (ctx) => handler.enter?.(ctx) : undefined,
    execute: async (ctx) => {
      const state = await handler.execute(ctx);
      return state === States.Completed ? next : state;
    },
    exit: handler.exit ? (ctx) => handler.exit?.(ctx) : undefined,
    describe: () => handler.describe?.() ?? 'handler',
  };
}

export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const rt = PythonRuntime.get();
  const isPath = options.module.endsWith('.py') || options.module.includes(path.sep);
  if (!isPath) rt.addImportPath(process.cwd()); // `--python-module my_handlers` as with python -m
  const unmappedNames: string[] = [];
  const placeholder = createDefaultMachine();
  const loaded = await loadPythonHandlers(placeholder, options.module);
  for (const h of loaded.unmapped) unmappedNames.push(h.info.name);
  // The import-job states are there for handlers that return checking_import_jobs() & co.
  const machine = createDefaultMachine({ next: unmappedNames[0] ?? States.Completed, importJobs: true });
  for (const h of loaded.registered) {
    machine.register(h.state!, h.handler);
    options.print(`python ${h.info.name} handles ${h.state}`);
  }
  loaded.unmapped.forEach((h, i) => {
    machine.register(h.info.name, chained(h.handler, unmappedNames[i + 1] ?? States.Completed));
    options.print(`python ${h.info.name} runs after GettingVersion`);
  });
  if (loaded.handlers.length === 0)
    options.print(`no handler classes (PyStateHandler subclasses named …Handler) in ${options.module}`);
  machine.on('transition', (t: { from: string; to: string }) => options.print(`${t.from} → ${t.to}`));
  try {
    const result = await machine.run(options.ctx);
    return { loaded: loaded.handlers, history: result.history };
  } finally {
    loaded.dispose();
    await rt.release(options.ctx);
  }
}

/** `demo --watch`: runs, then runs again after every change to the handler files, until Ctrl-C. */
export async function watchDemo(
  module: string,
  runOnce: () => Promise<number>,
  note: (line: string) => void,
): Promise<number> {
  const root = fs.existsSync(module)
    ? fs.statSync(module).isDirectory()
      ? path.resolve(module)
      : path.dirname(path.resolve(module))
    : process.cwd();
  // Any change runs the whole demo again; a file that no longer loads just reports.
  return runAndRerun([root], () => runOnce(), {
    note,
    affected: ({ files, error }) => (error ? undefined : files),
  });
}
