// CSV/TSV record reader for the emulator's IMPORT INTO, following TiDB's option
// names and defaults (fields_terminated_by, fields_enclosed_by, fields_escaped_by,
// lines_terminated_by, fields_defined_null_by). Works on an in-memory string: the
// emulator only imports small fixture files.

export interface CsvOptions {
  fieldsTerminatedBy: string;
  fieldsEnclosedBy: string;
  fieldsEscapedBy: string;
  /** '' means "\n" or "\r\n". */
  linesTerminatedBy: string;
  fieldsDefinedNullBy: string;
}

export interface CsvRecord {
  /** null is SQL NULL. */
  fields: (string | null)[];
  /** 1-based line where the record started. */
  line: number;
  /** Character offset of the record's start (for error messages like TiDB's). */
  offset: number;
}

const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', '0': '\0', b: '\b', Z: '\x1a' };

export function defaultCsvOptions(format: 'csv' | 'tsv'): CsvOptions {
  return format === 'tsv'
    ? {
        fieldsTerminatedBy: '\t',
        fieldsEnclosedBy: '',
        fieldsEscapedBy: '\\',
        linesTerminatedBy: '',
        fieldsDefinedNullBy: '\\N',
      }
    : {
        fieldsTerminatedBy: ',',
        fieldsEnclosedBy: '"',
        fieldsEscapedBy: '\\',
        linesTerminatedBy: '',
        fieldsDefinedNullBy: '\\N',
      };
}

/** Yields records one at a time so the loader can work chunk by chunk. */
export function* readRecords(text: string, o: CsvOptions): Generator<CsvRecord> {
  const sep = o.fieldsTerminatedBy;
  const quote = o.fieldsEnclosedBy;
  const esc = o.fieldsEscapedBy;
  const eol = o.linesTerminatedBy;
  let i = 0;
  let line = 1;
  const n = text.length;
  const atEol = (p: number): number => {
    if (eol) return text.startsWith(eol, p) ? eol.length : 0;
    if (text[p] === '\n') return 1;
    if (text[p] === '\r' && text[p + 1] === '\n') return 2;
    return 0;
  };
  while (i < n) {
    const startLine = line;
    const startOffset = i;
    const fields: (string | null)[] = [];
    let endOfRecord = false;
    while (!endOfRecord) {
      let value = '';
      let quoted = false;
      let raw = true; // unquoted and unescaped, so it can match the NULL marker
      if (quote && text.startsWith(quote, i)) {
        quoted = true;
        raw = false;
        i += quote.length;
        for (;;) {
          if (i >= n) throw new Error(`syntax error: unterminated quoted field at line ${startLine}`);
          if (esc && text.startsWith(esc, i) && i + esc.length < n) {
            const c = text[i + esc.length];
            value += ESCAPES[c] ?? c;
            i += esc.length + 1;
          } else if (text.startsWith(quote + quote, i)) {
            value += quote;
            i += quote.length * 2;
          } else if (text.startsWith(quote, i)) {
            i += quote.length;
            break;
          } else {
            if (text[i] === '\n') line++;
            value += text[i++];
          }
        }
      } else {
        for (;;) {
          if (i >= n || text.startsWith(sep, i) || atEol(i)) break;
          if (esc && text.startsWith(esc, i) && i + esc.length < n) {
            const c = text[i + esc.length];
            if (c === 'N' && esc + 'N' === o.fieldsDefinedNullBy) {
              value += o.fieldsDefinedNullBy;
            } else {
              value += ESCAPES[c] ?? c;
              raw = false;
            }
            i += esc.length + 1;
          } else {
            value += text[i++];
          }
        }
      }
      fields.push(!quoted && raw && value === o.fieldsDefinedNullBy ? null : value);
      if (text.startsWith(sep, i)) {
        i += sep.length;
        continue;
      }
      const e = atEol(i);
      if (e) {
        i += e;
        line++;
      } else if (i < n) {
        throw new Error(`syntax error: unexpected data after quoted field at line ${startLine}`);
      }
      endOfRecord = true;
    }
    // A blank line is not a record.
    if (fields.length === 1 && fields[0] === '') continue;
    yield { fields, line: startLine, offset: startOffset };
  }
}
