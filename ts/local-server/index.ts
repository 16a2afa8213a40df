// A throwaway MariaDB/MySQL server for `--local` and for tests: a temporary data
// directory, a free loopback port, run as a non-root user when we are root,
// removed on stop(), on SIGINT/SIGTERM and on process exit.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import mysql from 'mysql2/promise';

export interface LocalServer {
  host: string;
  port: number;
  user: string;
  password: string;
  /** The database created for the run (`test`). */
  database: string;
  socket: string;
  dataDir: string;
  kind: 'mariadb' | 'mysql';
  binary: string;
  /** The server process id (changes after restart()). */
  readonly pid: number | undefined;
  /**
   * Stops the server process but keeps its data directory and port (for fault
   * tests: a server that goes away mid-run). `signal` SIGKILL simulates a crash.
   */
  halt(signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
  /** Starts the server again on the same data directory and port after halt(); resolves when it answers. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export interface LocalServerOptions {
  /** Seconds to wait for the server to answer. Default 60. */
  startTimeoutSecs?: number;
  /** Database to create. Default `test`. */
  database?: string;
  /** Install SIGINT/SIGTERM handlers that stop the server and exit (default true). */
  handleSignals?: boolean;
  /** Progress messages (debug). */
  log?: (msg: string) => void;
  /** Extra server arguments, e.g. `--ssl-ca=…`, `--ssl-cert=…`, `--ssl-key=…` for a TLS server. */
  extraArgs?: string[];
}

export class LocalServerError extends Error {
  override name = 'LocalServerError';
}

export const INSTALL_HINT =
  'no MariaDB or MySQL server binary found (looked for mariadbd and mysqld on PATH and in /usr/sbin, /usr/local/sbin, /usr/libexec); install one, e.g. `apt-get install mariadb-server` (Debian/Ubuntu), `dnf install mariadb-server` or `brew install mariadb`';

function which(name: string): string | undefined {
  const dirs = [
    ...(process.env.PATH ?? '').split(path.delimiter),
    '/usr/sbin',
    '/usr/local/sbin',
    '/usr/libexec',
    '/usr/local/mysql/bin',
  ];
  for (const d of dirs) {
    if (!d) continue;
    const p = path.join(d, name);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      if (fs.statSync(p).isFile()) return p;
    } catch {
      /* next */
    }
  }
  return undefined;
}

/** The server binary to use, or undefined when none is installed. */
export function findServerBinary():
  { binary: string; kind: 'mariadb' | 'mysql'; installDb?: string } | undefined {
  const mariadbd = which('mariadbd');
  if (mariadbd)
    return {
      binary: mariadbd,
      kind: 'mariadb',
      installDb: which('mariadb-install-db') ?? which('mysql_install_db'),
    };
  const mysqld = which('mysqld');
  if (!mysqld) return undefined;
  const v = spawnSync(mysqld, ['--version'], { encoding: 'utf8' });
  const isMaria = /mariadb/i.test(v.stdout ?? '');
  return {
    binary: mysqld,
    kind: isMaria ? 'mariadb' : 'mysql',
    installDb: isMaria ? (which('mariadb-install-db') ?? which('mysql_install_db')) : undefined,
  };
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

interface Cleanup {
  /** Orderly: stop the server, remove the directory. */
  run: () => Promise<void>;
  /** Last resort inside process.on('exit'): SIGKILL and rmSync. */
  sync: () => void;
}
const cleanups = new Set<Cleanup>();
let hooksInstalled = false;

function installHooks(handleSignals: boolean): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', () => {
    for (const c of cleanups) c.sync();
  });
  if (handleSignals) {
    const onSignal = (sig: NodeJS.Signals) => {
      process.stderr.write(`\n${sig}: stopping the local server and removing its data directory\n`);
      void Promise.allSettled([...cleanups].map((c) => c.run())).then(() =>
        process.exit(sig === 'SIGINT' ? 130 : 143),
      );
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  }
}

function runAsUser(): { user?: string; uid?: number; gid?: number } {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return {};
  for (const user of ['mysql', 'nobody']) {
    const r = spawnSync('id', ['-u', user], { encoding: 'utf8' });
    const g = spawnSync('id', ['-g', user], { encoding: 'utf8' });
    if (r.status === 0 && g.status === 0)
      return { user, uid: Number(r.stdout.trim()), gid: Number(g.stdout.trim()) };
  }
  throw new LocalServerError(
    'running as root, but there is no `mysql` (or `nobody`) user to run the server as',
  );
}

function chownR(p: string, uid: number, gid: number): void {
  fs.chownSync(p, uid, gid);
  if (fs.statSync(p).isDirectory()) for (const e of fs.readdirSync(p)) chownR(path.join(p, e), uid, gid);
}

function tail(file: string, n = 15): string {
  try {
    return fs.readFileSync(file, 'utf8').trim().split('\n').slice(-n).join('\n');
  } catch {
    return '';
  }
}

