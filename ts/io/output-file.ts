// Every file test-rig writes for the user (reports, logs, generated data) goes
// through here, so that a path naming something other than a regular file is
// never replaced: a device (`/dev/null`, `/dev/stdout`), a FIFO or a socket is
// written in place, a symlink is written through (the link stays a link), and a
// directory is refused. Only a regular file (or a new one) is replaced
// atomically, by a temporary file renamed over it in the same folder.
import fs from 'node:fs';
import path from 'node:path';

/** A file that cannot be written: one line naming it, what it is for and why. */
export class OutputFileError extends Error {
  override name = 'OutputFileError';
  constructor(
    message: string,
    readonly hint?: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

const REASONS: Record<string, string> = {
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  EISDIR: 'it is a directory',
  ENOTDIR: 'a parent of it is not a directory',
  ENOENT: 'no such file or directory',
  ENAMETOOLONG: 'the name is too long',
  ELOOP: 'too many levels of symbolic links',
  EIO: 'input/output error',
  EFBIG: 'file too large',
};

/** Turns a file system error into an OutputFileError for `what` (e.g. "the JUnit report") at `file`. */
export function outputError(what: string, file: string, err: unknown): OutputFileError {
  if (err instanceof OutputFileError) return err;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const reason = (code && REASONS[code]) ?? (err instanceof Error ? err.message : String(err));
  const hint =
    code === 'EISDIR'
      ? 'give a file name, not a folder'
      : code === 'ENOSPC' || code === 'EDQUOT'
        ? 'free some space or write elsewhere'
        : code === 'EACCES' || code === 'EPERM' || code === 'EROFS'
          ? 'choose a writable location'
          : undefined;
  return new OutputFileError(
    `cannot write ${what} to ${file}: ${reason}${code ? ` (${code})` : ''}`,
    hint,
    code,
  );
}

/** stat() that returns undefined for a path that does not exist (or is a dangling symlink). */
function statOrUndefined(file: string): fs.Stats | undefined {
  try {
    return fs.statSync(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/**
 * Where a new file named `file` would be created: `file` itself, or, when it is
 * a (chain of) dangling symlink(s), the path the last link points to.
 */
function creationTarget(file: string): string {
  let p = path.resolve(file);
  for (let hops = 0; hops < 40; hops++) {
    let st: fs.Stats;
    try {
      st = fs.lstatSync(p);
    } catch {
      return p;
    }
    if (!st.isSymbolicLink()) return p;
    p = path.resolve(path.dirname(p), fs.readlinkSync(p));
  }
  throw Object.assign(new Error('too many levels of symbolic links'), { code: 'ELOOP' });
}

/**
 * Checks, before a run, that `file` can be written later: it is not a
 * directory and its folder exists (it is created) and is writable. Throws
 * OutputFileError.
 */
export function checkOutputFile(what: string, file: string): void {
  try {
    const st = statOrUndefined(file);
    if (st?.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    if (st && !st.isFile()) return; // a device, FIFO or socket: written in place
    const target = st ? fs.realpathSync(file) : creationTarget(file);
    const dir = path.dirname(target);
    fs.mkdirSync(dir, { recursive: true });
    if (st) fs.accessSync(target, fs.constants.W_OK);
    else fs.accessSync(dir, fs.constants.W_OK);
  } catch (e) {
    throw outputError(what, file, e);
  }
}

/** Writes all of `data` to an open descriptor. */
function writeAll(fd: number, data: string | Uint8Array): void {
  const buf = typeof data === 'string' ? Buffer.from(data) : data;
  let off = 0;
  while (off < buf.length) off += fs.writeSync(fd, buf, off, buf.length - off);
}

/**
 * Replaces the content of `file` with `data`. A regular file (or a new one) is
 * replaced atomically (a reader never sees half a report); anything else that
 * exists is written in place; a directory is refused. Throws OutputFileError.
 */
export function writeOutputFile(what: string, file: string, data: string | Uint8Array): void {
  try {
    const st = statOrUndefined(file);
    if (st?.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    if (st && !st.isFile()) {
      // never rename over a device, FIFO or socket: write into it
      const fd = fs.openSync(file, 'w');
      try {
        writeAll(fd, data);
      } finally {
        fs.closeSync(fd);
      }
      return;
    }
    // a symlink is written through: the file it points to is replaced, the link stays
    const target = st ? fs.realpathSync(file) : creationTarget(file);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    const tmp = path.join(path.dirname(target), `.${path.basename(target)}.tmp-${process.pid}`);
    let fd: number;
    try {
      fd = fs.openSync(tmp, 'wx', st ? st.mode & 0o7777 : 0o666);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      // a writable file in a folder we may not create files in: write it in place
      if (st && (code === 'EACCES' || code === 'EPERM')) return writeInPlace(file, data);
      throw e;
    }
    try {
      try {
        writeAll(fd, data);
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
      fs.renameSync(tmp, target);
    } catch (e) {
      fs.rmSync(tmp, { force: true });
      throw e;
    }
  } catch (e) {
    throw outputError(what, file, e);
  }
}

function writeInPlace(file: string, data: string | Uint8Array): void {
  const fd = fs.openSync(file, 'w');
  try {
    writeAll(fd, data);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Opens `file` for writing as it goes (JSON lines, logs, generated data):
 * always in place (through symlinks, into devices), truncated unless
 * `append`. A directory is refused; a missing folder is created. Returns the
 * descriptor. Throws OutputFileError.
 */
export function openOutputFile(
  what: string,
  file: string,
  options: { append?: boolean; mode?: number } = {},
): number {
  try {
    const st = statOrUndefined(file);
    if (st?.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    if (!st) fs.mkdirSync(path.dirname(creationTarget(file)), { recursive: true });
    return fs.openSync(file, options.append ? 'a' : 'w', options.mode ?? 0o666);
  } catch (e) {
    throw outputError(what, file, e);
  }
}

/** Writes `text` to `fd`, all of it; errors become OutputFileError for `what` at `file`. */
export function writeToOutput(what: string, file: string, fd: number, text: string | Uint8Array): void {
  try {
    writeAll(fd, text);
  } catch (e) {
    throw outputError(what, file, e);
  }
}
