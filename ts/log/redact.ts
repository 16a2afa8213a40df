// Hiding secrets in text: literal passwords in SQL text, and registered
// secrets (the password) in every encoding test-rig or a handler may print
// them in. Used by the logger (every line it writes) and by the report
// pipeline (the free text of each case: output, SQL, failures).

/** What a masked secret is replaced with. */
export const REDACTED = '********';

/** Hides literal passwords in SQL (CREATE/ALTER USER ... IDENTIFIED BY '...', PASSWORD('...')). */
export function redactSecrets(sql: string): string {
  return sql
    .replace(/(IDENTIFIED\s+(?:WITH\s+\S+\s+)?BY\s+)('(?:[^'\\]|\\.|'')*'|"(?:[^"\\]|\\.|"")*")/gi, "$1'***'")
    .replace(/(PASSWORD\s*\(\s*)('(?:[^'\\]|\\.|'')*'|"(?:[^"\\]|\\.|"")*")/gi, "$1'***'");
}

// The encodings a secret can be printed in: as is, escaped inside SQL string
// literals (mysql2's backslash escapes, or quote doubling under
// NO_BACKSLASH_ESCAPES), inside JSON strings (Python's json.dumps escapes
// non-ASCII too), in Python's repr, in XML/HTML and in URLs. One level of
// nesting is covered too (a JSON document holding SQL text, and so on).
const SQL_BACKSLASH: Record<string, string> = {
  '\0': '\\0',
  '\b': '\\b',
  '\t': '\\t',
  '\n': '\\n',
  '\r': '\\r',
  '\x1a': '\\Z',
  '"': '\\"',
  "'": "\\'",
  '\\': '\\\\',
};

const ENCODINGS: ((s: string) => string)[] = [
  (s) => s.replace(/[\0\b\t\n\r\x1a"'\\]/g, (ch) => SQL_BACKSLASH[ch]),
  (s) => s.replace(/'/g, "''"),
  (s) => s.replace(/"/g, '""'),
  (s) => JSON.stringify(s).slice(1, -1),
  (s) =>
    JSON.stringify(s)
      .slice(1, -1)
      .replace(/[^\x20-\x7e]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`),
  pythonReprBody,
  (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;'),
  (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/'/g, '&#39;'),
  encodeURIComponent,
  // RFC 3986 (Python's urllib.parse.quote): also !'()*
  (s) => encodeURIComponent(s).replace(/[!'()*]/g, (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`),
];

/** The body of Python's `repr(s)` between its quotes (as when `'` is the quote). */
function pythonReprBody(s: string): string {
  return s.replace(/[\\'\x00-\x1f\x7f]/g, (ch) => {
    if (ch === '\\') return '\\\\';
    if (ch === "'") return "\\'";
    if (ch === '\n') return '\\n';
    if (ch === '\r') return '\\r';
    if (ch === '\t') return '\\t';
    return `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`;
  });
}

/** Every form `secret` may be printed in (itself first), deduplicated. */
export function secretForms(secret: string): string[] {
  const forms = new Set<string>([secret]);
  for (const first of [secret, ...ENCODINGS.map((e) => safeEncode(e, secret))]) {
    forms.add(first);
    for (const e of ENCODINGS) forms.add(safeEncode(e, first));
  }
  forms.delete('');
  return [...forms];
}

function safeEncode(encode: (s: string) => string, s: string): string {
  try {
    return encode(s);
  } catch {
    return s; // encodeURIComponent refuses lone surrogates
  }
}

// A form is masked only as a whole token: not when a letter, digit or `_`
// continues it on either side (`test` is not masked in `test_rig_12` or
// `latest`), nor a number's decimal part (`1` is not masked in `2.1` or `10`).
// Edges that are not word characters need no such check (`'pw'`, `"pw"`).
const WORD = '[\\p{L}\\p{N}_]';

function tokenPattern(form: string): string {
  const body = form.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  const starts = /^[\p{L}\p{N}_]/u.test(form);
  const ends = /[\p{L}\p{N}_]$/u.test(form);
  const before = starts ? `(?<!${WORD})${/^\p{N}/u.test(form) ? '(?<!\\p{N}[.,])' : ''}` : '';
  const after = ends ? `(?!${WORD})${/\p{N}$/u.test(form) ? '(?![.,]\\p{N})' : ''}` : '';
  return `${before}${body}${after}`;
}

/**
 * A function masking each of `secrets`, in each of its forms, wherever it
 * stands as a token of its own. One regular expression of literal
 * alternatives (longest first), so the cost is linear in the text.
 */
export function secretMasker(secrets: Iterable<string>): (text: string) => string {
  const forms = new Set<string>();
  for (const s of secrets) if (s) for (const f of secretForms(s)) forms.add(f);
  if (forms.size === 0) return (text) => text;
  const sorted = [...forms].sort((a, b) => b.length - a.length);
  const literals = sorted.filter((f) => f.length > 0);
  const re = new RegExp(literals.map(tokenPattern).join('|'), 'gu');
  // most text holds no form at all: a plain search is cheaper than the regex
  return (text) => {
    if (!literals.some((f) => text.includes(f))) return text;
    return text.replace(re, REDACTED);
  };
}
