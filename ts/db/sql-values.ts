// The one place parameter values become SQL text, for TypeScript's Connection
// and (through it) the Python API. Every value is rendered as a literal the
// server reads back exactly, whatever the session's sql_mode:
//
// - strings are quoted with quotes doubled (never `\'`), so a value can never
//   end its literal; a backslash is escaped only when the session reads
//   backslash escapes, and under NO_BACKSLASH_ESCAPES a string holding one is
//   sent as `_utf8mb4 X'…'`, which no sql_mode reads differently (see
//   quoteString for why that matters even when the mode is known);
// - exact numbers (bigint, SqlLiteral.decimal) are unquoted integer/decimal
//   literals, so arithmetic on them stays exact; JS numbers that are not safe
//   integers are DOUBLE literals (`…e0`), as a JS number is a double;
// - temporal values are typed literals (DATE'…', TIME'…', TIMESTAMP'…');
// - bytes are X'…' literals.
//
// Placeholders are `?` outside string literals, quoted identifiers and comments.

/** Why a parameter was refused (sent as a TypeError: nothing reached the server). */
export class SqlParameterError extends TypeError {
  readonly code = 'SQL_PARAMETER';
  constructor(message: string) {
    super(message);
    this.name = 'TypeError';
  }
}

export type SqlLiteralKind = 'decimal' | 'double' | 'date' | 'time' | 'datetime';

// Strict shapes: what passes is exactly what the server will read.
const SHAPES: Readonly<Record<SqlLiteralKind, RegExp>> = {
  decimal: /^-?(?:\d+(?:\.\d*)?|\.\d+)$/,
  double: /^-?(?:\d+(?:\.\d*)?|\.\d+)(?:e[-+]?\d{1,3})?$/,
  date: /^\d{4}-\d{2}-\d{2}$/,
  // TIME's range is ±838:59:59.999999 (checked below)
  time: /^-?\d{1,3}:[0-5]\d:[0-5]\d(?:\.\d{1,6})?$/,
  datetime: /^\d{4}-\d{2}-\d{2} [0-2]\d:[0-5]\d:[0-5]\d(?:\.\d{1,6})?$/,
};
const HINTS: Readonly<Record<SqlLiteralKind, string>> = {
  decimal:
    "digits with an optional sign and point, no exponent, at most 65 digits and 30 after the point, e.g. '-12.30'",
  double: "a finite number, e.g. '2.0' or '1e+300'",
  date: "'YYYY-MM-DD'",
  time: "'[-]H:MM:SS[.ffffff]' within ±838:59:59.999999",
  datetime: "'YYYY-MM-DD HH:MM:SS[.ffffff]' in the session's time zone",
};
/**
 * DECIMAL's limits on every server we test (MySQL, TiDB: 65 digits, 30 after
 * the point): beyond them a literal is rounded or read as a DOUBLE.
 */
const MAX_DECIMAL_DIGITS = 65;
const MAX_DECIMAL_SCALE = 30;

/**
 * A value of a SQL type JavaScript has no exact type for, sent as an exact
 * literal: `SqlLiteral.decimal('0.10')` is the DECIMAL 0.10 (not a DOUBLE, not
 * a string), `SqlLiteral.datetime('2024-02-29 23:59:59.000001')` a DATETIME(6).
 */
export class SqlLiteral {
  private constructor(
    readonly kind: SqlLiteralKind,
    readonly text: string,
  ) {}

  static decimal(text: string): SqlLiteral {
    return SqlLiteral.of('decimal', text);
  }
  /** A DOUBLE, also when its value is whole (Python's `2.0`: a JS number 2 would be an integer). */
  static double(text: string): SqlLiteral {
    return SqlLiteral.of('double', text);
  }
  static date(text: string): SqlLiteral {
    return SqlLiteral.of('date', text);
  }
  static time(text: string): SqlLiteral {
    return SqlLiteral.of('time', text);
  }
  static datetime(text: string): SqlLiteral {
    return SqlLiteral.of('datetime', text);
  }

