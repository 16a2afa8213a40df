// Runs the BUILT command line (dist/ts/cli/main.js) as a child process, the way a user does.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Absolute path of the built CLI entry point. */
export const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../ts/cli/main.js');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunCliOptions {
  /** Extra environment; `undefined` values remove a variable. */
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** Written to stdin, which is then closed. */
  input?: string;
  timeoutMs?: number;
}

/** The environment minus variables that would change the CLI's behaviour. */
export function cleanEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  for (const k of Object.keys(env)) if (k.startsWith('TIDB_') || k.startsWith('TEST_RIG_LOG')) delete env[k];
  delete env.FORCE_COLOR;
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

export function runCli(args: string[], options: RunCliOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: options.cwd,
      env: cleanEnv(options.env),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}

/**
 * Runs `test-rig run --suite-dir <suite> --show-output` against the test server, on a
 * suite of one test file (`source`) in a fresh folder that is removed afterwards.
 * `extra` flags go before the connection flags; paths in them are relative to that
 * folder, which `inspect` may read (a report) before it goes.
 */
export async function runSuiteSource(
  suite: string,
  source: string,
  extra: string[] = [],
  inspect?: (dir: string) => void,
): Promise<CliResult> {
  const { testHostPort, testServer } = await import('./db.js');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${suite}-`));
  try {
    fs.mkdirSync(path.join(dir, suite));
    fs.writeFileSync(path.join(dir, suite, `test_${suite}.py`), source);
    const connection = ['-H', testHostPort, '-u', testServer.user, `--password=${testServer.password}`];
    const r = await runCli(['run', '--suite-dir', suite, '--show-output', ...extra, ...connection], {
      cwd: dir,
    });
    inspect?.(dir);
    return r;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
