// The default chain: Initial → ParsingConfig → Connecting → TestingConnection
// → VerifyingDatabase → GettingVersion → Completed (or `next`).
import {
  ConnectingHandler,
  GettingVersionHandler,
  InitialHandler,
  ParsingConfigHandler,
  TestingConnectionHandler,
  VerifyingDatabaseHandler,
} from './builtin-handlers.js';
import {
  CheckingImportJobsHandler,
  ShowingImportJobDetailsHandler,
  type ImportJobStatesOptions,
} from '../monitor/states.js';
import type { StateContext } from './context.js';
import { StateMachine } from './machine.js';
import { States, normalizeState } from './states.js';

export interface DefaultMachineOptions {
  /**
   * Where GettingVersion goes (default Completed). 'CheckingImportJobs' also installs the
   * monitor-backed import-job states (as `importJobs: true` does); otherwise register its handler yourself.
   */
  next?: string;
  /**
   * Register CheckingImportJobs and ShowingImportJobDetails, backed by the import-job monitor
   * (ts/monitor/states.ts): the parsed jobs land in ctx.customData 'importJobs' (importJobsOf(ctx))
   * and in Python's context.import_jobs.
   */
  importJobs?: boolean | ImportJobStatesOptions;
  /** Also install the allow-list of the chain, so a replaced handler cannot skip steps. */
  strictTransitions?: boolean;
}

export function createDefaultMachine<C extends StateContext = StateContext>(
  options: DefaultMachineOptions = {},
): StateMachine<C> {
  const next = normalizeState(options.next ?? States.Completed);
  const machine = new StateMachine<C>()
    .register(States.Initial, new InitialHandler())
    .register(States.ParsingConfig, new ParsingConfigHandler())
    .register(States.Connecting, new ConnectingHandler())
    .register(States.TestingConnection, new TestingConnectionHandler())
    .register(States.VerifyingDatabase, new VerifyingDatabaseHandler())
    .register(States.GettingVersion, new GettingVersionHandler(next));
  const jobs = options.importJobs;
  if (jobs || (jobs === undefined && next === States.CheckingImportJobs)) {
    const o = typeof jobs === 'object' ? jobs : {};
    machine
      .register(States.CheckingImportJobs, new CheckingImportJobsHandler(o))
      .register(States.ShowingImportJobDetails, new ShowingImportJobDetailsHandler(o));
  }
  if (options.strictTransitions) {
    machine
      .allowTransitions(States.Initial, [States.ParsingConfig])
      .allowTransitions(States.ParsingConfig, [States.Connecting])
      .allowTransitions(States.Connecting, [States.TestingConnection])
      .allowTransitions(States.TestingConnection, [States.VerifyingDatabase])
      .allowTransitions(States.VerifyingDatabase, [States.GettingVersion])
      .allowTransitions(States.GettingVersion, [next]);
  }
  return machine;
}
