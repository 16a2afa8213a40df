// One errno → class table (ts/errors.ts): TypeScript classifies a database
// error and sends the class with it; Python raises the exception of that class.
// Each listed errno and driver code must come out the same on both sides.
import assert from 'node:assert/strict';
import {
  CODE_CLASSES,
  DatabaseError,
  ERRNO_CLASSES,
  ERROR_CLASSES,
  PythonRuntime,
  type ErrorClass,
  type PyRef,
} from '../../ts/index.js';
import { encodeErrorForPython } from '../../ts/python/errors.js';

/** The Python exception each TypeScript class must raise (python-api.md, "Errors"). */
const PYTHON_CLASS: Record<ErrorClass, string> = {
  connection_lost: 'ConnectionLostError',
  connection_refused: 'OperationalError',
  host_unreachable: 'OperationalError',
  dns: 'OperationalError',
  timeout: 'OperationalError',
  server_busy: 'OperationalError',
  circuit_open: 'OperationalError',
  aborted: 'OperationalError',
  access_denied: 'AccessDeniedError',
  unknown_database: 'UnknownDatabaseError',
  syntax: 'SQLSyntaxError',
  no_such_table: 'NoSuchTableError',
  lock_wait_timeout: 'LockWaitTimeoutError',
  deadlock: 'DeadlockError',
  write_conflict: 'WriteConflictError',
  duplicate_key: 'DuplicateKeyError',
  foreign_key: 'ForeignKeyError',
  check_constraint: 'CheckConstraintError',
  not_null: 'NotNullError',
  unsupported: 'UnsupportedError',
  other: 'DatabaseError',
};

describe('error classes: one table, the same class in TypeScript and Python', () => {
  const rt = PythonRuntime.get();
  const errors = rt.importModule('test_rig.errors');
  const builtins = rt.importModule('builtins');
  const attr = (obj: PyRef, name: string): unknown => rt.call(builtins, 'getattr', [obj, name]);

  /** The Python exception a failed JS call with `err` raises in a handler: [type name, error_class]. */
  function inPython(err: unknown): [string, unknown] {
    const exc = rt.call(errors, 'error_from_js', [encodeErrorForPython(err)]) as PyRef;
    return [attr(rt.call(builtins, 'type', [exc]) as PyRef, '__name__') as string, attr(exc, 'error_class')];
  }

  /** A driver error as mysql2 rejects with it, wrapped as the connection layer does. */
  const driverError = (fields: { errno?: number; code?: string }) =>
    DatabaseError.from(Object.assign(new Error(`driver error ${fields.errno ?? fields.code}`), fields));

  it('every class has its Python exception, and Python knows no other class', () => {
    const mapped = Object.keys(rt.call(builtins, 'dict', [attr(errors, 'BY_ERROR_CLASS')]) as object);
    assert.deepEqual([...mapped].sort(), [...ERROR_CLASSES].sort());
  });

  it('each errno of the table: TypeScript class = Python exception class', () => {
    for (const [errno, cls] of ERRNO_CLASSES) {
      const err = driverError({ errno });
      assert.equal(err.errorClass, cls, `errno ${errno} in TypeScript`);
      assert.deepEqual(inPython(err), [PYTHON_CLASS[cls], cls], `errno ${errno} in Python`);
    }
  });

  it('each driver code of the table: TypeScript class = Python exception class', () => {
    for (const [code, cls] of CODE_CLASSES) {
      const err = driverError({ code });
      assert.equal(err.errorClass, cls, `${code} in TypeScript`);
      assert.deepEqual(inPython(err), [PYTHON_CLASS[cls], cls], `${code} in Python`);
    }
  });

  it('the cases where the two tables used to differ', () => {
    assert.deepEqual(inPython(driverError({ errno: 1053 })), ['ConnectionLostError', 'connection_lost']);
    assert.deepEqual(inPython(driverError({ errno: 4031 })), ['ConnectionLostError', 'connection_lost']);
    assert.deepEqual(inPython(driverError({ errno: 8022 })), ['WriteConflictError', 'write_conflict']);
    assert.deepEqual(inPython(driverError({ errno: 8028 })), ['WriteConflictError', 'write_conflict']);
    assert.deepEqual(inPython(driverError({ code: 'ECONNREFUSED' })), [
      'OperationalError',
      'connection_refused',
    ]);
  });

  it('an unknown errno is a plain DatabaseError; an error that is not a database error is a JsError', () => {
    assert.deepEqual(inPython(driverError({ errno: 1290 })), ['DatabaseError', 'other']);
    const exc = rt.call(errors, 'error_from_js', [
      encodeErrorForPython(new TypeError('bad from js')),
    ]) as PyRef;
    assert.equal(rt.call(builtins, 'repr', [exc]), "JsError('bad from js')");
  });
});
