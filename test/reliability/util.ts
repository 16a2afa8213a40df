// Shared by the reliability tests: fixture paths, report readers, server probes.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { rawConnection, testHostPort, testServer } from '../helpers/db.js';

export const RELIABILITY_FIXTURES = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../../test/reliability/fixtures',
);
export const SUITES = path.join(RELIABILITY_FIXTURES, 'suites');
export const SERVER_ARGS = ['-H', testHostPort, '-u', testServer.user, `--password=${testServer.password}`];

export interface CaseLine {
  event: string;
  id: string;
  class: string;
  status: string;
  message: string | null;
  where: string | null;
  traceback: string | null;
  database: string | null;
  attempts: number;
  output: { stream: string; text: string }[];
}

export function jsonLines(file: string): Record<string, unknown>[] {
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

export function casesOf(file: string): Map<string, CaseLine> {
  return new Map(
    jsonLines(file)
      .filter((l) => l.event === 'case')
      .map((l) => [String(l.class), l as unknown as CaseLine]),
  );
}

export interface JUnit {
  attrs: Record<string, string>;
  cases: { name: string; kind: string | null; message: string | null }[];
}

/** Parses JUnit XML with Python's ElementTree (a real XML parser): throws on malformed XML. */
export function parseJUnit(file: string): JUnit {
  const script = `
import json, sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
assert root.tag == "testsuites", root.tag
cases = []
for s in root.findall("testsuite"):
    for c in s.findall("testcase"):
        kids = [k for k in c if k.tag in ("failure", "error", "skipped", "flakyFailure")]
        cases.append({"name": c.get("name"), "kind": kids[0].tag if kids else None,
                      "message": kids[0].get("message") if kids else None})
print(json.dumps({"attrs": dict(root.attrib), "cases": cases}))
`;
  return JSON.parse(
    execFileSync('python3', ['-c', script, file], { encoding: 'utf8', maxBuffer: 1 << 28 }),
  ) as JUnit;
}

/** Which of these databases still exist on the test server. */
export async function existingDatabases(names: (string | null | undefined)[]): Promise<string[]> {
  const conn = await rawConnection();
  try {
    const [rows] = await conn.query('SHOW DATABASES');
    const have = new Set((rows as { Database: string }[]).map((r) => r.Database));
    return names.filter((n): n is string => typeof n === 'string' && have.has(n));
  } finally {
    await conn.end();
  }
}

/** Server threads (PROCESSLIST) and open InnoDB transactions among these connection ids. */
export async function liveThreads(ids: number[]): Promise<{ threads: number[]; transactions: number[] }> {
  const conn = await rawConnection();
  try {
    if (ids.length === 0) return { threads: [], transactions: [] };
    const [p] = await conn.query('SELECT ID AS id FROM information_schema.PROCESSLIST WHERE ID IN (?)', [
      ids,
    ]);
    const [t] = await conn.query(
      'SELECT trx_mysql_thread_id AS id FROM information_schema.INNODB_TRX WHERE trx_mysql_thread_id IN (?)',
      [ids],
    );
    return {
      threads: (p as { id: number }[]).map((r) => Number(r.id)),
      transactions: (t as { id: number }[]).map((r) => Number(r.id)),
    };
  } finally {
    await conn.end();
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