/** The longest Unix socket path (sun_path holds 108 bytes, NUL included). */
export const MAX_SOCKET_PATH = 107;
const DIR_PREFIX = 'test-rig-local-';
/** In each server's folder: the pid of the test-rig process that owns it. */
const OWNER_FILE = 'owner.pid';

/**
 * The environment the server runs with: test-rig's, minus anything holding a
 * password, and its own folder as TMPDIR (the server may run as another user,
 * who cannot write to the caller's TMPDIR).
 */
function serverEnv(dir: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/pass|pwd|secret|token/i.test(k)) env[k] = v;
  env.TMPDIR = dir;
  return env;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes what a test-rig killed before it could clean up left behind: the
 * folders of local servers whose owner is gone, and their servers (found by
 * their pid file, and checked to be a server of that very folder).
 */
export function reapLeftoverServers(tmp = os.tmpdir(), log: (m: string) => void = () => {}): string[] {
  const reaped: string[] = [];
  let entries: string[];
  try {
    entries = fs.readdirSync(tmp).filter((e) => e.startsWith(DIR_PREFIX));
  } catch {
    return reaped;
  }
  for (const e of entries) {
    const dir = path.join(tmp, e);
    let owner: number;
    try {
      owner = Number(fs.readFileSync(path.join(dir, OWNER_FILE), 'utf8'));
    } catch {
      continue; // not ours, or still being set up
    }
    if (!Number.isInteger(owner) || owner <= 0 || alive(owner)) continue;
    try {
      const pid = Number(fs.readFileSync(path.join(dir, 'mysqld.pid'), 'utf8').trim());
      const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (cmd.includes(`--datadir=${path.join(dir, 'data')}`)) process.kill(pid, 'SIGKILL');
    } catch {
      /* no server left */
    }
    fs.rmSync(dir, { recursive: true, force: true });
    log(`removed ${dir}, left behind by test-rig process ${owner}`);
    reaped.push(dir);
  }
  return reaped;
}

type ServerBinary = NonNullable<ReturnType<typeof findServerBinary>>;

/** Fails early with a hint when TMPDIR is too deep for the server's Unix socket, before anything is created. */
function checkSocketRoom(): void {
  // mkdtemp appends 6 characters
  const socketLength = Buffer.byteLength(path.join(os.tmpdir(), `${DIR_PREFIX}XXXXXX`, 'mysql.sock'));
  if (socketLength > MAX_SOCKET_PATH)
    throw new LocalServerError(
      `the local server's socket path in ${os.tmpdir()} would be ${socketLength} bytes, more than the ${MAX_SOCKET_PATH} a Unix socket allows (hint: set TMPDIR to a shorter folder, e.g. TMPDIR=/tmp)`,
    );
}

/** Fills the empty data directory with the system tables; MariaDB and MySQL each have their own initialiser. */
function initDataDir(
  found: ServerBinary,
  common: string[],
  small: string[],
  dir: string,
  errLog: string,
): void {
  let init;
  if (found.kind === 'mariadb') {
    if (!found.installDb)
      throw new LocalServerError('mariadb-install-db not found next to mariadbd; install mariadb-server');
    init = spawnSync(
      found.installDb,
      [
        ...common,
        '--auth-root-authentication-method=normal',
        '--skip-test-db',
        '--skip-name-resolve',
        ...small,
      ],
      { encoding: 'utf8', env: serverEnv(dir) },
    );
  } else {
    init = spawnSync(found.binary, [...common, '--initialize-insecure', ...small, `--log-error=${errLog}`], {
      encoding: 'utf8',
      env: serverEnv(dir),
    });
  }
  if (init.status !== 0) {
    throw new LocalServerError(
      `initialising the data directory failed (exit ${init.status}): ${(init.stderr || init.stdout || tail(errLog)).trim().split('\n').slice(-5).join(' | ')}`,
    );
  }
}

/** The server's command line: loopback only, everything inside its own folder, small and without binlog. */
function serverArgs(
  found: ServerBinary,
  common: string[],
  small: string[],
  where: { port: number; dir: string; socket: string; errLog: string },
  extraArgs: string[],
): string[] {
  const { port, dir, socket, errLog } = where;
  const args = [
    ...common,
    `--port=${port}`,
    '--bind-address=127.0.0.1',
    '--skip-networking=0',
    `--socket=${socket}`,
    `--pid-file=${path.join(dir, 'mysqld.pid')}`,
    `--log-error=${errLog}`,
    `--tmpdir=${dir}`,
    '--skip-log-bin',
    '--skip-name-resolve',
    '--performance-schema=0',
    ...small,
    ...extraArgs,
  ];
  if (found.kind === 'mysql') args.push('--mysqlx=0');
  return args;
}

/**
 * Polls until the server answers and the run's database exists. On an early exit or the
 * deadline it stops the server (removing its folder) so a failed start leaves nothing behind.
 */
