// Recognises the statements the emulator answers itself (TiDB-only syntax and
// VERSION()); everything else is forwarded to MariaDB untouched.

export type EmulatedStatement =
  | { kind: 'version' }
  | { kind: 'tidb_version' }
  | { kind: 'show_jobs'; raw: boolean }
  | { kind: 'show_job'; raw: boolean; id: number }
  | { kind: 'cancel'; id: number }
  | { kind: 'import'; spec: ImportSpec }
  | { kind: 'forward' };

export interface ImportSpec {
  schema: string | null;
  table: string;
  columns: string[] | null;
  file: string;
  format: 'csv' | 'tsv';
  /** Lower-cased option name → value (true for bare options such as DETACHED). */
  options: Map<string, string | number | true>;
}

/** Raised for statements that look like ours but do not parse; maps to errno 1064. */
export class EmulatorSyntaxError extends Error {}

function stripLeading(sql: string): string {
  // Drop leading whitespace and comments, and a trailing semicolon.
  let s = sql.trim();
  for (;;) {
    if (s.startsWith('/*')) {
      const e = s.indexOf('*/');
      s = e < 0 ? '' : s.slice(e + 2).trimStart();
    } else if (s.startsWith('-- ') || s.startsWith('#')) {
      const e = s.indexOf('\n');
      s = e < 0 ? '' : s.slice(e + 1).trimStart();
    } else break;
  }
  return s.replace(/;\s*$/, '').trimEnd();
}

export function classify(sql: string): EmulatedStatement {
  const s = stripLeading(sql);
  const first = /^[A-Za-z]+/.exec(s)?.[0]?.toUpperCase();
  if (first !== 'SELECT' && first !== 'SHOW' && first !== 'CANCEL' && first !== 'IMPORT')
    return { kind: 'forward' };
  if (/^SELECT\s+VERSION\s*\(\s*\)$/i.test(s)) return { kind: 'version' };
  if (/^SELECT\s+TIDB_VERSION\s*\(\s*\)$/i.test(s)) return { kind: 'tidb_version' };
  let m = /^SHOW\s+(RAW\s+)?IMPORT\s+JOBS$/i.exec(s);
  if (m) return { kind: 'show_jobs', raw: Boolean(m[1]) };
  m = /^SHOW\s+(RAW\s+)?IMPORT\s+JOB\s+(\d+)$/i.exec(s);
  if (m) return { kind: 'show_job', raw: Boolean(m[1]), id: Number(m[2]) };
  m = /^CANCEL\s+IMPORT\s+JOB\s+(\d+)$/i.exec(s);
  if (m) return { kind: 'cancel', id: Number(m[1]) };
  if (/^IMPORT\s+INTO\b/i.test(s)) return { kind: 'import', spec: parseImport(s) };
  if (/^(SHOW\s+(RAW\s+)?IMPORT|CANCEL\s+IMPORT)\b/i.test(s)) {
    throw new EmulatorSyntaxError(`You have an error in your SQL syntax near '${s.slice(0, 40)}'`);
  }
  return { kind: 'forward' };
}

type Token = { t: 'id' | 'qid' | 'str' | 'num' | 'punct'; v: string };

function tokenize(s: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i];
    if (/\s/.test(c)) {
      i++;
    } else if (c === '`') {
      let v = '';
      i++;
      for (;;) {
        if (i >= s.length) throw new EmulatorSyntaxError('unterminated quoted identifier');
        if (s[i] === '`' && s[i + 1] === '`') {
          v += '`';
          i += 2;
        } else if (s[i] === '`') {
          i++;
          break;
        } else v += s[i++];
      }
      out.push({ t: 'qid', v });
    } else if (c === "'" || c === '"') {
      let v = '';
      i++;
      for (;;) {
        if (i >= s.length) throw new EmulatorSyntaxError('unterminated string');
        if (s[i] === '\\' && i + 1 < s.length) {
          const e = s[i + 1];
          v += { n: '\n', t: '\t', r: '\r', '0': '\0' }[e] ?? e;
          i += 2;
        } else if (s[i] === c && s[i + 1] === c) {
          v += c;
          i += 2;
        } else if (s[i] === c) {
          i++;
          break;
        } else v += s[i++];
      }
      out.push({ t: 'str', v });
    } else if (/[0-9]/.test(c)) {
      const m = /^[0-9]+(\.[0-9]+)?/.exec(s.slice(i))!;
      out.push({ t: 'num', v: m[0] });
      i += m[0].length;
    } else if (/[A-Za-z_@$]/.test(c)) {
      const m = /^[A-Za-z0-9_@$]+/.exec(s.slice(i))!;
      out.push({ t: 'id', v: m[0] });
      i += m[0].length;
    } else {
      out.push({ t: 'punct', v: c });
      i++;
    }
  }
  return out;
}

/** Parses `IMPORT INTO t [(cols)] FROM 'file' [FORMAT 'csv'|'tsv'] [WITH opt[=v], ...]`. */
export function parseImport(sql: string): ImportSpec {
  const toks = tokenize(sql);
  let p = 0;
  const peek = (): Token | undefined => toks[p];
  const kw = (word: string): boolean => {
    const t = toks[p];
    if (t && t.t === 'id' && t.v.toUpperCase() === word) {
      p++;
      return true;
    }
    return false;
  };
  const expectKw = (word: string): void => {
    if (!kw(word)) throw new EmulatorSyntaxError(`expected ${word} near '${peek()?.v ?? 'end'}'`);
  };
  const ident = (): string => {
    const t = toks[p++];
    if (!t || (t.t !== 'id' && t.t !== 'qid')) throw new EmulatorSyntaxError('expected an identifier');
    return t.v;
  };
  const punct = (c: string): boolean => {
    if (toks[p]?.t === 'punct' && toks[p].v === c) {
      p++;
      return true;
    }
    return false;
  };
  expectKw('IMPORT');
  expectKw('INTO');
  let schema: string | null = null;
  let table = ident();
  if (punct('.')) {
    schema = table;
    table = ident();
  }
  let columns: string[] | null = null;
  if (punct('(')) {
    columns = [];
    do columns.push(ident());
    while (punct(','));
    if (!punct(')')) throw new EmulatorSyntaxError("expected ')' after the column list");
  }
  if (toks[p]?.t === 'id' && toks[p].v.toUpperCase() === 'SET') {
    throw new EmulatorSyntaxError('the emulator does not support IMPORT INTO ... SET');
  }
  expectKw('FROM');
  const fileTok = toks[p++];
  if (!fileTok || fileTok.t !== 'str') {
    throw new EmulatorSyntaxError('the emulator only supports IMPORT INTO ... FROM a file path');
  }
  let format: 'csv' | 'tsv' = 'csv';
  if (kw('FORMAT')) {
    const f = toks[p++];
    const v = f?.v.toLowerCase();
    if (v !== 'csv' && v !== 'tsv') {
      throw new EmulatorSyntaxError(`unsupported format '${f?.v ?? ''}' (the emulator reads csv and tsv)`);
    }
    format = v;
  }
  const options = new Map<string, string | number | true>();
  if (kw('WITH')) {
    do {
      const name = ident().toLowerCase();
      if (punct('=')) {
        const v = toks[p++];
        if (!v) throw new EmulatorSyntaxError(`missing value for option ${name}`);
        options.set(name, v.t === 'num' ? Number(v.v) : v.v);
      } else options.set(name, true);
    } while (punct(','));
  }
  if (p < toks.length) throw new EmulatorSyntaxError(`unexpected '${toks[p].v}' in IMPORT INTO`);
  return { schema, table, columns, file: fileTok.v, format, options };
}
