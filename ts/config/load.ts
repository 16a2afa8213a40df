// Loading and validating configuration files (JSON, TOML, YAML) with line-accurate errors.
import fs from 'node:fs';
import path from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { LineCounter, parseDocument, isMap, isScalar, isPair, type Node as YamlNode } from 'yaml';
import { SCHEMA, checkValue, type TestRigConfig } from './schema.js';
import { jsonKeyLines, lineOfOffset, lookupLine, tomlKeyLines, type LineMap } from './positions.js';

export type ConfigFormat = 'json' | 'toml' | 'yaml';

/** A configuration problem; `message` is one or more `file:line: problem` lines. */
export class ConfigError extends Error {
  constructor(
    message: string,
    readonly problems: string[] = [message],
  ) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** Default search paths, relative to the working directory, in order. */
export const DEFAULT_CONFIG_PATHS = [
  'test-rig.json',
  'test-rig.toml',
  'test-rig.yaml',
  'test-rig.yml',
  'tidb_config.json',
  'tidb_config.toml',
  'config/tidb.json',
  'config/tidb.toml',
];

export function formatOf(file: string): ConfigFormat {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.toml') return 'toml';
  if (ext === '.yaml' || ext === '.yml') return 'yaml';
  if (ext === '.json' || ext === '') return 'json';
  throw new ConfigError(`${file}: unsupported config file extension "${ext}" (use .json, .toml or .yaml)`);
}

/** Finds the first default config file in `cwd`, if any. */
export function findConfigFile(cwd = process.cwd()): string | undefined {
  for (const p of DEFAULT_CONFIG_PATHS) {
    const full = path.join(cwd, p);
    if (fs.existsSync(full)) return full;
  }
  return undefined;
}

export interface LoadedConfig {
  path: string;
  format: ConfigFormat;
  config: TestRigConfig;
  /** Non-fatal remarks (e.g. a password in a file readable by others). */
  warnings: string[];
}

/** Deeper nesting than any real configuration (params included) has. */
export const MAX_CONFIG_DEPTH = 64;
/** Larger than any real configuration file. */
export const MAX_CONFIG_BYTES = 10 * 1024 * 1024;

/**
 * Parses and validates config text; `name` is used in messages. Hostile input
 * (deep nesting, alias bombs, parser failures of any kind) is a ConfigError
 * naming the file, never a crash.
 */
export function parseConfigText(text: string, format: ConfigFormat, name: string): TestRigConfig {
  try {
    return parseAndValidate(text, format, name);
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    throw new ConfigError(
      `${name}:1: cannot read this ${format.toUpperCase()} file: ${(e as Error).message}`,
    );
  }
}

function parseAndValidate(text: string, format: ConfigFormat, name: string): TestRigConfig {
  let data: unknown;
  let lines: LineMap;
  if (format === 'json') {
    try {
      data = JSON.parse(text);
    } catch (e) {
      const msg = (e as Error).message;
      const pos = /position (\d+)/.exec(msg);
      const line = /line (\d+)/.exec(msg)?.[1] ?? (pos ? String(lineOfOffset(text, Number(pos[1]))) : '1');
      throw new ConfigError(`${name}:${line}: invalid JSON: ${msg.replace(/ in JSON at position.*$/, '')}`);
    }
    lines = jsonKeyLines(text);
  } else if (format === 'toml') {
    try {
      data = parseToml(text);
    } catch (e) {
      const err = e as Error & { line?: number };
      const first = err.message.split('\n')[0].replace(/^Invalid TOML document: /, '');
      throw new ConfigError(`${name}:${err.line ?? 1}: invalid TOML: ${first}`);
    }
    lines = tomlKeyLines(text);
  } else {
    const lc = new LineCounter();
    const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
    if (doc.errors.length > 0) {
      const err = doc.errors[0];
      const line = err.linePos?.[0]?.line ?? lc.linePos(err.pos[0]).line;
      throw new ConfigError(`${name}:${line}: invalid YAML: ${err.message.split('\n')[0]}`);
    }
    data = doc.toJS();
    lines = new Map();
    const walk = (node: unknown, prefix: string[]) => {
      if (!isMap(node)) return;
      for (const pair of node.items) {
        if (!isPair(pair) || !isScalar(pair.key)) continue;
        const key = [...prefix, String(pair.key.value)];
        const range = (pair.key as YamlNode).range;
        if (range) lines.set(key.join('.'), lc.linePos(range[0]).line);
        walk(pair.value, key);
      }
    };
    walk(doc.contents, []);
  }
  if (data === null || data === undefined) return {};
  const depth = nestingDepth(data);
  if (depth > MAX_CONFIG_DEPTH)
    throw new ConfigError(`${name}:1: values nested more than ${MAX_CONFIG_DEPTH} levels deep`);
  return validate(data, lines, name);
}

/** How deeply `data` nests (iteratively: the input may be deeper than the stack), stopping past the limit. */
function nestingDepth(data: unknown): number {
  let max = 0;
  const stack: [unknown, number][] = [[data, 0]];
  while (stack.length) {
    const [v, d] = stack.pop()!;
    if (d > max) max = d;
    if (max > MAX_CONFIG_DEPTH) return max;
    if (v !== null && typeof v === 'object') for (const c of Object.values(v)) stack.push([c, d + 1]);
  }
  return max;
}

function validate(data: unknown, lines: LineMap, name: string): TestRigConfig {
  const problems: string[] = [];
  const at = (p: string[]) => `${name}:${lookupLine(lines, p) ?? 1}`;
  if (typeof data !== 'object' || Array.isArray(data)) {
    throw new ConfigError(`${name}:1: the configuration must be a table/object of sections`);
  }
  for (const [section, body] of Object.entries(data as Record<string, unknown>)) {
    // own keys only: `__proto__` or `constructor` is not a section or a key
    const schema = Object.hasOwn(SCHEMA, section) ? SCHEMA[section] : undefined;
    if (!schema) {
      problems.push(
        `${at([section])}: unknown section "${section}" (known: ${Object.keys(SCHEMA).join(', ')})`,
      );
      continue;
    }
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      problems.push(`${at([section])}: section "${section}" must be a table/object`);
      continue;
    }
    for (const [key, value] of Object.entries(body as Record<string, unknown>)) {
      const t = Object.hasOwn(schema, key) ? schema[key] : undefined;
      const full = `${section}.${key}`;
      if (!t) {
        const hint = suggest(key, Object.keys(schema));
        problems.push(
          `${at([section, key])}: unknown key "${full}"${hint ? ` (did you mean "${section}.${hint}"?)` : ''}`,
        );
        continue;
      }
      let problem = checkValue(t, value);
      // never echo a password value back
      if (problem && key === 'password') problem = problem.replace(/, got .*$/, '');
      if (problem) problems.push(`${at([section, key])}: "${full}" ${problem}`);
    }
  }
  if (problems.length) throw new ConfigError(problems.join('\n'), problems);
  // bigint (TOML integers beyond 2^53) to number
  return JSON.parse(
    JSON.stringify(data, (_k, v) => (typeof v === 'bigint' ? Number(v) : v)),
  ) as TestRigConfig;
}

