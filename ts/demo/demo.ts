// The old `python_demo`: the default chain with a module's Python handlers
// mixed in. Handlers for a built-in state (`state = "Connecting"` or a class
// named after one) replace the built-in handler of that state; the others run
// one after another once the chain has the server version, each in its own
// state (`state = "MyCheck"`) or one named after its class.
import fs from 'node:fs';
import path from 'node:path';
import type { StateContext } from '../machine/context.js';
import { createDefaultMachine } from '../machine/default-machine.js';
import type { StateHandler } from '../machine/handler.js';
import { States } from '../machine/states.js';
import { installImportJobStates } from '../monitor/states.js';
import { importPythonHandlers, type LoadedHandler } from '../python/handlers.js';
import { PythonRuntime } from '../python/runtime.js';
import { runAndRerun } from '../python/watch.js';

const BUILTIN = new Set<string>(Object.values(States));

export interface DemoOptions {
  /** Dotted module name (importable from the current directory) or a .py file/folder path. */
  module: string;
  ctx: StateContext;
  /** Receives one line per event (transitions, loaded handlers). */
  print: (line: string) => void;
  /** Receives warnings about classes that load but will not run (default: print). */
  warn?: (line: string) => void;
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
  const loaded = await importPythonHandlers(options.module, {
    onWarning: (message) => (options.warn ?? options.print)(`warning: ${message}`),
  });
  // A handler for a built-in state replaces that state's handler; the others (no state,
  // or a state of their own) run one after another once the chain has the server version.
  const replacing = loaded.handlers.filter((h) => h.state !== undefined && BUILTIN.has(h.state));
  const chainedOnes = loaded.handlers.filter((h) => !replacing.includes(h));
  const stateOf = (h: LoadedHandler): string => h.state ?? h.info.name;
  // The import-job states are there for handlers that return checking_import_jobs() & co.
  const machine = installImportJobStates(
    createDefaultMachine({ next: chainedOnes[0] ? stateOf(chainedOnes[0]) : States.Completed }),
  );
  for (const h of replacing) {
    machine.register(h.state!, h.handler);
    options.print(`python ${h.info.name} handles ${h.state}`);
  }
  chainedOnes.forEach((h, i) => {
    const after = chainedOnes[i + 1];
    machine.register(stateOf(h), chained(h.handler, after ? stateOf(after) : States.Completed));
    options.print(
      `python ${h.info.name} runs after ${i === 0 ? States.GettingVersion : chainedOnes[i - 1]!.info.name}`,
    );
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