async function waitReady(w: {
  port: number;
  database: string;
  timeoutSecs: number;
  errLog: string;
  exited: () => string | undefined;
  stop: () => Promise<void>;
}): Promise<void> {
  const deadline = Date.now() + w.timeoutSecs * 1000;
  for (;;) {
    const exited = w.exited();
    if (exited !== undefined) {
      await w.stop().catch(() => {});
      throw new LocalServerError(
        `the local server stopped during start-up (${exited}): ${tail(w.errLog, 5).replace(/\n/g, ' | ')}`,
      );
    }
    try {
      const c = await mysql.createConnection({
        host: '127.0.0.1',
        port: w.port,
        user: 'root',
        password: '',
        connectTimeout: 2000,
      });
      await c.ping();
      await c.query(`CREATE DATABASE IF NOT EXISTS \`${w.database.replace(/`/g, '``')}\``);
      await c.end();
      return;
    } catch (e) {
      if (Date.now() > deadline) {
        await w.stop().catch(() => {});
        throw new LocalServerError(
          `the local server did not answer within ${w.timeoutSecs}s: ${(e as Error).message}`,
        );
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** Starts a throwaway server and resolves when it answers a ping. */
export async function startLocalServer(opts: LocalServerOptions = {}): Promise<LocalServer> {
  const log = opts.log ?? (() => {});
  const found = findServerBinary();
  if (!found) throw new LocalServerError(INSTALL_HINT);
  const asUser = runAsUser();
  checkSocketRoom();
  reapLeftoverServers(os.tmpdir(), log);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), DIR_PREFIX));
  fs.writeFileSync(path.join(dir, OWNER_FILE), String(process.pid));
  const dataDir = path.join(dir, 'data');
  const socket = path.join(dir, 'mysql.sock');
  const errLog = path.join(dir, 'error.log');
  const cleanupDir = () => fs.rmSync(dir, { recursive: true, force: true });
  let child: ChildProcess | undefined;
  let exited: string | undefined;
  const cleanup: Cleanup = {
    run: async () => {
      cleanups.delete(cleanup);
      if (child && exited === undefined) {
        const gone = new Promise<void>((r) => child!.once('exit', () => r()));
        child.kill('SIGTERM');
        const t = setTimeout(() => child!.kill('SIGKILL'), 10_000);
        await gone;
        clearTimeout(t);
      }
      cleanupDir();
      log(`stopped the local server and removed ${dir}`);
    },
    sync: () => {
      try {
        if (child && exited === undefined) child.kill('SIGKILL');
      } catch {
        /* gone */
      }
      cleanupDir();
    },
  };
  cleanups.add(cleanup);
  installHooks(opts.handleSignals ?? true);
  try {
    fs.mkdirSync(dataDir);
    fs.chmodSync(dir, 0o755);
    if (asUser.uid !== undefined) chownR(dir, asUser.uid, asUser.gid!);
    const common = [
      '--no-defaults',
      `--datadir=${dataDir}`,
      ...(asUser.user ? [`--user=${asUser.user}`] : []),
    ];
    const small = ['--innodb-buffer-pool-size=16M', '--innodb-log-file-size=8M'];
    log(`initialising ${found.kind} data directory ${dataDir}`);
    initDataDir(found, common, small, dir, errLog);
    const port = await freePort();
    const args = serverArgs(found, common, small, { port, dir, socket, errLog }, opts.extraArgs ?? []);
    const spawnServer = () => {
      log(`starting ${found.binary} on 127.0.0.1:${port}`);
      exited = undefined;
      const proc = spawn(found.binary, args, { stdio: 'ignore', detached: true, env: serverEnv(dir) });
      child = proc;
      proc.on('exit', (code, sig) => {
        if (child === proc) exited = `exit ${code ?? sig}`;
      });
    };
    spawnServer();
    const server: LocalServer = {
      host: '127.0.0.1',
      port,
      user: 'root',
      password: '',
      database: opts.database ?? 'test',
      socket,
      dataDir,
      kind: found.kind,
      binary: found.binary,
      get pid() {
        return exited === undefined ? child?.pid : undefined;
      },
      halt: async (signal = 'SIGTERM') => {
        const proc = child;
        if (!proc || exited !== undefined) return;
        const gone = new Promise<void>((r) => proc.once('exit', () => r()));
        proc.kill(signal);
        await gone;
      },
      restart: async () => {
        if (exited === undefined) throw new LocalServerError('restart(): the server is still running');
        if (!cleanups.has(cleanup)) throw new LocalServerError('restart(): the server was stopped');
        spawnServer();
        await ready();
      },
      stop: async () => {
        if (cleanups.has(cleanup)) await cleanup.run();
      },
    };
    const ready = () =>
      waitReady({
        port,
        database: server.database,
        timeoutSecs: opts.startTimeoutSecs ?? 60,
        errLog,
        exited: () => exited,
        stop: () => server.stop(),
      });
    await ready();
    log(`local ${found.kind} server ready on 127.0.0.1:${port}`);
    return server;
  } catch (e) {
    await cleanup.run().catch(() => cleanupDir());
    throw e;
  }
}
