// The run process of a supervised `test-rig run` (see ./supervise.ts): it
// receives the run's options from the supervisor, runs the suites as
// runSuites always does (terminal, JSON lines, JUnit), and tells the
// supervisor which case starts and ends, and when the run is done.
import { tolerateClosedStdout } from '../log/closed-stdout.js';
import { Logger, parseLogFilter, type Level } from '../log/logger.js';
import { RunnerUsageError, runSuites } from './command.js';
import { startHeartbeat } from './escalate.js';
import type { RunMessage, RunRequest } from './supervise.js';
import type { CaseSpec, Reporter } from './types.js';
import { EXIT_INTERRUPTED } from '../exit-codes.js';

const send = (m: RunMessage): Promise<void> =>
  new Promise((resolve) => {
    if (!process.send || !process.connected) return resolve();
    process.send(m, undefined, {}, () => resolve());
  });

tolerateClosedStdout();

// the supervisor is gone (killed): stop the run gracefully, as on SIGTERM
process.on('disconnect', () => process.kill(process.pid, 'SIGTERM'));

process.once('message', (req: RunRequest) => {
  // the supervisor kills a run process whose JS thread a handler holds past its deadline (./escalate.ts)
  startHeartbeat(() => void send({ type: 'beat' }));
  void run(req);
});

/** A case as it can cross the IPC channel: without the Python class discovery found (a handle). */
function plainCase({ found: _found, ...spec }: CaseSpec): CaseSpec {
  return spec;
}

async function run(req: RunRequest): Promise<void> {
  const filter = parseLogFilter(process.env.TEST_RIG_LOG);
  const log = new Logger({
    level: req.log.level as Level | undefined,
    scopes: filter.scopes,
    file: req.log.file,
    format: req.log.format,
    console: req.log.console,
  });
  for (const s of req.secrets) log.addSecret(s);
  const supervisor: Reporter = {
    start: (info) =>
      void send({
        type: 'start',
        cases: info.cases.map(plainCase),
        jobs: info.jobs,
        // which cases could hold the JS thread, should the run process stop beating
        inline: info.cases.filter((c) => c.found?.info.inline).map((c) => c.id),
      }),
    caseStart: (c) => void send({ type: 'caseStart', id: c.id }),
    caseEnd: (result) => void send({ type: 'caseEnd', result: { ...result, case: plainCase(result.case) } }),
  };
  let code: number;
  try {
    code = await runSuites({
      ...req.options,
      server: () => req.server,
      // the runner masks the free text of its lines itself (see RunnerOptions.out)
      out: (t) => log.out(t.replace(/\n$/, ''), true),
      err: (t) => log.errOut(t.replace(/\n$/, ''), true),
      redact: (t) => log.redact(t),
      reporters: [supervisor],
      supervised: true,
    });
    await send({ type: 'done', code });
  } catch (e) {
    const err = e as Error & { hint?: unknown };
    code = e instanceof RunnerUsageError ? e.exitCode : 1;
    await send({
      type: 'error',
      message: log.redact(err.message ?? String(e)),
      hint: typeof err.hint === 'string' ? err.hint : undefined,
      usage: e instanceof RunnerUsageError,
    });
  }
  log.close();
  // lanes left running by abandoned (timed-out) handlers must not keep the process alive
  process.exit(code ?? EXIT_INTERRUPTED);
}
