// The data generator behind `test-rig gen-data` (replaces the old create_import.py):
// deterministic for a seed, streamed to the file with back-pressure, progress
// every 10 000 rows.
//
// Schemas:
//   simple  — `id,name,age`, no header;
//   complex — a 14-column header `id,name,email,phone,city,department,job_title,
//             salary,performance_score,hire_date,is_active,notes,
//             years_experience,projects_completed`; `is_active` is True/False and,
//             in CSV, only `notes` is quoted (it contains a comma).
import fs from 'node:fs';
import { once } from 'node:events';
import { openOutputFile, outputError } from '../io/output-file.js';

export type DataFormat = 'csv' | 'tsv';

export interface GenerateOptions {
  rows: number;
  format?: DataFormat;
  simple?: boolean;
  /** Same seed → same bytes. Default 42. */
  seed?: number;
  /** Output file path. */
  output: string;
  /** Called every `progressEvery` rows and at the end with the rows written so far. */
  progress?: (rowsWritten: number, total: number) => void;
  progressEvery?: number;
}

export const COMPLEX_COLUMNS = [
  'id',
  'name',
  'email',
  'phone',
  'city',
  'department',
  'job_title',
  'salary',
  'performance_score',
  'hire_date',
  'is_active',
  'notes',
  'years_experience',
  'projects_completed',
] as const;

export const SIMPLE_COLUMNS = ['id', 'name', 'age'] as const;

const FIRST = [
  'Alice',
  'Bob',
  'Carol',
  'David',
  'Eve',
  'Frank',
  'Grace',
  'Heidi',
  'Ivan',
  'Judy',
  'Mallory',
  'Niaj',
  'Olivia',
  'Peggy',
  'Rupert',
  'Sybil',
  'Trent',
  'Victor',
  'Walter',
  'Zoe',
];
const LAST = [
  'Smith',
  'Jones',
  'Brown',
  'Taylor',
  'Wilson',
  'Davies',
  'Evans',
  'Thomas',
  'Roberts',
  'Walker',
  'Wright',
  'Hall',
  'Green',
  'Wood',
  'Clarke',
  'Hughes',
];
const CITIES = [
  'New York',
  'London',
  'Tokyo',
  'Paris',
  'Berlin',
  'Sydney',
  'Toronto',
  'Beijing',
  'Singapore',
  'Madrid',
];
const DEPARTMENTS = ['Engineering', 'Sales', 'Marketing', 'Finance', 'HR', 'Operations', 'Support', 'Legal'];
const TITLES = [
  'Engineer',
  'Senior Engineer',
  'Manager',
  'Analyst',
  'Director',
  'Associate',
  'Consultant',
  'Specialist',
];
const NOTES = [
  'steady performer',
  'needs mentoring',
  'team lead candidate',
  'remote worker',
  'on probation',
  'top of the class',
];

/** mulberry32: small, fast, deterministic 32-bit PRNG. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Row generator: yields the lines (with terminator) of the file, header first for the complex schema. */
export function* lines(o: {
  rows: number;
  format?: DataFormat;
  simple?: boolean;
  seed?: number;
}): Generator<string> {
  const sep = (o.format ?? 'csv') === 'tsv' ? '\t' : ',';
  const csv = sep === ',';
  const rnd = prng(o.seed ?? 42);
  const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rnd() * xs.length)];
  if (!o.simple) yield COMPLEX_COLUMNS.join(sep) + '\n';
  for (let id = 1; id <= o.rows; id++) {
    const first = pick(FIRST);
    const last = pick(LAST);
    if (o.simple) {
      yield `${id}${sep}${first} ${last}${sep}${int(18, 80)}\n`;
      continue;
    }
    const email = `${first.toLowerCase()}.${last.toLowerCase()}${id}@example.com`;
    const phone = `555-${String(int(0, 999)).padStart(3, '0')}-${String(int(0, 9999)).padStart(4, '0')}`;
    const salary = (int(3000000, 20000000) / 100).toFixed(2);
    const score = (int(10, 50) / 10).toFixed(1);
    const hire = `${int(2000, 2024)}-${String(int(1, 12)).padStart(2, '0')}-${String(int(1, 28)).padStart(2, '0')}`;
    const active = rnd() < 0.8 ? 'True' : 'False';
    const note = `${pick(NOTES)}, review ${int(1, 4)}`;
    const notes = csv ? `"${note}"` : note;
    yield (
      [
        id,
        `${first} ${last}`,
        email,
        phone,
        pick(CITIES),
        pick(DEPARTMENTS),
        pick(TITLES),
        salary,
        score,
        hire,
        active,
        notes,
        int(0, 40),
        int(0, 200),
      ].join(sep) + '\n'
    );
  }
}

/** Writes the file; resolves to the number of data rows written (header not counted). */
export async function generateData(o: GenerateOptions): Promise<number> {
  if (!Number.isInteger(o.rows) || o.rows < 0)
    throw new RangeError(`rows must be a non-negative integer, got ${o.rows}`);
  const every = o.progressEvery ?? 10_000;
  // '-' is stdout; a path is written in place: a device or a symlink there is written into, never replaced
  const toStdout = o.output === '-';
  const out = fs.createWriteStream('', {
    fd: toStdout ? 1 : openOutputFile('the data', o.output),
    autoClose: !toStdout,
  });
  const failed = new Promise<never>((_, reject) =>
    out.once('error', (e) => reject(outputError('the data', o.output, e))),
  );
  failed.catch(() => undefined);
  let written = 0;
  let buf = '';
  const flush = async () => {
    if (!buf) return;
    const ok = out.write(buf);
    buf = '';
    if (!ok) await Promise.race([once(out, 'drain'), failed]);
  };
  let header = !o.simple;
  for (const line of lines(o)) {
    buf += line;
    if (buf.length >= 64 * 1024) await flush();
    if (header) header = false;
    else {
      written++;
      if (o.progress && every > 0 && written % every === 0) o.progress(written, o.rows);
    }
  }
  await flush();
  out.end();
  await Promise.race([once(out, 'finish'), failed]);
  if (o.progress && (every <= 0 || written % every !== 0)) o.progress(written, o.rows);
  return written;
}
