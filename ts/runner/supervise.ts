// `test-rig run` supervises its run: the cases run in a child process (the
// "run process", ./child.ts), and this process, which loads no Python, only
// waits for it. Handler code can end the process that runs it (`os._exit(0)`,
// a segfault in a C extension, `os.kill(os.getpid(), 9)`), and nothing in that
// process gets to say so. The supervisor survives it and finishes the run:
// the running case is reported as having ended the process, the terminal
// summary, JSON lines and JUnit file are completed, the run's scratch databases
// are dropped, what is left of the run process's group is killed, and the exit
// code is 1. A run process that says it is done (one message) ends the run
// with the code it gives; nothing else leaves the run process but one message
// per case start and end, so the hot path (visits, queries) does not change.
import { fork, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import { Connection } from '../db/connection.js';
import {
  EXIT_FAILED,
  EXIT_INTERRUPTED,
  EXIT_TERMINATED,
  RunnerUsageError,
  type RunnerOptions,
} from './command.js';
import { fanOut, JsonLinesReporter, JUnitReporter, TerminalReporter } from './report/index.js';
import { quoteId, type ServerParams } from './run.js';
import type { CaseResult, CaseSpec, Reporter, Summary } from './types.js';

/** What the supervisor sends the run process: everything but functions. */
export interface RunRequest {
  type: 'run';
  options: Omit<RunnerOptions, 'server' | 'out' | 'err' | 'redact' | 'handleSigint' | 'reporters'>;
  server: ServerParams;
  log: { level?: string; file?: string; format?: 'text' | 'json'; console?: boolean };
  secrets: string[];
}

/** What the run process sends back. */
export type RunMessage =
  | { type: 'start'; cases: CaseSpec[]; jobs: number }
  | { type: 'caseStart'; id: string }
  | { type: 'caseEnd'; result: CaseResult }
  | { type: 'done'; code: number }
  | { type: 'error'; message: string; hint?: string; usage: boolean };

/** Names the run's scratch databases (`test_rig_<run id>_…`) so the supervisor can find them. */
export const RUN_ID_ENV = 'TEST_RIG_RUN_ID';

export interface SuperviseOptions extends RunnerOptions {
  server: () => ServerParams | Promise<ServerParams>;
  log: RunRequest['log'];
  secrets: string[];
}

const FORWARDED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/** Runs the suites in a supervised run process; resolves to the run's exit code. */
export async function superviseRun(o: SuperviseOptions): Promise<number> {
  const out = o.out ?? ((t: string) => process.stdout.write(t));
  const err = o.err ?? ((t: string) => process.stderr.write(t));
  const server = await o.server();
  const started = performance.now();
  const runId = crypto.randomBytes(6).readUIntBE(0, 6).toString(36);
  const {
    server: _s,
    out: _o,
    err: _e,
    redact,
    handleSigint: _h,
    reporters: _r,
    log,
    secrets,
    ...options
  } = o;
  // Its own process group: a Ctrl-C on the terminal reaches this process only,
  // which passes it on once (the run process counts Ctrl-Cs), and what the
  // handlers leave running in that group can be killed as a whole.
  const child = fork(new URL('./child.js', import.meta.url), [], {
    env: { ...process.env, [RUN_ID_ENV]: runId },
    stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
    detached: true,
    serialization: 'advanced',
  });
  const request: RunRequest = { type: 'run', options, server, log, secrets };
  child.send(request);

  let planned: CaseSpec[] | undefined;
  const running = new Map<string, { spec: CaseSpec; started: number }>();
  const results: CaseResult[] = [];
  let done: number | undefined;
  let failure: Extract<RunMessage, { type: 'error' }> | undefined;
  child.on('message', (m: RunMessage) => {
    switch (m.type) {
      case 'start':
        planned = m.cases;
        break;
      case 'caseStart': {
        const spec = planned?.find((c) => c.id === m.id);
        if (spec) running.set(m.id, { spec, started: performance.now() });
        break;
      }
      case 'caseEnd':
        running.delete(m.result.case.id);
        results.push(m.result);
        break;
      case 'done':
        done = m.code;
        break;
      case 'error':
        failure = m;
        break;
    }
  });

  let signals = 0;
  let lastSignal = 'SIGINT' as NodeJS.Signals;
  const forward = (sig: NodeJS.Signals) => {
    signals++;
    lastSignal = sig;
    try {
      child.kill(sig);
    } catch {
      /* already gone */
    }
  };
  for (const s of FORWARDED) process.on(s, forward);
  let exit: { code: number | null; signal: NodeJS.Signals | null };
  try {
    exit = await new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  } finally {
    for (const s of FORWARDED) process.off(s, forward);
  }
  killGroup(child);
  if (failure) {
    if (failure.usage) throw new RunnerUsageError(failure.message, failure.hint);
    throw Object.assign(new Error(failure.message), { hint: failure.hint });
  }
  if (done !== undefined) return done;

  // The run process ended without finishing the run.
  const how = exit.signal ? `signal ${exit.signal}` : `exit ${exit.code}`;
  const quitByUser = signals > 0 && (exit.signal === null ? [130, 143].includes(exit.code ?? 0) : true);
  if (!planned) {
    if (quitByUser) return lastSignal === 'SIGTERM' ? EXIT_TERMINATED : EXIT_INTERRUPTED;
    throw new Error(
      `the run process ended (${how}) before any case started, while loading the test files (does a test file end the process when imported?)`,
    );
  }
  const dropped = await dropScratchDatabases(server, runId).catch((e: Error) => {
    err(`warning: could not drop the run's scratch databases (test_rig_${runId}_…): ${e.message}\n`);
    return [] as string[];
  });
  const now = performance.now();
  const several = running.size > 1;
  const ended: CaseResult[] = [...running.values()].map(({ spec, started }) => ({
    case: spec,
    status: quitByUser ? 'cancelled' : 'failed',
    durationMs: now - started,
    attempts: 1,
    failure: quitByUser
      ? { message: 'cancelled: the run was quit at once (second Ctrl-C)', type: 'Cancelled' }
      : {
          message: several
            ? `the process ended (${how}) while this case was running (one of ${running.size} running cases ended it: os._exit, a crash, a signal)`
            : `ended the process (${how}): the handler called os._exit, crashed or was killed`,
          type: 'ProcessEnded',
        },
    output: [],
    database: dropped.length === 1 && running.size === 1 ? dropped[0] : undefined,
  }));
  const all = [...results, ...ended];
  const count = (s: CaseResult['status']) => all.filter((r) => r.status === s).length;
  const summary: Summary = {
    total: planned.length,
    passed: count('passed'),
    failed: count('failed'),
    skipped: count('skipped'),
    flaky: count('flaky'),
    cancelled: count('cancelled'),
    notRun: planned.length - all.length,
    durationMs: performance.now() - started,
    interrupted: quitByUser,
  };
  // the terminal, JSON lines and JUnit file, finished as the run process would have
  const reporters: Reporter[] = [
    new TerminalReporter({
      level: o.outputLevel,
      showOutput: o.showOutput,
      showSql: o.showSql,
      out: o.json === '-' ? err : out,
    }),
  ];
  const failed: string[] = [];
  const onError = (e: unknown) => {
    const msg = `${(e as Error).message}`;
    if (!failed.includes(msg)) failed.push(msg);
  };
  try {
    if (o.json) reporters.push(new JsonLinesReporter(o.json, redact, { append: true }));
  } catch (e) {
    onError(e);
  }
  if (o.junit) reporters.push(new JUnitReporter(o.junit, redact));
  if (!quitByUser)
    err(
      `\nerror: the run process ended (${how}) while running ${[...running.keys()].join(', ') || 'no case'}; ${summary.notRun} case${summary.notRun === 1 ? '' : 's'} not run\n`,
    );
  const fan = fanOut(reporters, onError);
  for (const r of ended) fan.caseEnd?.(r);
  await fan.end?.(summary, all);
  for (const m of failed) err(`error: ${m}\n`);
  if (quitByUser) return lastSignal === 'SIGTERM' ? EXIT_TERMINATED : EXIT_INTERRUPTED;
  return EXIT_FAILED;
}

/** Kills what handlers left running in the run process's group (forked workers, subprocesses). */
function killGroup(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    /* the group is empty */
  }
}

/** Drops the scratch databases the run left (`test_rig_<run id>_…`); returns their names. */
async function dropScratchDatabases(server: ServerParams, runId: string): Promise<string[]> {
  const conn = await Connection.open(
    {
      host: server.host,
      port: server.port,
      user: server.user,
      password: server.password,
      ssl: server.ssl,
      connectTimeoutMs: server.connectTimeoutMs,
    },
    { name: 'test-rig-supervisor' },
  );
  try {
    const rows = (await conn.query(`SHOW DATABASES LIKE 'test\\_rig\\_${runId}\\_%'`)).rows as Record<
      string,
      unknown
    >[];
    const names = rows.map((r) => String(Object.values(r)[0]));
    for (const n of names) await conn.query(`DROP DATABASE IF EXISTS ${quoteId(n)}`);
    return names;
  } finally {
    await conn.close().catch(() => conn.destroy());
  }
}