function suggest(key: string, known: string[]): string | undefined {
  let best: string | undefined;
  let bestD = 3;
  for (const k of known) {
    const d = distance(key, k);
    if (d < bestD) {
      bestD = d;
      best = k;
    }
  }
  // a shortened name, as the CLI's flags spell some of them (user for username)
  return best ?? (key.length >= 3 ? known.find((k) => k.startsWith(key)) : undefined);
}

function distance(a: string, b: string): number {
  const dp = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array(b.length).fill(0)] as number[]);
  for (let j = 1; j <= b.length; j++) dp[0][j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++)
      dp[i][j] = Math.min(
        dp[i - 1][j] + 1,
        dp[i][j - 1] + 1,
        dp[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
  return dp[a.length][b.length];
}

/** Reads, parses and validates a config file. Throws ConfigError. */
export function loadConfigFile(file: string): LoadedConfig {
  const format = formatOf(file);
  let text: string;
  try {
    const size = fs.statSync(file).size;
    if (size > MAX_CONFIG_BYTES)
      throw new ConfigError(
        `${file}: config file is ${size} bytes, more than ${MAX_CONFIG_BYTES}: not a configuration?`,
      );
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new ConfigError(
      code === 'ENOENT' ? `${file}: config file not found` : `${file}: cannot read: ${(e as Error).message}`,
    );
  }
  const name = path.relative(process.cwd(), file).startsWith('..')
    ? file
    : path.relative(process.cwd(), file) || file;
  const config = parseConfigText(text, format, name);
  // TLS files named in a config file are relative to the file's folder, not the working directory
  const db = config.database;
  if (db) {
    for (const k of ['ssl_ca', 'ssl_cert', 'ssl_key'] as const) {
      const v = db[k];
      if (typeof v === 'string' && v !== '') db[k] = path.resolve(path.dirname(path.resolve(file)), v);
    }
  }
  const warnings: string[] = [];
  if (typeof config.database?.password === 'string' && process.platform !== 'win32') {
    const mode = fs.statSync(file).mode & 0o777;
    if (mode & 0o077) {
      warnings.push(
        `warning: ${name} holds a password and is readable by group/others (mode ${mode.toString(8)}); run: chmod 600 ${name}`,
      );
    }
  }
  return { path: file, format, config, warnings };
}