  static of(kind: SqlLiteralKind, text: string): SqlLiteral {
    const shape = SHAPES[kind] as RegExp | undefined;
    if (!shape) throw new SqlParameterError(`unknown SQL literal kind ${JSON.stringify(kind)}`);
    if (typeof text !== 'string' || !shape.test(text) || !inRange(kind, text)) {
      throw new SqlParameterError(`not a ${kind}: ${JSON.stringify(text)} (expected ${HINTS[kind]})`);
    }
    return new SqlLiteral(kind, text);
  }

  toSql(): string {
    switch (this.kind) {
      case 'decimal':
        // '5.' is DECIMAL(1,0); '5' would be an integer
        return this.text.includes('.') ? this.text : `${this.text}.`;
      case 'double':
        // an exponent makes it a DOUBLE literal
        return this.text.includes('e') ? this.text : `${this.text}e0`;
      case 'date':
        return `DATE'${this.text}'`;
      case 'time':
        return `TIME'${this.text}'`;
      case 'datetime':
        return `TIMESTAMP'${this.text}'`;
    }
  }
}

function inRange(kind: SqlLiteralKind, text: string): boolean {
  if (kind === 'decimal') {
    const [whole, fraction = ''] = text.replace(/^-/, '').split('.');
    const digits = whole.replace(/^0+/, '').length + fraction.length;
    return digits <= MAX_DECIMAL_DIGITS && fraction.length <= MAX_DECIMAL_SCALE;
  }
  if (kind === 'time') {
    const [h, rest] = text.replace(/^-/, '').split(/:(.*)/s);
    return Number(h) < 838 || (Number(h) === 838 && rest <= '59:59.999999');
  }
  return true;
}

