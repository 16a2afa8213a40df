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
import type { StateContext } from './context.js';
import { StateMachine } from './machine.js';
import { States, normalizeState } from './states.js';

export interface DefaultMachineOptions {
  /**
   * Where GettingVersion goes (default Completed). Register that state's handler yourself; for
   * 'CheckingImportJobs', `installImportJobStates(machine)` (the monitor's) does.
   */
  next?: string;
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
