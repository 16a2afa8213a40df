// The logger: levels, console (stderr) and file sinks, TEST_RIG_LOG filter,
// colours only on a TTY without NO_COLOR, and secrets masked (log/redact.ts) in
// everything the CLI writes through it: log lines, user output, errors. (Case
// reports are masked on their own way to the reporters: runner/report/redact.ts.)
import fs from 'node:fs';
import { openOutputFile } from '../io/output-file.js';
import pc from 'picocolors';
import { REDACTED, redactSecrets, secretMasker } from './redact.js';

export const LEVELS = ['trace', 'debug', 'info', 'warn', 'error'] as const;
export type Level = (typeof LEVELS)[number];
const RANK: Record<Level, number> = { trace: 0, debug: 1, info: 2, warn: 3, error: 4 };

export function isLevel(s: string): s is Level {
  return (LEVELS as readonly string[]).includes(s);
}

export { REDACTED };

/** Parsed TEST_RIG_LOG: a default level and per-scope levels (`debug` or `info,config=trace`). */
export interface LogFilter {
  level?: Level;
  scopes: Record<string, Level>;
}

export function parseLogFilter(spec: string | undefined): LogFilter {
  const filter: LogFilter = { scopes: {} };
  if (!spec) return filter;
  for (const raw of spec.split(',')) {
    const item = raw.trim().toLowerCase();
    if (!item) continue;
    const eq = item.indexOf('=');
    if (eq < 0) {
      if (isLevel(item)) filter.level = item;
    } else {
      const scope = item.slice(0, eq).trim();
      const lvl = item.slice(eq + 1).trim();
      if (scope && isLevel(lvl)) filter.scopes[scope] = lvl;
    }
  }
  return filter;
}

export interface LoggerOptions {
  /** Minimum level written (console and file). Default info. */
  level?: Level;
  /** Per-scope levels (from TEST_RIG_LOG). */
  scopes?: Record<string, Level>;
  /** Write log lines to stderr. Default true. */
  console?: boolean;
  /** Append log lines to this file (created with its parent directory). */
  file?: string;
  /** `text` (default) or `json` lines in the file and on the console. */
  format?: 'text' | 'json';
  /** Force colours on/off; default: stderr is a TTY and NO_COLOR is unset. */
  color?: boolean;
  /** Streams (for tests). */
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream;
}

interface Shared {
  secrets: Set<string>;
  /** Masks every registered secret; rebuilt when one is added. */
  mask: (text: string) => string;
  fileFd?: number;
  filePath?: string;
}

export function colorEnabled(stream: NodeJS.WritableStream & { isTTY?: boolean }): boolean {
  if ('NO_COLOR' in process.env && process.env.NO_COLOR !== undefined) return false;
  if (process.env.FORCE_COLOR && process.env.FORCE_COLOR !== '0') return true;
  return Boolean(stream.isTTY) && pc.isColorSupported;
}

export class Logger {
  readonly level: Level;
  private readonly scopes: Record<string, Level>;
  private readonly toConsole: boolean;
  private readonly format: 'text' | 'json';
  private readonly color: boolean;
  private readonly stdout: NodeJS.WritableStream;
  private readonly stderr: NodeJS.WritableStream;
  private readonly shared: Shared;
  readonly scope: string | undefined;
  private readonly colors: ReturnType<typeof pc.createColors>;

  constructor(opts: LoggerOptions = {}, shared?: Shared, scope?: string) {
    this.level = opts.level ?? 'info';
    this.scopes = opts.scopes ?? {};
    this.toConsole = opts.console ?? true;
    this.format = opts.format ?? 'text';
    this.stdout = opts.stdout ?? process.stdout;
    this.stderr = opts.stderr ?? process.stderr;
    this.color = opts.color ?? colorEnabled(this.stderr);
    this.colors = pc.createColors(this.color);
    this.scope = scope;
    if (shared) {
      this.shared = shared;
    } else {
      this.shared = { secrets: new Set(), mask: (t) => t };
      if (opts.file) this.openFile(opts.file);
    }
  }

  private openFile(file: string): void {
    this.shared.fileFd = openOutputFile('the log file', file, { append: true, mode: 0o600 });
    this.shared.filePath = file;
  }