const BACKSLASH = /\\/;
const QUOTE = /'/g;
const BACKSLASH_OR_QUOTE = /[\\']/g;

/**
 * A string as a literal. Quotes are doubled in every mode: `''` means one quote
 * whether or not the server reads backslash escapes, so a value can never close
 * its literal early. With backslash escapes on, a backslash is doubled too. Under
 * NO_BACKSLASH_ESCAPES a string with a backslash is sent as hex: the server's
 * status flag is how we know the mode, and MariaDB reports the mode of the last
 * statement, which `SET STATEMENT sql_mode=… FOR` makes differ from the
 * session's: a raw backslash sent on a wrong belief would escape our closing
 * quote. Hex has no such dependency (its collation is utf8mb4's default rather
 * than the connection's: the price of the rare case).
 */
function quoteString(s: string, noBackslashEscapes: boolean): string {
  if (!(s as unknown as { isWellFormed(): boolean }).isWellFormed()) {
    throw new SqlParameterError('cannot send a string with a lone UTF-16 surrogate: it has no UTF-8 form');
  }
  if (!noBackslashEscapes) {
    return `'${s.replace(BACKSLASH_OR_QUOTE, (c) => (c === "'" ? "''" : '\\\\'))}'`;
  }
  if (BACKSLASH.test(s)) return `_utf8mb4 X'${Buffer.from(s, 'utf8').toString('hex')}'`;
  return `'${s.replace(QUOTE, "''")}'`;
}

function numberLiteral(n: number): string {
  if (!Number.isFinite(n)) {
    throw new SqlParameterError(`cannot send ${n} to the database: SQL has no NaN or Infinity (use NULL)`);
  }
  if (Number.isSafeInteger(n) && !Object.is(n, -0)) return String(n);
  // A double: an exponent makes the server read a DOUBLE, not a DECIMAL.
  const text = Object.is(n, -0) ? '-0' : String(n);
  return /e/i.test(text) ? text : `${text}e0`;
}

function bigintLiteral(n: bigint): string {
  const text = n.toString();
  if (text.replace('-', '').length > MAX_DECIMAL_DIGITS) {
    throw new SqlParameterError(
      `cannot send an integer of ${text.replace('-', '').length} digits: DECIMAL holds at most ${MAX_DECIMAL_DIGITS}`,
    );
  }
  return text;
}

/** One parameter as SQL. Arrays become `a, b` lists (nested ones `(a, b), (c, d)`), for IN (?) and VALUES ?. */
export function sqlValue(v: unknown, noBackslashEscapes: boolean, nested = false): string {
  switch (typeof v) {
    case 'string':
      return quoteString(v, noBackslashEscapes);
    case 'number':
      return numberLiteral(v);
    case 'bigint':
      return bigintLiteral(v);
    case 'boolean':
      return v ? 'TRUE' : 'FALSE';
    case 'undefined':
      return 'NULL';
    case 'object': {
      if (v === null) return 'NULL';
      if (v instanceof SqlLiteral) return v.toSql();
      if (v instanceof Uint8Array)
        return `X'${Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex')}'`;
      if (Array.isArray(v)) {
        if (v.length === 0) throw new SqlParameterError('cannot send an empty list: `IN ()` is not SQL');
        const items = v.map((x) => sqlValue(x, noBackslashEscapes, true)).join(', ');
        return nested ? `(${items})` : items;
      }
      if (v instanceof Date) {
        throw new SqlParameterError(
          "cannot send a JS Date: it is an instant, not a DATETIME; pass SqlLiteral.datetime('YYYY-MM-DD HH:MM:SS.ffffff') in the session's time zone",
        );
      }
      throw new SqlParameterError(
        `cannot send a ${v.constructor?.name ?? 'plain object'} to the database; for JSON pass JSON.stringify(value)`,
      );
    }
    default:
      throw new SqlParameterError(`cannot send a ${typeof v} to the database`);
  }
}

/**
 * Where the `?` placeholders of `sql` are: outside '…' and "…" strings, `…`
 * identifiers and comments (`-- `, `#`, `/* … *\/`; executable comments
 * `/*! … *\/` are code). Inside strings a backslash escapes the next character
 * unless the session has NO_BACKSLASH_ESCAPES.
 */
export function placeholderOffsets(sql: string, noBackslashEscapes: boolean): number[] {
  const out: number[] = [];
  const n = sql.length;
  let i = 0;
  while (i < n) {
    const c = sql.charCodeAt(i);
    if (c === 0x3f /* ? */) {
      out.push(i++);
    } else if (c === 0x27 /* ' */ || c === 0x22 /* " */ || c === 0x60 /* ` */) {
      i++;
      while (i < n) {
        const d = sql.charCodeAt(i);
        if (d === 0x5c /* \ */ && c !== 0x60 && !noBackslashEscapes) i += 2;
        else if (d === c) {
          if (sql.charCodeAt(i + 1) === c) i += 2;
          else break;
        } else i++;
      }
      i++;
    } else if (c === 0x23 /* # */ || (c === 0x2d /* - */ && isDashComment(sql, i))) {
      while (i < n && sql.charCodeAt(i) !== 0x0a) i++;
    } else if (c === 0x2f /* / */ && sql.charCodeAt(i + 1) === 0x2a /* * */) {
      const next = sql[i + 2];
      if (next === '!' || (next === 'M' && sql[i + 3] === '!')) {
        i += next === '!' ? 3 : 4; // its content is code; the closing */ is skipped below
      } else {
        const end = sql.indexOf('*/', i + 2);
        i = end < 0 ? n : end + 2;
      }
    } else if (c === 0x2a /* * */ && sql.charCodeAt(i + 1) === 0x2f /* / */) {
      i += 2; // end of an executable comment
    } else {
      i++;
    }
  }
  return out;
}

/** `--` starts a comment when followed by whitespace, a control character or the end. */
function isDashComment(sql: string, i: number): boolean {
  if (sql.charCodeAt(i + 1) !== 0x2d) return false;
  const after = sql.charCodeAt(i + 2);
  return Number.isNaN(after) || after <= 0x20;
}

/** `sql` with each placeholder replaced by its parameter's literal; refuses a count mismatch before anything is sent. */
export function formatQuery(sql: string, params: readonly unknown[], noBackslashEscapes: boolean): string {
  const at = placeholderOffsets(sql, noBackslashEscapes);
  if (at.length !== params.length) {
    throw new SqlParameterError(
      `the statement has ${at.length} placeholder${at.length === 1 ? '' : 's'} but ${params.length} parameter${params.length === 1 ? ' was' : 's were'} given`,
    );
  }
  if (at.length === 0) return sql;
  let out = '';
  let from = 0;
  for (let k = 0; k < at.length; k++) {
    out += sql.slice(from, at[k]) + sqlValue(params[k], noBackslashEscapes);
    from = at[k] + 1;
  }
  return out + sql.slice(from);
}
