// Line numbers of keys in JSON and TOML text (YAML uses the parser's node ranges).
// Paths are dotted ("database.host"); lines are 1-based.

export type LineMap = Map<string, number>;

export function lineOfOffset(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/** Nearest known line for a path (walks up to the parent when the exact key is unknown). */
export function lookupLine(map: LineMap, path: string[]): number | undefined {
  for (let n = path.length; n > 0; n--) {
    const l = map.get(path.slice(0, n).join('.'));
    if (l !== undefined) return l;
  }
  return undefined;
}

/** Scans JSON text (already known to parse) and records the line of every object key. */
export function jsonKeyLines(text: string): LineMap {
  const map: LineMap = new Map();
  // stack of containers: for objects, the current key; for arrays, the index
  const stack: { type: 'obj' | 'arr'; key?: string; index: number }[] = [];
  let line = 1;
  let i = 0;
  let pendingKey: string | undefined;
  const pathOf = () => stack.filter((f) => f.type === 'obj' && f.key !== undefined).map((f) => f.key!);
  while (i < text.length) {
    const ch = text[i];
    if (ch === '\n') {
      line++;
      i++;
    } else if (ch === '"') {
      const start = i;
      i++;
      while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
      i++;
      const str = JSON.parse(text.slice(start, i)) as string;
      // is it a key? look ahead for ':'
      let j = i;
      while (j < text.length && /\s/.test(text[j])) j++;
      const top = stack[stack.length - 1];
      if (text[j] === ':' && top && top.type === 'obj') {
        top.key = str;
        map.set(pathOf().join('.'), line);
        pendingKey = str;
      }
    } else if (ch === '{' || ch === '[') {
      stack.push({ type: ch === '{' ? 'obj' : 'arr', index: 0 });
      i++;
    } else if (ch === '}' || ch === ']') {
      stack.pop();
      i++;
    } else {
      i++;
    }
  }
  void pendingKey;
  return map;
}

/**
 * Records the line of every table header and key in TOML text (parsed successfully
 * beforehand). Handles `[a.b]`, `[[a]]`, `key = …` and dotted/quoted keys; inline
 * tables and multi-line strings are attributed to the line of their key.
 */
export function tomlKeyLines(text: string): LineMap {
  const map: LineMap = new Map();
  let table: string[] = [];
  const lines = text.split('\n');
  let inMultiline: string | undefined;
  for (let n = 0; n < lines.length; n++) {
    const raw = lines[n];
    if (inMultiline) {
      if (raw.includes(inMultiline)) inMultiline = undefined;
      continue;
    }
    const s = raw.trim();
    if (!s || s.startsWith('#')) continue;
    const header = /^\[\[?\s*([^\]]+?)\s*\]\]?/.exec(s);
    if (header) {
      table = splitKey(header[1]);
      if (!map.has(table.join('.'))) map.set(table.join('.'), n + 1);
      continue;
    }
    const eq = findEquals(s);
    if (eq > 0) {
      const key = splitKey(s.slice(0, eq).trim());
      const full = [...table, ...key];
      for (let k = table.length + 1; k <= full.length; k++) {
        const p = full.slice(0, k).join('.');
        if (!map.has(p)) map.set(p, n + 1);
      }
      const rest = s.slice(eq + 1).trim();
      for (const q of ['"""', "'''"]) {
        if (rest.startsWith(q) && rest.indexOf(q, 3) < 0) inMultiline = q;
      }
    }
  }
  return map;
}

function findEquals(s: string): number {
  let quote: string | undefined;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (quote) {
      if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '=') return i;
  }
  return -1;
}

function splitKey(k: string): string[] {
  const parts: string[] = [];
  let cur = '';
  let quote: string | undefined;
  for (const c of k) {
    if (quote) {
      if (c === quote) quote = undefined;
      else cur += c;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '.') {
      parts.push(cur.trim());
      cur = '';
    } else cur += c;
  }
  parts.push(cur.trim());
  return parts;
}
