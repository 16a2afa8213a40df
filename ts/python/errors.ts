// Errors that come from Python: the Python type, message, traceback and the
// user's file:line travel with them. And errors that go to Python, with their class.
import { DatabaseError, classifyError, type ErrorClass } from '../errors.js';

export class PythonError extends Error {
  override name = 'PythonError';
  /** Python exception type, e.g. 'ValueError'. */
  pyType: string;
  pyMessage: string;
  /** The formatted Python traceback. */
  pyTraceback: string;
  /** Innermost frame outside test_rig: the user's code. */
  file?: string;
  line?: number;
  function?: string;
  /**
   * What else went wrong, one line each with its file:line: the chain of causes
   * (`caused by …`, `while handling …`) and an ExceptionGroup's numbered members.
   */
  details?: string[];
  errno?: number;
  sqlState?: string;

  constructor(message: string, fields: Partial<PythonError> = {}) {
    super(message);
    this.pyType = fields.pyType ?? 'Exception';
    this.pyMessage = fields.pyMessage ?? message;
    this.pyTraceback = fields.pyTraceback ?? '';
    this.file = fields.file;
    this.line = fields.line;
    this.function = fields.function;
    this.details = Array.isArray(fields.details) && fields.details.length ? fields.details : undefined;
    this.errno = fields.errno ?? undefined;
    this.sqlState = fields.sqlState ?? undefined;
  }

  /** `file:line`, when known. */
  get where(): string | undefined {
    return this.file ? `${this.file}:${this.line ?? 0}` : undefined;
  }
}

/** Turns what the addon threw or rejected with (an Error carrying pyType & co.) into a PythonError. */
export function toPythonError(err: unknown): Error {
  if (err instanceof PythonError || !(err instanceof Error)) return err as Error;
  const fields = err as Error & Partial<PythonError>;
  if (fields.pyType === undefined) return err;
  const out = new PythonError(err.message, fields);
  out.stack = `${out.name}: ${out.message}\n${fields.pyTraceback ?? ''}`;
  return out;
}

/**
 * What Python receives for a failed JS call (see python/test_rig/errors.py
 * error_from_js). A database error carries its class (ts/errors.ts decides it,
 * from the one errno table): Python picks its exception class by that name.
 */
export function encodeErrorForPython(err: unknown): Record<string, unknown> {
  if (err instanceof Error) {
    const e = err as Error & { errno?: number; code?: string; sqlState?: string };
    return {
      name: e.name,
      message: e.message,
      errno: e.errno ?? null,
      code: e.code ?? null,
      sqlState: e.sqlState ?? null,
      errorClass: databaseErrorClass(err),
    };
  }
  return { name: 'Error', message: String(err), errorClass: null };
}

/** The class of a database (or connection) error; null for any other error. */
function databaseErrorClass(err: Error): ErrorClass | null {
  const e = err as Error & { errno?: unknown; code?: unknown; sqlState?: unknown };
  const cls = err instanceof DatabaseError ? err.errorClass : classifyError(err);
  if (cls !== 'other') return cls;
  // An unclassified error is the server's only when the server numbered it: a
  // local failure (ENOENT reading a LOAD DATA LOCAL file: errno -2) is not.
  return (typeof e.errno === 'number' && e.errno > 0) || typeof e.sqlState === 'string' ? 'other' : null;
}