  /** A logger sharing sinks and secrets, whose lines are tagged with `scope`. */
  child(scope: string): Logger {
    return new Logger(
      {
        level: this.level,
        scopes: this.scopes,
        console: this.toConsole,
        format: this.format,
        color: this.color,
        stdout: this.stdout,
        stderr: this.stderr,
      },
      this.shared,
      scope,
    );
  }

  /** Registers a secret: from now on it is masked in everything this logger (and its children) write. */
  addSecret(secret: string | undefined): void {
    if (!secret || this.shared.secrets.has(secret)) return;
    this.shared.secrets.add(secret);
    this.shared.mask = secretMasker(this.shared.secrets);
  }

  /**
   * Masks registered secrets in any of their encodings (as whole tokens: see
   * secretMasker) and literal passwords in SQL text.
   */
  redact(text: string): string {
    return this.shared.mask(redactSecrets(text));
  }

  enabled(level: Level): boolean {
    const min = (this.scope && this.scopes[this.scope]) || this.level;
    return RANK[level] >= RANK[min];
  }

  private emit(level: Level, msg: string, fields?: Record<string, unknown>): void {
    if (!this.enabled(level)) return;
    const ts = new Date().toISOString();
    const text = this.redact(fields ? `${msg} ${formatFields(fields)}` : msg);
    if (this.shared.fileFd !== undefined) {
      const line =
        this.format === 'json'
          ? JSON.stringify({ ts, level, scope: this.scope, msg: text })
          : `${ts} ${level.toUpperCase().padEnd(5)}${this.scope ? ` [${this.scope}]` : ''} ${text}`;
      fs.writeSync(this.shared.fileFd, line + '\n');
    }
    if (this.toConsole) {
      if (this.format === 'json') {
        this.stderr.write(JSON.stringify({ ts, level, scope: this.scope, msg: text }) + '\n');
      } else {
        const c = this.colors;
        const tag = { trace: c.gray, debug: c.blue, info: c.green, warn: c.yellow, error: c.red }[level](
          level.toUpperCase().padEnd(5),
        );
        this.stderr.write(`${tag}${this.scope ? c.dim(` [${this.scope}]`) : ''} ${text}\n`);
      }
    }
  }

  trace(msg: string, fields?: Record<string, unknown>): void {
    this.emit('trace', msg, fields);
  }
  debug(msg: string, fields?: Record<string, unknown>): void {
    this.emit('debug', msg, fields);
  }
  info(msg: string, fields?: Record<string, unknown>): void {
    this.emit('info', msg, fields);
  }
  warn(msg: string, fields?: Record<string, unknown>): void {
    this.emit('warn', msg, fields);
  }
  error(msg: string, fields?: Record<string, unknown>): void {
    this.emit('error', msg, fields);
  }

  /**
   * User-facing output on stdout (redacted; also copied to the log file).
   * `preRedacted`: the caller masked the free text in it already (report lines,
   * whose own words and counts must not be masked when the password is `1`).
   */
  out(text: string, preRedacted = false): void {
    const t = preRedacted ? text : this.redact(text);
    this.stdout.write(t.endsWith('\n') ? t : t + '\n');
    this.toFile('OUT', t);
  }

  /** User-facing message on stderr (warnings, one-line errors); redacted, copied to the log file. */
  errOut(text: string, preRedacted = false): void {
    const t = preRedacted ? text : this.redact(text);
    this.stderr.write(t.endsWith('\n') ? t : t + '\n');
    this.toFile('ERR', t);
  }

  private toFile(kind: string, text: string): void {
    if (this.shared.fileFd === undefined) return;
    const ts = new Date().toISOString();
    for (const line of text.replace(/\n$/, '').split('\n')) {
      fs.writeSync(this.shared.fileFd, `${ts} ${kind.padEnd(5)} ${line}\n`);
    }
  }

  /** Colour helpers honouring the TTY/NO_COLOR decision. */
  get c(): ReturnType<typeof pc.createColors> {
    return this.colors;
  }

  close(): void {
    if (this.shared.fileFd !== undefined) {
      fs.closeSync(this.shared.fileFd);
      this.shared.fileFd = undefined;
    }
  }
}

function formatFields(fields: Record<string, unknown>): string {
  return Object.entries(fields)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
}
