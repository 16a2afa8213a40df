// Subcommands whose library part is being built elsewhere: registered with their
// flags (so --help is right); the action loads the library lazily and says
// "not yet available" until it exists.
import { plainLogger, EXIT_FAILURE } from './common.js';

export function notYetAvailable(name: string, module: string): void {
  plainLogger().errOut(
    `error: test-rig ${name} is not yet available in this build (its library ${module} is still being written)`,
  );
  process.exitCode = EXIT_FAILURE;
}
